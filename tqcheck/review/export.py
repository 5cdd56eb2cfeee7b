"""Reviewed segments out of the store: CSV, Excel, JSONL, and XLIFF (write-back or fresh).

One flat row per segment for the tables (what a desk opens in a spreadsheet); the full record
(flags with their decisions, the review log) for JSONL; ITS quality-issue annotations for XLIFF.
The CLI and the UI both call ``export_bytes`` / ``write_export``.

Given the rates held to a QA lead's thresholds (``tqcheck.review.dashboard.rates``), the tables say
for each segment how its run did (a ``run_thresholds`` column), JSONL lines carry the same as
``run_thresholds``, and an Excel file gets a ``thresholds`` sheet with every run and feed; without
thresholds the files are as they always were.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from tqcheck.errors import UsageError
from tqcheck.io.xliff_writeback import (
    XLIFF2_REVIEWED,
    QualityIssue,
    TargetUpdate,
    WriteBackReport,
    XliffUnit,
    build_xliff,
    write_back,
)
from tqcheck.review.dashboard import Rate
from tqcheck.store.records import Decision, SegmentRecord

FORMATS = ("csv", "xlsx", "jsonl", "xliff")

COLUMNS = [
    "run_id", "segment_id", "doc_id", "origin", "source_lang", "target_lang", "source", "mt",
    "corrected_target", "final_target", "risk", "status", "flags", "confirmed", "dismissed",
    "undecided", "confirmed_flags", "comments", "reviewers", "updated_at", "version",
]
#: The column added when thresholds are set: each rate of the segment's run and language pair that
#: has a threshold, and whether the run is over it.
THRESHOLD_COLUMN = "run_thresholds"
#: The Excel sheet that lists every run's and feed's rates against their thresholds.
THRESHOLD_SHEET = "thresholds"

_Judged = Mapping[tuple[int, str], Sequence[Rate]]


def _judged(rates: Iterable[Rate]) -> dict[tuple[int, str], list[Rate]]:
    """The run-level rates that have a threshold, by (run, language pair)."""
    out: dict[tuple[int, str], list[Rate]] = {}
    for rate in rates:
        if rate.threshold is not None and rate.run_id is not None:
            out.setdefault((rate.run_id, rate.lang_pair), []).append(rate)
    return out


def _verdicts(judged: _Judged, record: SegmentRecord) -> list[Rate]:
    return list(judged.get((record.run_id, record.segment.language_pair), ()))


def _verdict_text(rates: Sequence[Rate]) -> str:
    return "; ".join(f"{r.metric} {r.per_100:.1f} {'>' if r.over else '<='} {r.threshold.limit:g} ({r.status})"
                     for r in rates if r.threshold is not None)


def _verdict_dicts(rates: Sequence[Rate]) -> list[dict[str, Any]]:
    return [{"metric": r.metric, "per_100": round(r.per_100, 3), "low": round(r.interval[0], 3),
             "high": round(r.interval[1], 3), "segments": r.segments,
             "limit": r.threshold.limit if r.threshold else None, "status": r.status} for r in rates]


def threshold_rows(rates: Iterable[Rate]) -> list[dict[str, Any]]:
    """Every rate that has a threshold, one flat row each (the Excel sheet, the UI's table)."""
    return [{"level": "run" if r.run_id is not None else "feed", "run_id": r.run_id, "feed": r.feed,
             "lang_pair": r.lang_pair, "metric": r.metric, "count": r.count, "segments": r.segments,
             "per_100": round(r.per_100, 3), "low": round(r.interval[0], 3), "high": round(r.interval[1], 3),
             "limit": r.threshold.limit, "status": r.status}
            for r in rates if r.threshold is not None]


def _flag_text(record: SegmentRecord, decision: Decision) -> str:
    parts = []
    for f in record.flags:
        if f.decision is decision:
            where = f" '{f.flag.span.text_in(record.segment)}'" if f.flag.span else ""
            parts.append(f"{f.flag.severity.value} {f.flag.category.value} ({f.flag.check}){where}")
    return "; ".join(parts)


def row_of(record: SegmentRecord, judged: _Judged | None = None) -> dict[str, Any]:
    """The flat row of one segment (the CSV and Excel columns; with ``judged`` rates, how its run
    stands against the thresholds)."""
    decisions = [f.decision for f in record.flags if not f.flag.hint or f.decision is not None]
    reviewers = sorted({r.reviewer for r in record.reviews})
    return {
        "run_id": record.run_id,
        "segment_id": record.segment.id,
        "doc_id": record.segment.doc_id,
        "origin": record.segment.origin,
        "source_lang": record.segment.source_lang,
        "target_lang": record.segment.target_lang,
        "source": record.segment.source,
        "mt": record.segment.mt,
        "corrected_target": record.edited_target,
        "final_target": record.target,
        "risk": record.risk,
        "status": record.status.value,
        "flags": len(decisions),
        "confirmed": decisions.count(Decision.CONFIRMED),
        "dismissed": decisions.count(Decision.DISMISSED),
        "undecided": decisions.count(None),
        "confirmed_flags": _flag_text(record, Decision.CONFIRMED),
        "comments": " | ".join(f"{r.reviewer}: {r.comment}" for r in record.comments),
        "reviewers": ", ".join(reviewers),
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
        "version": record.version,
        **({THRESHOLD_COLUMN: _verdict_text(_verdicts(judged, record))} if judged else {}),
    }


def document_of(record: SegmentRecord, judged: _Judged | None = None) -> dict[str, Any]:
    """The full record of one segment (a JSONL line): result, decisions and the review log."""
    extra = {THRESHOLD_COLUMN: _verdict_dicts(_verdicts(judged, record))} if judged else {}
    return {
        "run_id": record.run_id,
        **record.to_result().to_dict(),
        "review": {
            "status": record.status.value,
            "corrected_target": record.edited_target,
            "final_target": record.target,
            "version": record.version,
            "flag_decisions": [
                {"position": f.position, "decision": f.decision.value if f.decision else None,
                 "by": f.decided_by, "at": f.decided_at.isoformat() if f.decided_at else None}
                for f in record.flags
            ],
            "log": [
                {"reviewer": r.reviewer, "action": r.action.value, "flag_position":
                 next((f.position for f in record.flags if f.id == r.flag_id), None),
                 "comment": r.comment, "edited_target": r.edited_target,
                 "at": r.created_at.isoformat(), "version": r.segment_version}
                for r in record.reviews
            ],
        },
        **extra,
    }


def _csv_safe(value: Any) -> Any:
    """Keep feed text from running as a spreadsheet formula when the CSV is opened (OWASP CSV
    injection): a leading ``=``, ``+``, ``@`` (or ``-`` before a digit or operator) gets a ``'``."""
    if isinstance(value, str) and value and (
        value[0] in "=+@\t\r" or (value[0] == "-" and value[1:2] in tuple("0123456789=+(@"))
    ):
        return "'" + value
    return value


def _columns(judged: _Judged) -> list[str]:
    return [*COLUMNS, THRESHOLD_COLUMN] if judged else COLUMNS


def write_csv(records: Iterable[SegmentRecord], out: IO[str], *, rates: Iterable[Rate] = ()) -> int:
    judged = _judged(rates)
    writer = csv.DictWriter(out, fieldnames=_columns(judged))
    writer.writeheader()
    n = 0
    for record in records:
        writer.writerow({k: _csv_safe(v) for k, v in row_of(record, judged).items()})
        n += 1
    return n


def write_jsonl(records: Iterable[SegmentRecord], out: IO[str], *, rates: Iterable[Rate] = ()) -> int:
    judged = _judged(rates)
    n = 0
    for record in records:
        out.write(json.dumps(document_of(record, judged), ensure_ascii=False) + "\n")
        n += 1
    return n


def write_excel(records: Iterable[SegmentRecord], out: IO[bytes] | str | Path, *,
                rates: Iterable[Rate] = ()) -> int:
    """An .xlsx sheet (and, with thresholds, a ``thresholds`` sheet); every text cell is written as
    a string, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    rates = list(rates)
    judged = _judged(rates)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("reviewed")

    def append(values: Iterable[Any]) -> None:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would take "=..." for a formula
            cells.append(cell)
        sheet.append(cells)

    sheet.append(_columns(judged))
    n = 0
    for record in records:
        append(row_of(record, judged).values())
        n += 1
    table = threshold_rows(rates)
    if table:
        sheet = book.create_sheet(THRESHOLD_SHEET)
        sheet.append(list(table[0]))
        for row in table:
            append(row.values())
    book.save(out)
    return n


# -- XLIFF --------------------------------------------------------------------------------------------


def issues_of(record: SegmentRecord) -> tuple[QualityIssue, ...]:
    """The segment's shown flags as ITS issues, each with the reviewers' decision (dismissed ones are
    written disabled); the mapping is ``tqcheck.io.xliff_writeback.QualityIssue.from_flag``. Hints
    (below the display floor) stay out of the file a CAT tool reads, unless a reviewer decided one."""
    return tuple(QualityIssue.from_flag(f.flag, decision=f.decision.value if f.decision else None)
                 for f in record.flags if not f.flag.hint or f.decision is not None)


def updates_of(records: Iterable[SegmentRecord], *, annotate: bool = True) -> Iterator[TargetUpdate]:
    """What to write into the original XLIFF: corrections, and the flags as ITS issues."""
    for record in records:
        issues = issues_of(record) if annotate else ()
        if record.edited_target is None and not issues:
            continue
        yield TargetUpdate(key=record.segment.id, text=record.edited_target, issues=issues,
                           issues_text=record.segment.mt)


def xliff_write_back(original: bytes, records: Iterable[SegmentRecord], *, annotate: bool = True,
                     name: str = "XLIFF file", state: str | None = None) -> tuple[bytes, WriteBackReport]:
    """Corrections and ITS issues written into the original XLIFF. Corrected segments get
    ``state`` (None: ``reviewed`` in 2.x, ``signed-off`` in 1.2); the others keep theirs."""
    return write_back(original, updates_of(records, annotate=annotate), name=name, state=state)


def xliff_fresh(records: Iterable[SegmentRecord], *, annotate: bool = True,
                state: str | None = None) -> bytes:
    """A new XLIFF 2.1 file from the store: final targets, flags as ITS issues, comments as notes;
    corrected segments get ``state`` (None: ``reviewed``), the others none."""
    records = list(records)
    source_lang = next((r.segment.source_lang for r in records if r.segment.source_lang), "und")
    target_lang = next((r.segment.target_lang for r in records if r.segment.target_lang), None)
    corrected_state = state or XLIFF2_REVIEWED
    units = (
        XliffUnit(id=r.segment.id, source=r.segment.source or "", target=r.target,
                  issues=issues_of(r) if annotate else (), issues_text=r.segment.mt,
                  notes=tuple(f"{c.reviewer}: {c.comment}" for c in r.comments),
                  state=corrected_state if r.edited_target is not None else None)
        for r in records
    )
    return build_xliff(units, source_lang=source_lang, target_lang=target_lang)


# -- one entry point ----------------------------------------------------------------------------------


def export_bytes(records: Iterable[SegmentRecord], fmt: str, *, original_xliff: bytes | None = None,
                 annotate: bool = True, state: str | None = None,
                 rates: Iterable[Rate] = ()) -> tuple[bytes, str]:
    """Everything as bytes (the UI's download buttons); returns the data and a summary line.
    ``rates`` (with their thresholds) go into the tables and JSONL, not into XLIFF."""
    fmt = fmt.lower()
    if fmt == "csv":
        text = io.StringIO()
        n = write_csv(records, text, rates=rates)
        return text.getvalue().encode("utf-8-sig"), f"{n} segments"
    if fmt == "jsonl":
        text = io.StringIO()
        n = write_jsonl(records, text, rates=rates)
        return text.getvalue().encode("utf-8"), f"{n} segments"
    if fmt == "xlsx":
        buffer = io.BytesIO()
        n = write_excel(records, buffer, rates=rates)
        return buffer.getvalue(), f"{n} segments"
    if fmt == "xliff":
        if original_xliff is not None:
            data, report = xliff_write_back(original_xliff, records, annotate=annotate, state=state)
            line = (f"{report.targets_written} corrected targets, {report.issues_written} issues "
                    f"on {report.segments_annotated} segments")
            if report.unmatched:
                line += f"; {len(report.unmatched)} segments not found in the file"
            return data, line
        records = list(records)
        return xliff_fresh(records, annotate=annotate, state=state), f"{len(records)} segments"
    raise UsageError(f"unknown export format {fmt!r}", fix=f"choose one of: {', '.join(FORMATS)}")


def write_export(records: Iterable[SegmentRecord], fmt: str, path: Path, *,
                 original_xliff: bytes | None = None, annotate: bool = True,
                 state: str | None = None, rates: Iterable[Rate] = ()) -> str:
    """Write an export file atomically (a temporary file, then a rename); returns the summary."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if fmt == "csv":
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                summary = f"{write_csv(records, fh, rates=rates)} segments"
        elif fmt == "jsonl":
            with tmp.open("w", encoding="utf-8") as fh:
                summary = f"{write_jsonl(records, fh, rates=rates)} segments"
        else:
            data, summary = export_bytes(records, fmt, original_xliff=original_xliff,
                                         annotate=annotate, state=state, rates=rates)
            tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return summary
