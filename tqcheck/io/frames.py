"""In-memory tables in and out: records and pandas DataFrames to segments, results to rows and frames.

In: ``segments_from_records`` reads dicts (or ``Segment``\\ s) with the same column mapping and the
same bad-record policy as a JSONL feed (``tqcheck.io.tables``), and ``segments_from_frame`` a
DataFrame, a chunk of rows at a time.

Out, one shape everywhere (the public API's ``to_pandas``, the CSV and Parquet reports):
``segment_row`` is one row per segment, the feed's own columns first (what the reader kept in
``metadata["fields"]``), then the texts, the risk, the queue ``priority``, the worst shown severity,
the counts of shown flags and hints, the flags themselves, and one ``score.<name>`` column per score.
``flag_rows`` is one row per flag, for a second table. pandas is imported only by the ``*_frame``
functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from tqcheck.errors import RecordError
from tqcheck.io._common import ColumnMap, ReadContext
from tqcheck.model import Segment, SegmentResult

#: The columns of a segment row after the feed's own, in order (scores follow, sorted).
SEGMENT_COLUMNS = ("id", "doc_id", "origin", "source_lang", "target_lang", "source", "mt", "reference",
                   "risk", "priority", "worst_severity", "n_flags", "n_hints", "flags")
FLAG_COLUMNS = ("segment_id", "doc_id", "check", "severity", "category", "message", "p_error", "p_major",
                "hint", "confidence", "span_side", "span_start", "span_end", "span_text")
#: Rows of a DataFrame converted to records at a time (memory stays bounded for a large frame).
FRAME_CHUNK = 10_000


# ----------------------------------------------------------------------------------------------------
# In


def segments_from_records(records: Iterable[Mapping[str, Any] | Segment], *, columns: ColumnMap | None = None,
                          strict: bool = False, on_bad_record: Callable[[RecordError], None] | None = None,
                          name: str = "records") -> Iterator[Segment]:
    """Segments of dicts keyed like a JSONL feed (``Segment``\\ s pass through); ids default to the
    1-based record number, and a bad record is reported as ``records:N``."""
    from tqcheck.io.tables import build_segment, resolve_fields

    ctx = ReadContext(columns=columns or ColumnMap(), strict=strict, on_bad_record=on_bad_record)
    fields_by_keys: dict[tuple[str, ...], Any] = {}
    for number, record in enumerate(records, 1):
        if isinstance(record, Segment):
            yield record
            continue
        where = f"{name}:{number}"
        if not isinstance(record, Mapping):
            ctx.bad(RecordError(f"a {type(record).__name__}, not a record", where=where,
                                fix="give dicts with 'source' and 'mt' keys, or Segment objects"))
            continue
        keys = tuple(record)
        fields = fields_by_keys.get(keys)
        if fields is None:
            fields = fields_by_keys[keys] = resolve_fields(ctx.columns, keys)
        segment = build_segment(record, fields, number=number, where=where, ctx=ctx, default_doc=None)
        if segment is not None:
            yield segment


def segments_from_frame(frame: Any, *, columns: ColumnMap | None = None, strict: bool = False,
                        on_bad_record: Callable[[RecordError], None] | None = None) -> Iterator[Segment]:
    """Segments of a pandas DataFrame, one per row; extra columns are kept as the segment's fields.
    Row numbers in messages are 1-based positions, as a spreadsheet shows them."""
    mapping = columns or ColumnMap()
    if mapping.mt not in frame.columns and not (mapping.mt == "mt" and "hyp" in frame.columns):
        from tqcheck.errors import InputError

        have = ", ".join(repr(str(c)) for c in frame.columns) or "none"
        raise InputError(f"no MT column {mapping.mt!r}; the columns are {have}", where="DataFrame",
                         fix="name it with columns={'mt': 'your_column'}")

    def rows() -> Iterator[Mapping[str, Any]]:
        for start in range(0, len(frame), FRAME_CHUNK):
            yield from frame.iloc[start:start + FRAME_CHUNK].to_dict("records")

    return segments_from_records(rows(), columns=mapping, strict=strict, on_bad_record=on_bad_record,
                                 name="DataFrame row")


# ----------------------------------------------------------------------------------------------------
# Out


def feed_fields(segment: Segment) -> dict[str, Any]:
    """The feed's own columns of a segment (those the reader did not map), as read."""
    fields = segment.metadata.get("fields")
    return dict(fields) if isinstance(fields, Mapping) else {}


def segment_row(result: SegmentResult, *, hints: bool = False, flags_as_json: bool = False) -> dict[str, Any]:
    """One row per segment (see the module docstring). ``flags_as_json`` writes the flags as one JSON
    text (CSV, Parquet), else as a list of dicts (a DataFrame)."""
    seg = result.segment
    worst = result.worst_severity
    shown = result.flags if hints else result.shown_flags
    flags = [flag.to_dict() for flag in shown]
    row: dict[str, Any] = {f"field.{k}" if k in SEGMENT_COLUMNS else k: v for k, v in feed_fields(seg).items()}
    row.update({
        "id": seg.id, "doc_id": seg.doc_id, "origin": seg.origin, "source_lang": seg.source_lang,
        "target_lang": seg.target_lang, "source": seg.source, "mt": seg.mt, "reference": seg.reference,
        "risk": result.risk, "priority": round(result.priority, 6),
        "worst_severity": worst.value if worst else None,
        "n_flags": len(result.shown_flags), "n_hints": len(result.hints),
        "flags": json.dumps(flags, ensure_ascii=False, default=str) if flags_as_json else flags,
    })
    row.update({f"score.{name}": value for name, value in result.scores.items()})
    return row


def flag_rows(result: SegmentResult, *, hints: bool = True) -> list[dict[str, Any]]:
    """One row per flag of a result (hints included unless ``hints=False``)."""
    seg = result.segment
    rows = []
    for flag in result.flags if hints else result.shown_flags:
        span = flag.span
        rows.append({
            "segment_id": seg.id, "doc_id": seg.doc_id, "check": flag.check, "severity": flag.severity.value,
            "category": flag.category.value, "message": flag.message, "p_error": flag.p_error,
            "p_major": flag.p_major, "hint": flag.hint, "confidence": flag.confidence,
            "span_side": span.side.value if span else None, "span_start": span.start if span else None,
            "span_end": span.end if span else None, "span_text": span.text_in(seg) if span else None,
        })
    return rows


def results_frame(results: Iterable[SegmentResult], *, hints: bool = False) -> Any:
    """A DataFrame of ``segment_row``\\ s, in input order."""
    import pandas as pd

    rows = [segment_row(r, hints=hints) for r in results]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=list(SEGMENT_COLUMNS))
    return frame


def flags_frame(results: Iterable[SegmentResult], *, hints: bool = True) -> Any:
    """A DataFrame of ``flag_rows``, one per flag."""
    import pandas as pd

    rows = [row for r in results for row in flag_rows(r, hints=hints)]
    frame = pd.DataFrame(rows, columns=list(FLAG_COLUMNS))
    for name in ("span_start", "span_end"):
        frame[name] = frame[name].astype("Int64")
    return frame
