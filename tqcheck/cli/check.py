"""``tqcheck check``: read a feed, run the checker, write reports, gate on severity."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from tqcheck.cli.options import config_from_options, engine_options
from tqcheck.errors import InputError, UsageError
from tqcheck.model import Segment, Severity

SEVERITIES = [s.value for s in Severity]


@click.command("check")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT [INPUT]")
@click.option("--format", "fmt", default=None,
              help="Input format: csv, tsv, jsonl, parquet, excel, text, parallel, docs, xliff, tmx "
                   "(default: from the extension).")
@click.option("-s", "--source-lang", default=None, help="Source language (ISO 639-1); detected if not given.")
@click.option("-t", "--target-lang", default=None, help="Target language (ISO 639-1); detected if not given.")
@click.option("--src-col", default=None, help="Table column holding the source (default 'source').")
@click.option("--mt-col", default=None, help="Table column holding the MT (default 'mt').")
@click.option("--ref-col", default=None, help="Table column holding a human reference (default 'reference').")
@click.option("--id-col", default=None, help="Table column holding segment ids (default 'id', else row numbers).")
@click.option("--reference", "reference_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A text file of human references, one per segment, for sacrebleu metrics.")
@click.option("-o", "--output", "outputs", multiple=True, metavar="PATH",
              help="Report path; the format follows the extension (.jsonl .csv .parquet .html). Repeatable.")
@click.option("--html", "html_path", default=None, metavar="PATH", help="Also write an HTML report here.")
@click.option("--glossary", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Glossary / do-not-translate terms (CSV or TBX).")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="Exit with code 1 when any flag is at or above this severity.")
@click.option("--strict", is_flag=True, help="Abort on the first bad record instead of skipping it.")
@click.option("--resume", is_flag=True,
              help="Continue a killed run: segments already in OUTPUT.jsonl.partial are not checked again.")
@click.option("--db", default=None, metavar="URL",
              help="Also store the run in a review store (SQLite path or SQLAlchemy URL; env TQCHECK_DB).")
@click.option("--run-name", default=None, help="Name of the run in the review store (default: the input's name).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@engine_options
def check(inputs: tuple[str, ...], fmt: str | None, source_lang: str | None, target_lang: str | None,
          src_col: str | None, mt_col: str | None, ref_col: str | None, id_col: str | None,
          reference_file: str | None, outputs: tuple[str, ...], html_path: str | None,
          glossary: str | None, fail_on: str | None, strict: bool, resume: bool, db: str | None,
          run_name: str | None, quiet: bool, **engine_kwargs: Any) -> None:
    """Check machine translations in INPUT and write reports.

    \b
    INPUT is one file (a table, JSONL, XLIFF, TMX, a target-only text; '-' reads JSONL from stdin)
    or two files (parallel source and MT text, or source and target documents with --format docs).

    \b
    Examples:
      tqcheck check feed.csv -s fr -t en -o report.jsonl --html report.html
      tqcheck check --format docs source.fr.txt mt.en.txt --fail-on major
      cat feed.jsonl | tqcheck check - --rules-only --fail-on critical

    \b
    Exit codes: 0 ok; 1 a flag at or above --fail-on; 2 bad usage or input.
    """
    from dataclasses import replace

    from tqcheck.io import ColumnMap, read_segments
    from tqcheck.io.reports import open_report, summary_text
    from tqcheck.model import SummaryTally
    from tqcheck.pipeline import Pipeline, detect_languages, with_languages

    if len(inputs) > 2:
        raise UsageError(f"expected one or two inputs, got {len(inputs)}",
                         fix="give a single feed, or a source file and an MT file")
    config = config_from_options(**engine_kwargs)
    if glossary:
        config = replace(config, glossary=glossary)

    columns = ColumnMap(**{k: v for k, v in (("source", src_col), ("mt", mt_col),
                                              ("reference", ref_col), ("id", id_col)) if v})
    skipped: list[Exception] = []

    def on_bad_record(error: Exception) -> None:
        skipped.append(error)
        if not quiet:
            click.echo(f"tqcheck: skipped bad record: {error}", err=True)

    segments: Iterable[Segment] = read_segments(
        list(inputs), format=fmt, columns=columns, source_lang=source_lang, target_lang=target_lang,
        strict=strict, on_bad_record=on_bad_record, stdin=sys.stdin)
    if reference_file:
        segments = _attach_references(segments, Path(reference_file))

    if source_lang is None or target_lang is None:
        head, detected_src, detected_tgt, rest = detect_languages(segments)
        source_lang = source_lang or detected_src
        target_lang = target_lang or detected_tgt
        if not quiet:
            click.echo(f"tqcheck: languages: {source_lang or '?'} -> {target_lang or '?'}"
                       " (detected; set -s/-t to override)", err=True)
        segments = itertools.chain(head, rest)
    segments = with_languages(segments, source_lang, target_lang)

    if not outputs and not html_path and not db:
        outputs = (_default_output(inputs),)
    paths = list(outputs) + ([html_path] if html_path else [])

    done: set[str] = set()
    if resume:
        from tqcheck.io.reports import completed_ids

        jsonl = [p for p in paths if p.endswith(".jsonl")]
        if not jsonl:
            raise UsageError("--resume needs a JSONL output (-o report.jsonl)")
        done = completed_ids(jsonl[0])
        segments = (s for s in segments if s.id not in done)
        if not quiet:
            click.echo(f"tqcheck: resuming: {len(done)} segments already checked", err=True)

    for path in paths:  # a report directory is created, as a user asking for out/x.jsonl expects
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(config)
    signature = pipeline.signature()
    writers = [open_report(p, signature=signature, **({"resume": True} if resume and p.endswith(".jsonl") else {}))
               for p in paths]

    store = run_id = None
    if db is not None:
        from tqcheck.store import Store

        store = Store.open(db)
        run_id = store.start_run(signature, name=run_name or Path(inputs[0]).name, feed=inputs[0])

    tally = SummaryTally()
    progress = _progress_bar(quiet)
    try:
        batch = []
        for result in pipeline.run(segments, progress=progress.update):
            for writer in writers:
                writer.write(result)
            tally.add(result)
            if store is not None:
                batch.append(result)
                if len(batch) >= 500:
                    store.add_results(run_id, batch)
                    batch = []
        if store is not None and batch:
            store.add_results(run_id, batch)
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    finally:
        progress.close()

    summary = tally.summary(skipped_records=len(skipped), corpus_metrics=pipeline.corpus_metrics())
    final_signature = pipeline.signature()
    for writer in writers:
        _close(writer, summary, final_signature)
    if store is not None:
        store.finish_run(run_id, summary, signature=final_signature)
    if not quiet:
        click.echo(summary_text(summary), err=True)
        engines = ", ".join(f"{e.role}={e.name}{':' + e.model_id if e.model_id else ''}"
                            for e in final_signature.engines) or "none (rules only)"
        click.echo(f"tqcheck: engines: {engines}", err=True)
        for path in paths:
            click.echo(f"tqcheck: wrote {path}", err=True)
    if fail_on is not None and tally.worst is not None and tally.worst >= Severity(fail_on):
        sys.exit(1)


def _close(writer, summary, signature) -> None:
    try:
        writer.close(summary, signature=signature)
    except TypeError:
        writer.close(summary)


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


class _progress_bar:
    """A tqdm bar on stderr (only on a terminal); a no-op under --quiet."""

    def __init__(self, quiet: bool) -> None:
        self._bar = None
        if not quiet:
            from tqdm import tqdm

            self._bar = tqdm(unit="seg", desc="checking", file=sys.stderr, disable=None,
                             dynamic_ncols=True)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
