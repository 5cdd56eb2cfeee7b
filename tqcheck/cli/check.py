"""``tqcheck check``: read a feed, run the checker (``tqcheck.run``), write reports, gate on severity.

Only option parsing and presentation live here; the run itself is ``tqcheck.run.Checker.run``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from tqcheck.cli.options import config_from_options, engine_options, language_options, resolve_language_options
from tqcheck.cli.progress import ProgressBar
from tqcheck.errors import InputError, RecordError, UsageError
from tqcheck.model import Segment, Severity

SEVERITIES = [s.value for s in Severity]


@click.command("check")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT [INPUT]")
@click.option("--format", "fmt", default=None,
              help="Input format: csv, tsv, jsonl, parquet, excel, text, parallel, docs, xliff, tmx "
                   "(default: from the extension; JSONL for '-').")
@language_options
@click.option("--src-col", default=None, help="Table column holding the source (default 'source').")
@click.option("--mt-col", default=None, help="Table column holding the MT (default 'mt').")
@click.option("--ref-col", default=None, help="Table column holding a human reference (default 'reference').")
@click.option("--id-col", default=None, help="Table column holding segment ids (default 'id', else row numbers).")
@click.option("--reference", "reference_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A text file of human references, one per segment, for sacrebleu metrics.")
@click.option("-o", "--output", "outputs", multiple=True, metavar="PATH",
              help="Report path; the format follows the extension (.jsonl .csv .parquet .html). Repeatable.")
@click.option("--html", "html_path", default=None, metavar="PATH", help="Also write an HTML report here.")
@click.option("--hints", is_flag=True,
              help="Also show hints (findings below the display floor) in the HTML, CSV and Parquet reports "
                   "and the summary; the JSONL report always has them, and --fail-on never counts them.")
@click.option("--glossary", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Glossary / do-not-translate terms (CSV or TBX).")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="Exit with code 1 when any shown flag is at or above this severity.")
@click.option("--strict", is_flag=True, help="Abort on the first bad record instead of skipping it.")
@click.option("--resume", is_flag=True,
              help="Continue a killed run: segments already in OUTPUT.jsonl.partial are not checked again.")
@click.option("--db", default=None, metavar="URL",
              help="Also store the run in a review store (SQLite path or SQLAlchemy URL; env TQCHECK_DB).")
@click.option("--run-name", default=None, help="Name of the run in the review store (default: the input's name).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option("--executor", default="local", show_default=True, metavar="local|ray|ray://HOST:PORT",
              help="Where the checks run: this process; 'ray': a local Ray cluster of --jobs workers started for "
                   "the run (or the cluster at RAY_ADDRESS); 'ray://HOST:PORT': that Ray cluster. Reports, "
                   "--resume, the summary and the exit code are those of a local run (pip install 'tqcheck[ray]').")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Ray workers, one pipeline each (default 2).")
@engine_options
def check(inputs: tuple[str, ...], fmt: str | None, source_lang: str | None, target_lang: str | None,
          language_pair: str | None, src_col: str | None, mt_col: str | None, ref_col: str | None,
          id_col: str | None, reference_file: str | None, outputs: tuple[str, ...], html_path: str | None,
          hints: bool, glossary: str | None, fail_on: str | None, strict: bool, resume: bool, db: str | None,
          run_name: str | None, quiet: bool, executor: str, jobs: int | None, **engine_kwargs: Any) -> None:
    """Check machine translations in INPUT and write reports.

    \b
    INPUT is one file (a table, JSONL, XLIFF, TMX, a target-only text; '-' reads JSONL from stdin)
    or two files (parallel source and MT text, or source and target documents with --format docs).

    \b
    Examples:
      tqcheck check feed.csv -l fr-en -o report.jsonl --html report.html
      tqcheck check --format docs source.fr.txt mt.en.txt --fail-on major
      cat feed.jsonl | tqcheck check - --rules-only --fail-on critical
      tqcheck check feed.jsonl -l fr-en -o report.jsonl --executor ray --jobs 4

    \b
    Exit codes: 0 ok; 1 a shown flag at or above --fail-on; 2 bad usage or input (including a feed of
    which no record could be read); 3 an internal error.
    """
    from dataclasses import replace

    from tqcheck.executors import make_executor
    from tqcheck.io import ColumnMap, read_segments
    from tqcheck.io.reports import open_report, partial_path
    from tqcheck.run import Checker, StoreSink

    if len(inputs) > 2:
        raise UsageError(f"expected one or two inputs, got {len(inputs)}",
                         fix="give a single feed, or a source file and an MT file")
    source_lang, target_lang = resolve_language_options(source_lang, target_lang, language_pair, inputs)
    config = config_from_options(**engine_kwargs)
    if glossary:
        config = replace(config, glossary=glossary)
    # A block the workers could not check is said even under --quiet: its segments are not in the report.
    run_executor = make_executor(executor, jobs=jobs,
                                 on_block_failed=lambda line: click.echo(f"tqcheck: warning: {line}", err=True))

    if not outputs and not html_path and not db:
        outputs = (_default_output(inputs),)
    paths = list(outputs) + ([html_path] if html_path else [])
    jsonl = next((p for p in paths if p.endswith(".jsonl")), None)
    if resume:
        if jsonl is None:
            raise UsageError("--resume needs a JSONL output (-o report.jsonl)")
        if Path(jsonl).exists() and not partial_path(jsonl).exists():
            _finished_already(jsonl, fail_on, quiet)
            return

    columns = ColumnMap(**{k: v for k, v in (("source", src_col), ("mt", mt_col),
                                              ("reference", ref_col), ("id", id_col)) if v})
    skipped: list[RecordError] = []

    def on_bad_record(error: RecordError) -> None:
        skipped.append(error)
        if not quiet:
            click.echo(f"tqcheck: skipped bad record: {error}", err=True)

    segments: Iterable[Segment] = read_segments(
        list(inputs), format=fmt, columns=columns, source_lang=source_lang, target_lang=target_lang,
        strict=strict, on_bad_record=on_bad_record, stdin=sys.stdin)
    if reference_file:
        segments = _attach_references(segments, Path(reference_file))

    for path in paths:  # a report directory is created, as a user asking for out/x.jsonl expects
        if path != "-":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    sinks: list[Any] = [open_report(p, resume=resume and p == jsonl, hints=hints) for p in paths]
    store = None
    if db is not None:
        from tqcheck.store import Store

        store = Store.open(db)
        sinks.append(StoreSink(store, name=run_name or Path(inputs[0]).name, feed=inputs[0], resume=resume))

    progress = ProgressBar(quiet=quiet)
    try:
        outcome = Checker(config).run(segments, sinks=sinks, source_lang=source_lang, target_lang=target_lang,
                                      progress=progress.update, skipped=skipped,
                                      resume_from=jsonl if resume else None, executor=run_executor)
    except InputError as exc:
        if inputs == ("-",) and fmt is None and skipped and "no record could be read" in exc.message:
            raise InputError(exc.message, where="<stdin>",
                             fix="stdin is read as JSONL; for a table pass --format csv or --format tsv") from exc
        raise
    finally:
        progress.close()
        if store is not None:
            store.close()

    if not quiet:
        from tqcheck.io.reports import summary_text
        from tqcheck.run import repeated_ids_line

        if outcome.detected:
            click.echo(f"tqcheck: languages: {outcome.source_lang or '?'} -> {outcome.target_lang or '?'}"
                       " (detected; set -l/--language-pair or -s/-t to override)", err=True)
        if outcome.resumed:
            click.echo(f"tqcheck: resumed: {outcome.resumed} segments came from the checkpoint", err=True)
        line = repeated_ids_line(outcome)
        if line:
            click.echo(f"tqcheck: warning: {line}", err=True)
        click.echo(summary_text(outcome.summary), err=True)
        engines = ", ".join(f"{e.role}={e.name}{':' + e.model_id if e.model_id else ''}"
                            for e in outcome.signature.engines) or "none (rules only)"
        click.echo(f"tqcheck: engines: {engines}; calibration: {outcome.signature.calibration or 'none'}",
                   err=True)
        for path in paths:
            click.echo(f"tqcheck: wrote {path}", err=True)
    if outcome.fails(fail_on):
        sys.exit(1)


def _finished_already(report: str, fail_on: str | None, quiet: bool) -> None:
    """``--resume`` on a report whose run finished: say so, gate on what it holds, check nothing."""
    from tqcheck.io.reports import read_report

    _, results, summary = read_report(report)
    worst = None
    for result in results:
        severity = result.worst_severity
        if severity is not None and (worst is None or severity > worst):
            worst = severity
    if not quiet:
        count = summary.segments if summary else "?"
        click.echo(f"tqcheck: {report} is complete ({count} segments); nothing to resume", err=True)
    if fail_on is not None and worst is not None and worst >= Severity(fail_on):
        sys.exit(1)


def _default_output(inputs: tuple[str, ...]) -> str:
    name = Path(inputs[-1]).stem if inputs[-1] != "-" else "stdin"
    return f"{name}.tqcheck.jsonl"


def _attach_references(segments: Iterable[Segment], path: Path) -> Iterator[Segment]:
    from dataclasses import replace

    with path.open(encoding="utf-8-sig") as handle:
        for number, segment in enumerate(segments, start=1):
            line = handle.readline()
            if not line:
                raise InputError(f"reference file has fewer lines than the input ({number - 1})",
                                 where=str(path), fix="give one reference per segment")
            yield replace(segment, reference=line.rstrip("\n"))
