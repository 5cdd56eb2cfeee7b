"""Rule checks (what Okapi CheckMate and Xbench do), built from configuration and run per segment.

Check classes are named in a lazy table (name -> "module:Class") so that importing this package
costs nothing; a check's module is imported when the check is built. ``build_checks`` turns a
``CheckConfig`` into check objects; ``run_checks`` runs them over one segment.

A check whose resource is missing for a segment (a spelling dictionary for its language) stands
aside: its ``unavailable_reason`` is logged once per check and language, never per segment.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tqcheck.errors import ConfigError

if TYPE_CHECKING:
    from tqcheck.checks.base import Check
    from tqcheck.config import CheckConfig
    from tqcheck.model import Flag, Segment

__all__ = ["CHECKS", "DEFAULT_CHECKS", "build_checks", "check_class", "run_checks"]

log = logging.getLogger("tqcheck.checks")

#: Every check by name. Order is the order checks run in (and flags of equal spans are listed).
CHECKS: dict[str, str] = {
    "empty": "tqcheck.checks.empty:EmptyCheck",
    "numbers": "tqcheck.checks.numbers:NumbersCheck",
    "urls_handles": "tqcheck.checks.urls_handles:UrlsHandlesCheck",
    "tags": "tqcheck.checks.tags:TagsCheck",
    "brackets_quotes": "tqcheck.checks.brackets_quotes:BracketsQuotesCheck",
    "spacing": "tqcheck.checks.spacing:SpacingCheck",
    "end_punctuation": "tqcheck.checks.end_punctuation:EndPunctuationCheck",
    "capitalization": "tqcheck.checks.capitalization:CapitalizationCheck",
    "repeats": "tqcheck.checks.repeats:RepeatsCheck",
    "untranslated": "tqcheck.checks.untranslated:UntranslatedCheck",
    "length_ratio": "tqcheck.checks.length_ratio:LengthRatioCheck",
    "entities": "tqcheck.checks.entities:EntitiesCheck",
    "glossary": "tqcheck.checks.glossary:GlossaryCheck",
    "spelling": "tqcheck.checks.spelling:SpellingCheck",
}

#: Checks run when the configuration does not name any. ``glossary`` joins them when a glossary
#: file is configured.
DEFAULT_CHECKS: tuple[str, ...] = tuple(name for name in CHECKS if name != "glossary")


def check_class(name: str) -> type[Check]:
    """The class of check ``name``, imported on demand."""
    try:
        path = CHECKS[name]
    except KeyError:
        raise ConfigError(f"unknown check {name!r}", fix=f"known checks: {', '.join(CHECKS)}") from None
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def build_checks(config: CheckConfig) -> list[Check]:
    """The checks a configuration asks for, constructed with their options.

    ``config.enable`` (None: the defaults) selects checks, ``config.disable`` removes some,
    ``config.check_options[name]`` are keyword options of check ``name`` and ``config.glossary`` is
    the glossary file (it turns the glossary check on unless disabled).
    """
    names_in_config = [*(config.enable or ()), *config.disable, *config.check_options]
    unknown = sorted({n for n in names_in_config if n not in CHECKS})
    if unknown:
        raise ConfigError(f"unknown check(s) {unknown}", fix=f"known checks: {', '.join(CHECKS)}")

    if config.enable is not None:
        selected = [n for n in CHECKS if n in set(config.enable)]
    else:
        selected = list(DEFAULT_CHECKS)
        if config.glossary or "path" in config.check_options.get("glossary", {}):
            selected.append("glossary")
    disabled = set(config.disable)
    checks = []
    for name in selected:
        if name in disabled:
            continue
        options: dict[str, Any] = dict(config.check_options.get(name, {}))
        if name == "glossary" and config.glossary and "path" not in options:
            options["path"] = config.glossary
        cls = check_class(name)
        try:
            checks.append(cls(**options))
        except TypeError as exc:
            raise ConfigError(f"invalid options for check {name!r}: {exc}",
                              where=f"[checks.{name}]",
                              fix=cls.options_help() if hasattr(cls, "options_help") else None
                              ) from exc
    return checks


def _sort_key(flag: Flag) -> tuple[int, int, int]:
    span = flag.span
    if span is None:
        return (0, -1, -1)
    return (1 if span.side.value == "mt" else 2, span.start, span.end)


def run_checks(checks: Sequence[Check], segment: Segment) -> list[Flag]:
    """All flags the checks raise on ``segment``.

    Flags are sorted: segment-level flags (no span) first, then MT spans by start, then source spans
    by start; checks keep their table order among equal spans, and of two flags with the same span
    and category only the first is kept. Checks that need a source are skipped in target-only mode;
    a check with an ``unavailable_reason`` is skipped and the reason logged once.
    """
    flags: list[Flag] = []
    for check in checks:
        if check.needs_source and segment.source is None:
            continue
        reason = check.unavailable_reason(segment)
        if reason is not None:
            _note_unavailable(check, segment, reason)
            continue
        try:
            flags.extend(check.run(segment))
        except Exception as exc:  # keep the cause, say where
            exc.add_note(f"in check {check.name!r} on segment {segment.id!r}"
                         + (f" ({segment.origin})" if segment.origin else ""))
            raise
    flags.sort(key=_sort_key)
    return _dedupe(flags)


def _dedupe(flags: list[Flag]) -> list[Flag]:
    """Drop a flag with the same span and category as an earlier one (two checks, one finding:
    "mexico" is both a misspelling and a lower-cased name)."""
    seen: set = set()
    out = []
    for flag in flags:
        key = (flag.span, flag.category) if flag.span is not None else None
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        out.append(flag)
    return out


def _note_unavailable(check: Check, segment: Segment, reason: str) -> None:
    key = (segment.source_lang, segment.target_lang)
    noted: set = check.__dict__.setdefault("_unavailable_noted", set())
    if key in noted:
        return
    noted.add(key)
    log.warning("check %s stands aside for %s: %s", check.name, segment.language_pair, reason)
