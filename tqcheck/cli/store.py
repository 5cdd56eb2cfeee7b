"""``tqcheck import`` and ``tqcheck export``: reports into the review store, reviewed work out of it."""

from __future__ import annotations

from pathlib import Path

import click

from tqcheck.errors import InputError, UsageError

_DB_HELP = ("Review store: a SQLite path or a SQLAlchemy URL (postgresql://...). Default: $TQCHECK_DB, "
            "else ~/.local/share/tqcheck/review.sqlite.")
_EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".xlf": "xliff", ".xliff": "xliff"}


@click.command("import")
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False),
                metavar="REPORT.jsonl [REPORT.jsonl ...]")
@click.option("--db", default=None, metavar="URL", help=_DB_HELP)
@click.option("--name", default=None, help="Name of the run (default: the report's file name).")
@click.option("--feed", default=None,
              help="Feed the run belongs to, for the dashboard (default: the report's file name).")
def import_command(reports: tuple[str, ...], db: str | None, name: str | None, feed: str | None) -> None:
    """Load JSONL reports (from tqcheck check -o report.jsonl) into the review store.

    Each report becomes one run; a report of an unfinished run (.partial) is loaded as far as it
    goes.

    \b
    Example:
      tqcheck check article.txt -t en -o article.jsonl && tqcheck import article.jsonl
    """
    from tqcheck.io.reports import read_report
    from tqcheck.store import Store

    if name and len(reports) > 1:
        raise UsageError("--name names one run, but several reports were given",
                         fix="import them one at a time to name each")
    with Store.open(db) as store:
        for report in reports:
            signature, results, summary = read_report(report)
            if signature is None:
                raise InputError("the report has no signature line", where=f"{report}:1",
                                 fix="import a JSONL report written by tqcheck check -o report.jsonl")
            label = Path(report).name
            run_id = store.import_report(signature, results, summary, name=name or label,
                                         feed=feed or label)
            run = store.run(run_id)
            click.echo(f"tqcheck: imported {report} as run {run_id}: {run.segment_count} segments, "
                       f"{run.flagged_count} flagged, into {store.url}", err=True)


@click.command("export")
@click.option("--db", default=None, metavar="URL", help=_DB_HELP)
@click.option("--run", "run_ids", type=int, multiple=True, metavar="ID",
              help="Export this run (repeatable; default: every run).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Output file; the format follows the extension (.csv .xlsx .jsonl .xlf).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl", "xliff"]), default=None,
              help="Output format (default: from the extension of --output).")
@click.option("--segments", type=click.Choice(["reviewed", "all"]), default=None,
              help="Which segments: those a reviewer touched, or all (default: reviewed for tables, "
                   "all for XLIFF).")
@click.option("--xliff", "original", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Write corrected targets and flags back into this XLIFF (the file the run "
                   "checked). Default for one run checked from an uploaded XLIFF: that file.")
@click.option("--its/--no-its", default=True,
              help="Annotate flags as ITS Localization Quality Issues in XLIFF output (default on).")
@click.option("--state", default=None, metavar="STATE",
              help="XLIFF state to set on corrected segments (2.x: reviewed, final; 1.2: signed-off).")
def export_command(db: str | None, run_ids: tuple[int, ...], output: str, fmt: str | None,
                   segments: str | None, original: str | None, its: bool, state: str | None) -> None:
    """Export reviewed segments: CSV, Excel or JSONL tables, or XLIFF.

    XLIFF output writes the corrected targets back into the original file (--xliff, or the file
    stored with a run checked in the UI) with every flag as an ITS 2.0 Localization Quality Issue
    (dismissed ones disabled); without an original, a new XLIFF 2.1 file is written.

    Thresholds a QA lead set on the Dashboard page (segments per 100 with a shown, a major or a
    critical flag) are reported too: one line on stderr per run and per feed and language pair,
    with the rate, its 95% interval, n and "over" or "under"; CSV and Excel rows get a
    run_thresholds column (the segment's run against each threshold), JSONL lines a run_thresholds
    list, and Excel a thresholds sheet. Without thresholds the files are unchanged.

    \b
    Examples:
      tqcheck export -o reviewed.csv
      tqcheck export --run 3 --xliff job.xlf -o job.reviewed.xlf
    """
    from tqcheck.review.dashboard import rates as threshold_rates
    from tqcheck.review.dashboard import thresholds
    from tqcheck.review.export import write_export
    from tqcheck.store import Store

    fmt = fmt or _EXTENSIONS.get(Path(output).suffix.lower())
    if fmt is None:
        raise UsageError(f"cannot tell the export format from {output!r}",
                         fix="use a .csv, .xlsx, .jsonl or .xlf file name, or --format")
    reviewed_only = (segments or ("all" if fmt == "xliff" else "reviewed")) == "reviewed"
    with Store.open(db, create=False) as store:
        known = {r.id: r for r in store.runs()}
        missing = [i for i in run_ids if i not in known]
        if missing:
            raise UsageError(f"no run {missing[0]} in {store.url}",
                             fix="runs: " + (", ".join(str(i) for i in sorted(known)) or "none yet"))
        original_bytes = Path(original).read_bytes() if original else None
        if fmt == "xliff" and original_bytes is None:
            chosen = [known[i] for i in run_ids] if run_ids else list(known.values())
            if len(chosen) == 1 and chosen[0].files:
                file_id, file_name = chosen[0].files[0]
                original_bytes = store.run_file(file_id)[2]
                click.echo(f"tqcheck: writing back into {file_name}, stored with run {chosen[0].id}",
                           err=True)
        if fmt != "xliff" and (original or state):
            raise UsageError("--xliff and --state apply to XLIFF output only")
        limits = thresholds(store)
        by_run = threshold_rates(store, run_ids, limits=limits) if limits else []
        by_feed = threshold_rates(store, run_ids, level="feed", limits=limits) if limits else []
        records = store.iter_segments(run_ids=run_ids, reviewed_only=reviewed_only)
        summary = write_export(records, fmt, Path(output), original_xliff=original_bytes,
                               annotate=its, state=state, rates=by_run)
    click.echo(f"tqcheck: exported {summary} to {output}", err=True)
    for rate in (*by_run, *by_feed):
        if rate.threshold is not None:
            click.echo(f"tqcheck: threshold: {rate.describe()}", err=True)
