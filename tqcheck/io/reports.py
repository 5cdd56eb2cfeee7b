"""Report writers (JSONL, CSV, Parquet, HTML) and the JSONL report reader.

Every report is written atomically: a reader never sees half a report under the final name.

* JSONL, the lossless report: line 1 ``{"type": "signature", ...}``, then ``{"type": "result", ...}``
  per segment, last ``{"type": "summary", ...}``. While a run is going, lines are appended (and flushed)
  to ``<path>.partial``; ``close`` writes the summary, fsyncs and renames it to ``<path>``. A killed or
  aborted run leaves only ``<path>.partial``, which is the checkpoint for ``--resume``:
  ``open_report(path, resume=True)`` appends to it (after checking it was made with the same
  configuration hash and cutting off a half-written last line), and ``completed_ids(path)`` lists the
  segments it already holds. ``read_report`` reads a report (or a ``.partial``) back into the model's
  objects. ``-`` as the path streams JSONL to stdout (not atomic, not resumable).
* CSV and Parquet, flat, for spreadsheets and dashboards: one row per flag, one row for a segment
  without flags; columns ``segment_id, doc_id, origin, source_lang, target_lang, source, mt, risk,
  check, severity, category, message, span_start, span_end, span_side, span_text`` and one
  ``score.<name>`` column per score. Rows are buffered and written at ``close`` (the score columns are
  known only then) to a temporary file in the same directory, then renamed. Cells are written as they
  are: a text starting with ``=`` is not defused for spreadsheets (the JSONL report is the lossless one;
  open CSV in a spreadsheet as text).
* HTML, for people: see ``tqcheck.io.html_report``; written at ``close`` like CSV.

``abort()`` removes the temporary file of CSV, Parquet and HTML writers; the JSONL writer keeps its
``.partial`` for resuming. Used as a context manager, a writer aborts on an exception and closes (with the
summary it counted itself) otherwise.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import IO, Any, Iterator, Protocol

from tqcheck.errors import InputError, UsageError
from tqcheck.io._atomic import fsync_dir, write_atomically
from tqcheck.model import RunSignature, SegmentResult, Summary

REPORT_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet", ".html": "html", ".htm": "html"}
FLAT_COLUMNS = ("segment_id", "doc_id", "origin", "source_lang", "target_lang", "source", "mt", "risk",
                "check", "severity", "category", "message", "span_start", "span_end", "span_side",
                "span_text")
PARTIAL_SUFFIX = ".partial"


class ReportWriter(Protocol):
    def write(self, result: SegmentResult) -> None: ...
    def close(self, summary: Summary | None = None) -> None: ...
    def abort(self) -> None: ...
    def __enter__(self) -> "ReportWriter": ...
    def __exit__(self, *exc: Any) -> None: ...


def partial_path(path: str | Path) -> Path:
    """Where a JSONL report lives while its run is going: ``<path>.partial``."""
    path = Path(path)
    return path if path.name.endswith(PARTIAL_SUFFIX) else path.with_name(path.name + PARTIAL_SUFFIX)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "items"):
        return dict(value.items())
    return str(value)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps(obj: Any) -> str:
    """One JSON line, valid UTF-8 whatever the text holds.

    A lone surrogate (JSON's ``"\\udfff"``, which ``json.loads`` accepts) cannot be encoded as UTF-8;
    it can only sit inside a JSON string, so it is written as its ``\\udfff`` escape, as
    ``ensure_ascii`` would, and reads back as it was. Every other character is written as itself."""
    text = json.dumps(obj, ensure_ascii=False, default=_json_default)
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _Tally:
    """The counts of a Summary, kept as results go by (for a writer closed without a summary)."""

    def __init__(self) -> None:
        self.segments = self.flagged = 0
        self.by_severity: dict[str, int] = {}
        self.by_category: dict[str, int] = {}
        self.by_check: dict[str, int] = {}

    def add(self, result: SegmentResult) -> None:
        self.segments += 1
        self.flagged += bool(result.flags)
        for flag in result.flags:
            for counts, key in ((self.by_severity, flag.severity.value), (self.by_category, flag.category.value),
                                (self.by_check, flag.check)):
                counts[key] = counts.get(key, 0) + 1

    def summary(self) -> Summary:
        return Summary(self.segments, self.flagged, self.by_severity, self.by_category, self.by_check)


class _Writer:
    """What all writers share: counting, idempotent close/abort, the context-manager protocol."""

    def __init__(self, path: str | Path, signature: RunSignature) -> None:
        self.path = Path(path)
        self.signature = signature
        self.tally = _Tally()
        self.finished = False

    def write(self, result: SegmentResult) -> None:
        if self.finished:
            raise UsageError(f"report {self.path} is already closed")
        self.tally.add(result)
        self._write(result)

    def close(self, summary: Summary | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        try:
            self._close(summary if summary is not None else self.tally.summary())
        except BaseException:
            self._discard()
            raise

    def abort(self) -> None:
        if self.finished:
            return
        self.finished = True
        self._discard()

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def _write(self, result: SegmentResult) -> None:
        raise NotImplementedError

    def _close(self, summary: Summary) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError

    def _atomic(self, produce: Any, *, binary: bool = False) -> None:
        write_atomically(self.path, produce, binary=binary)


# --------------------------------------------------------------------------------------------- JSONL


class JsonlReportWriter(_Writer):
    def __init__(self, path: str | Path, signature: RunSignature, *, resume: bool = False) -> None:
        super().__init__(path, signature)
        self.partial = partial_path(self.path)
        if resume and self.partial.exists():
            self._prepare_resume()
            self._fh: IO[str] = open(self.partial, "a", encoding="utf-8")
        else:
            self._fh = open(self.partial, "w", encoding="utf-8")
            self._fh.write(_dumps({"type": "signature", **signature.to_dict()}) + "\n")
            self._fh.flush()

    def _prepare_resume(self) -> None:
        """Check the checkpoint is this run's, count what it holds, cut a half-written tail."""
        name = str(self.partial)
        keep = 0
        with open(self.partial, "rb") as fh:
            for number, raw in enumerate(fh, 1):
                try:
                    record = json.loads(raw) if raw.endswith(b"\n") else None
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    break  # a line cut by the kill: drop it and anything after
                kind = record.get("type")
                if number == 1:
                    if kind != "signature":
                        raise InputError("is not a tqcheck JSONL report (no signature line)", where=name,
                                         fix="delete it, or run without --resume")
                    theirs = record.get("config_hash")
                    if theirs != self.signature.config_hash:
                        raise UsageError(
                            f"{name} was made with another configuration ({theirs}, this run has "
                            f"{self.signature.config_hash})",
                            fix="resume with the same options, or delete the .partial file")
                elif kind == "result":
                    self.tally.add(SegmentResult.from_dict(record))
                else:
                    break  # a summary written just before a crash: the run goes on, so drop it
                keep += len(raw)
        if keep == 0:
            raise InputError("is empty or damaged", where=name, fix="delete it, or run without --resume")
        with open(self.partial, "r+b") as fh:
            fh.truncate(keep)

    def _write(self, result: SegmentResult) -> None:
        self._fh.write(_dumps({"type": "result", **result.to_dict()}) + "\n")
        self._fh.flush()

    def _close(self, summary: Summary) -> None:
        self._fh.write(_dumps({"type": "summary", **summary.to_dict()}) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self.partial, self.path)
        fsync_dir(self.path.parent if str(self.path.parent) else Path("."))

    def _discard(self) -> None:
        # Keep <path>.partial: it is the checkpoint --resume continues from.
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()


class StreamReportWriter(_Writer):
    """JSONL on a stream (stdout for ``-``): for pipelines; neither atomic nor resumable."""

    def __init__(self, stream: IO[str], signature: RunSignature) -> None:
        super().__init__("-", signature)
        self._stream = stream
        self._stream.write(_dumps({"type": "signature", **signature.to_dict()}) + "\n")

    def _write(self, result: SegmentResult) -> None:
        self._stream.write(_dumps({"type": "result", **result.to_dict()}) + "\n")
        self._stream.flush()

    def _close(self, summary: Summary) -> None:
        self._stream.write(_dumps({"type": "summary", **summary.to_dict()}) + "\n")
        self._stream.flush()

    def _discard(self) -> None:
        self._stream.flush()


# -------------------------------------------------------------------------------------- CSV, Parquet


def flat_rows(result: SegmentResult) -> list[dict[str, Any]]:
    """One row per flag (one row for a segment without flags), as in the CSV and Parquet reports."""
    seg = result.segment
    base: dict[str, Any] = {
        "segment_id": seg.id, "doc_id": seg.doc_id, "origin": seg.origin, "source_lang": seg.source_lang,
        "target_lang": seg.target_lang, "source": seg.source, "mt": seg.mt, "risk": result.risk,
    }
    scores = {f"score.{name}": value for name, value in result.scores.items()}
    empty = {"check": None, "severity": None, "category": None, "message": None, "span_start": None,
             "span_end": None, "span_side": None, "span_text": None}
    if not result.flags:
        return [{**base, **empty, **scores}]
    rows = []
    for flag in result.flags:
        span = flag.span
        rows.append({
            **base,
            "check": flag.check,
            "severity": flag.severity.value,
            "category": flag.category.value,
            "message": flag.message,
            "span_start": span.start if span else None,
            "span_end": span.end if span else None,
            "span_side": span.side.value if span else None,
            "span_text": span.text_in(seg) if span else None,
            **scores,
        })
    return rows


class _FlatWriter(_Writer):
    def __init__(self, path: str | Path, signature: RunSignature) -> None:
        super().__init__(path, signature)
        self.rows: list[dict[str, Any]] = []
        self.score_columns: dict[str, None] = {}

    def _write(self, result: SegmentResult) -> None:
        for name in result.scores:
            self.score_columns.setdefault(f"score.{name}", None)
        self.rows.extend(flat_rows(result))

    def columns(self) -> list[str]:
        return [*FLAT_COLUMNS, *sorted(self.score_columns)]

    def _discard(self) -> None:
        self.rows = []


class CsvReportWriter(_FlatWriter):
    def _close(self, summary: Summary) -> None:
        columns = self.columns()

        def produce(fh: IO[str]) -> None:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: ("" if v is None else v) for k, v in row.items()})

        self._atomic(produce)
        self.rows = []


class ParquetReportWriter(_FlatWriter):
    def _close(self, summary: Summary) -> None:
        import pandas as pd

        frame = pd.DataFrame(self.rows, columns=self.columns())
        for name in ("span_start", "span_end"):
            frame[name] = frame[name].astype("Int64")
        for name in ("risk", *self.score_columns):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        self._atomic(lambda fh: frame.to_parquet(fh, index=False), binary=True)
        self.rows = []


# ---------------------------------------------------------------------------------------------- HTML


class HtmlReportWriter(_Writer):
    """Keeps the flagged segments (up to ``max_flagged``) and some unflagged ones; renders at close."""

    def __init__(self, path: str | Path, signature: RunSignature, *, max_flagged: int = 5000,
                 max_clean: int = 500) -> None:
        super().__init__(path, signature)
        self.max_flagged, self.max_clean = max_flagged, max_clean
        self.flagged: list[tuple[int, SegmentResult]] = []
        self.clean: list[SegmentResult] = []
        self.flagged_total = self.clean_total = 0

    def _write(self, result: SegmentResult) -> None:
        if result.flags:
            self.flagged_total += 1
            self.flagged.append((self.flagged_total, result))
            if len(self.flagged) > 2 * self.max_flagged:  # keep memory bounded: keep the worst
                self.flagged = _worst_first(self.flagged)[: self.max_flagged]
        else:
            self.clean_total += 1
            if len(self.clean) < self.max_clean:
                self.clean.append(result)

    def _close(self, summary: Summary) -> None:
        from tqcheck.io.html_report import render

        flagged = [r for _, r in _worst_first(self.flagged)[: self.max_flagged]]
        page = render(self.signature, summary, flagged, self.clean, title=self.path.name,
                      flagged_total=self.flagged_total, clean_total=self.clean_total)
        self._atomic(lambda fh: fh.write(page))
        self.flagged, self.clean = [], []

    def _discard(self) -> None:
        self.flagged, self.clean = [], []


def _worst_first(items: list[tuple[int, SegmentResult]]) -> list[tuple[int, SegmentResult]]:
    def key(item: tuple[int, SegmentResult]) -> tuple[float, int, int, int]:
        order, result = item
        worst = result.worst_severity
        return (-(result.risk if result.risk is not None else -1.0), -(worst.rank if worst else 0),
                -result.mqm_penalty, order)

    return sorted(items, key=key)


# --------------------------------------------------------------------------------------------- entry


def open_report(path: str | Path, *, format: str | None = None, signature: RunSignature,
                resume: bool = False) -> ReportWriter:
    """A writer for ``path``; the format comes from ``format`` or the extension (.jsonl .csv .parquet .html)."""
    import sys

    if str(path) == "-":
        if format not in (None, "jsonl"):
            raise UsageError(f"only JSONL can be written to stdout, not {format}", fix="give a file name")
        return StreamReportWriter(sys.stdout, signature)
    p = Path(path)
    fmt = format.lower() if format else REPORT_FORMATS.get(p.suffix.lower())
    if fmt not in ("jsonl", "csv", "parquet", "html"):
        raise UsageError(f"cannot tell the report format of {p}",
                         fix="end the name with .jsonl, .csv, .parquet or .html, or pass the format")
    if resume and fmt != "jsonl":
        raise UsageError("only JSONL reports can be resumed", fix="write the report as .jsonl")
    if not p.parent.exists() and str(p.parent):
        raise UsageError(f"the directory of {p} does not exist", fix="create it first")
    if fmt == "jsonl":
        return JsonlReportWriter(p, signature, resume=resume)
    return {"csv": CsvReportWriter, "parquet": ParquetReportWriter, "html": HtmlReportWriter}[fmt](p, signature)


# ----------------------------------------------------------------------------------------- reading


def _report_file(path: str | Path) -> Path:
    p = Path(path)
    if p.exists():
        return p
    partial = partial_path(p)
    if partial.exists():
        return partial
    raise InputError("no such report", where=str(p), fix="check the path (a running report ends in .partial)")


def _last_line(path: Path) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        block = b""
        position = end
        while position > 0:
            step = min(65536, position)
            position -= step
            fh.seek(position)
            block = fh.read(step) + block
            stripped = block.rstrip(b"\n")
            if b"\n" in stripped:
                return stripped.rsplit(b"\n", 1)[1]
        return block.rstrip(b"\n")


def read_report(path: str | Path) -> tuple[RunSignature | None, Iterator[SegmentResult], Summary | None]:
    """A JSONL report (or its ``.partial``): signature, results (streamed, in order) and summary.

    The summary is None for a report whose run has not finished. A damaged line raises ``InputError``
    with its line number, except a half-written last line of a ``.partial``, which is ignored.
    """
    p = _report_file(path)
    with open(p, "rb") as fh:
        first = fh.readline()
    signature = None
    try:
        head = json.loads(first) if first.strip() else None
    except ValueError as exc:
        raise InputError("is not a JSONL report", where=f"{p}:1") from exc
    if isinstance(head, dict) and head.get("type") == "signature":
        signature = RunSignature.from_dict({k: v for k, v in head.items() if k != "type"})
    summary = None
    try:
        tail = json.loads(_last_line(p))
        if isinstance(tail, dict) and tail.get("type") == "summary":
            summary = Summary.from_dict({k: v for k, v in tail.items() if k != "type"})
    except ValueError:
        pass
    return signature, _results(p), summary


def _results(p: Path) -> Iterator[SegmentResult]:
    partial = p.name.endswith(PARTIAL_SUFFIX)
    with open(p, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if record.get("type") != "result":
                    continue
                yield SegmentResult.from_dict(record)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                if partial and not line.endswith("\n"):
                    return  # cut by a kill
                raise InputError(f"damaged report line ({exc})", where=f"{p}:{number}") from exc


def completed_ids(path: str | Path) -> set[str]:
    """Ids of the segments already in ``<path>.partial`` (empty if there is none), for ``--resume``."""
    partial = partial_path(path)
    done: set[str] = set()
    if not partial.exists():
        return done
    with open(partial, "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                record = json.loads(raw)
            except ValueError:
                break
            if isinstance(record, dict) and record.get("type") == "result":
                done.add(str(record["segment"]["id"]))
    return done


def summary_text(summary: Summary) -> str:
    """The summary for a terminal: a few lines, largest counts first."""
    share = f" ({summary.flagged / summary.segments:.1%})" if summary.segments else ""
    lines = [f"segments: {summary.segments}   flagged: {summary.flagged}{share}"
             + (f"   skipped records: {summary.skipped_records}" if summary.skipped_records else "")]
    order = {"critical": 0, "major": 1, "minor": 2}
    if summary.by_severity:
        parts = sorted(summary.by_severity.items(), key=lambda kv: order.get(kv[0], 9))
        lines.append("by severity: " + ", ".join(f"{k} {v}" for k, v in parts))
    for label, counts in (("by category", summary.by_category), ("by check", summary.by_check)):
        if counts:
            parts = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            lines.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in parts))
    if summary.corpus_metrics:
        lines.append("corpus: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, (int, float)) else f"{k} {v}"
                                            for k, v in sorted(summary.corpus_metrics.items())))
    return "\n".join(lines)
