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
* CSV and Parquet, for spreadsheets and dashboards: one row per segment (``tqcheck.io.frames.segment_row``):
  the feed's own columns, the texts, ``risk``, ``priority``, ``worst_severity``, the counts of shown flags
  and hints, the shown flags as one JSON text, and one ``score.<name>`` column per score. The run
  signature and summary go into the Parquet file's key-value metadata (``tqcheck.signature``,
  ``tqcheck.summary``) and, for CSV, into a sidecar ``<path>.meta.json``. Rows are buffered and written at
  ``close`` (the score columns are known only then) to a temporary file in the same directory, then
  renamed. Cells are written as they are: a text starting with ``=`` is not defused for spreadsheets (the
  JSONL report is the lossless one; open CSV in a spreadsheet as text).
* HTML, for people: see ``tqcheck.io.html_report``; written at ``close`` like CSV.

A writer is a sink of ``tqcheck.run``: ``begin(signature)`` (done by ``open_report`` when it is given a
signature), ``write(result)``, ``close(summary, signature)``. The signature given to ``close`` is the
final one (engines picked by ``auto`` are known only after the run): the JSONL report's first line is
rewritten with it. ``abort()`` removes the temporary file of CSV, Parquet and HTML writers; the JSONL
writer keeps its ``.partial`` for resuming. Used as a context manager, a writer aborts on an exception
and closes (with the summary it counted itself) otherwise. Hints (flags below the display floor) are in
the JSONL report always, in the others only when the writer is opened with ``hints=True``.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from tqcheck.errors import InputError, UsageError
from tqcheck.io._atomic import fsync_dir, write_atomically
from tqcheck.model import RunSignature, SegmentResult, Summary, SummaryTally

REPORT_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet", ".html": "html", ".htm": "html"}
PARTIAL_SUFFIX = ".partial"


class ReportWriter(Protocol):
    resumed: bool

    def begin(self, signature: RunSignature) -> None: ...
    def write(self, result: SegmentResult) -> None: ...
    def close(self, summary: Summary | None = None, signature: RunSignature | None = None) -> None: ...
    def abort(self) -> None: ...
    def __enter__(self) -> ReportWriter: ...
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


class _Writer:
    """What all writers share: counting, begin/close/abort once each, the context-manager protocol."""

    #: True for a writer that already holds a resumed run's first leg (a resumed JSONL checkpoint).
    resumed = False

    def __init__(self, path: str | Path, *, hints: bool = False) -> None:
        self.path = Path(path)
        self.hints = hints
        self.signature: RunSignature | None = None
        self.tally = SummaryTally()
        self.finished = False

    def begin(self, signature: RunSignature) -> None:
        if self.signature is not None:
            raise UsageError(f"report {self.path} was already begun")
        self.signature = signature
        self._begin(signature)

    def write(self, result: SegmentResult) -> None:
        if self.finished:
            raise UsageError(f"report {self.path} is already closed")
        if self.signature is None:
            raise UsageError(f"report {self.path} was not begun", fix="call begin(signature) first")
        self.tally.add(result)
        self._write(result)

    def close(self, summary: Summary | None = None, signature: RunSignature | None = None) -> None:
        """Finish the report with ``summary`` (else the writer's own count) and the final ``signature``
        (else the one it was begun with)."""
        if self.finished:
            return
        self.finished = True
        final = signature or self.signature
        if final is None:
            raise UsageError(f"report {self.path} was not begun", fix="call begin(signature) first")
        try:
            self._close(summary if summary is not None else self.tally.summary(), final)
        except BaseException:
            self._discard()
            raise

    def abort(self) -> None:
        if self.finished:
            return
        self.finished = True
        self._discard()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    def _begin(self, signature: RunSignature) -> None:
        pass

    def _write(self, result: SegmentResult) -> None:
        raise NotImplementedError

    def _close(self, summary: Summary, signature: RunSignature) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError

    def _atomic(self, produce: Any, *, binary: bool = False) -> None:
        write_atomically(self.path, produce, binary=binary)


# --------------------------------------------------------------------------------------------- JSONL


class JsonlReportWriter(_Writer):
    def __init__(self, path: str | Path, *, resume: bool = False) -> None:
        super().__init__(path, hints=True)
        self.partial = partial_path(self.path)
        self.resume = resume
        self._fh: IO[str] | None = None

    def _begin(self, signature: RunSignature) -> None:
        if self.resume and self.partial.exists():
            self._prepare_resume()
            self.resumed = True
            self._fh = open(self.partial, "a", encoding="utf-8")
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
                    ours = self.signature.config_hash if self.signature else None
                    if theirs != ours:
                        raise UsageError(
                            f"{name} was made with another configuration ({theirs}, this run has "
                            f"{ours})",
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
        assert self._fh is not None
        self._fh.write(_dumps({"type": "result", **result.to_dict()}) + "\n")
        self._fh.flush()

    def _close(self, summary: Summary, signature: RunSignature) -> None:
        assert self._fh is not None
        self._fh.write(_dumps({"type": "summary", **summary.to_dict()}) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        final = _dumps({"type": "signature", **signature.to_dict()}) + "\n"
        if _first_line(self.partial) != final.encode("utf-8"):
            _replace_first_line(self.partial, final)
        os.replace(self.partial, self.path)
        fsync_dir(self.path.parent if str(self.path.parent) else Path("."))

    def _discard(self) -> None:
        # Keep <path>.partial: it is the checkpoint --resume continues from; unless it holds no
        # result at all (a feed of which nothing could be read): then there is nothing to resume.
        if self._fh is not None and not self._fh.closed:
            self._fh.flush()
            self._fh.close()
        if self.tally.segments == 0 and not self.resumed and self.partial.exists():
            self.partial.unlink()


def _first_line(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.readline()


def _replace_first_line(path: Path, line: str) -> None:
    """Rewrite ``path`` with ``line`` in place of its first line: the final signature replaces the one
    written before any engine had loaded. A sequential copy next to it, then an atomic rename (a kill
    in between leaves the checkpoint as it was)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        src.readline()
        dst.write(line.encode("utf-8"))
        while chunk := src.read(1 << 20):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)


class StreamReportWriter(_Writer):
    """JSONL on a stream (stdout for ``-``): for pipelines; neither atomic nor resumable. Its first line
    is the signature known at the start; the final one comes again just before the summary."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__("-", hints=True)
        self._stream = stream

    def _begin(self, signature: RunSignature) -> None:
        self._stream.write(_dumps({"type": "signature", **signature.to_dict()}) + "\n")

    def _write(self, result: SegmentResult) -> None:
        self._stream.write(_dumps({"type": "result", **result.to_dict()}) + "\n")
        self._stream.flush()

    def _close(self, summary: Summary, signature: RunSignature) -> None:
        if signature is not self.signature:
            self._stream.write(_dumps({"type": "signature", **signature.to_dict()}) + "\n")
        self._stream.write(_dumps({"type": "summary", **summary.to_dict()}) + "\n")
        self._stream.flush()

    def _discard(self) -> None:
        self._stream.flush()


# -------------------------------------------------------------------------------------- CSV, Parquet


class _FlatWriter(_Writer):
    def __init__(self, path: str | Path, *, hints: bool = False) -> None:
        super().__init__(path, hints=hints)
        self.rows: list[dict[str, Any]] = []
        self.columns: dict[str, None] = {}

    def _write(self, result: SegmentResult) -> None:
        from tqcheck.io.frames import segment_row

        row = segment_row(result, hints=self.hints, flags_as_json=True)
        for name in row:
            self.columns.setdefault(name, None)
        self.rows.append(row)

    def ordered_columns(self) -> list[str]:
        """The feed's columns first (in order of appearance), then the fixed ones, then the scores."""
        from tqcheck.io.frames import SEGMENT_COLUMNS

        fixed = set(SEGMENT_COLUMNS)
        feed = [c for c in self.columns if c not in fixed and not c.startswith("score.")]
        scores = sorted(c for c in self.columns if c.startswith("score."))
        return [*feed, *SEGMENT_COLUMNS, *scores]

    def _discard(self) -> None:
        self.rows = []


def _meta(summary: Summary, signature: RunSignature) -> dict[str, Any]:
    return {"signature": signature.to_dict(), "summary": summary.to_dict()}


def meta_path(path: str | Path) -> Path:
    """The sidecar of a CSV report: its run signature and summary (``<path>.meta.json``)."""
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


class CsvReportWriter(_FlatWriter):
    def _close(self, summary: Summary, signature: RunSignature) -> None:
        columns = self.ordered_columns()

        def produce(fh: IO[str]) -> None:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: ("" if v is None else v) for k, v in row.items()})

        self._atomic(produce)
        write_atomically(meta_path(self.path), lambda fh: fh.write(_dumps(_meta(summary, signature)) + "\n"))
        self.rows = []


class ParquetReportWriter(_FlatWriter):
    def _close(self, summary: Summary, signature: RunSignature) -> None:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = pd.DataFrame(self.rows, columns=self.ordered_columns())
        for name in ("n_flags", "n_hints"):
            frame[name] = frame[name].astype("Int64")
        for name in ("risk", "priority", *(c for c in frame.columns if c.startswith("score."))):
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = {**(table.schema.metadata or {}), b"tqcheck.signature": _dumps(signature.to_dict()).encode(),
                b"tqcheck.summary": _dumps(summary.to_dict()).encode()}
        table = table.replace_schema_metadata(meta)
        self._atomic(lambda fh: pq.write_table(table, fh), binary=True)
        self.rows = []


def read_parquet_meta(path: str | Path) -> tuple[RunSignature | None, Summary | None]:
    """The signature and summary a Parquet report carries in its metadata."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    sig = meta.get(b"tqcheck.signature")
    summ = meta.get(b"tqcheck.summary")
    return (RunSignature.from_dict(json.loads(sig)) if sig else None,
            Summary.from_dict(json.loads(summ)) if summ else None)


# ---------------------------------------------------------------------------------------------- HTML


class HtmlReportWriter(_Writer):
    """Keeps the flagged segments (up to ``max_flagged``) and some unflagged ones; renders at close."""

    def __init__(self, path: str | Path, *, hints: bool = False, max_flagged: int = 5000,
                 max_clean: int = 500) -> None:
        super().__init__(path, hints=hints)
        self.max_flagged, self.max_clean = max_flagged, max_clean
        self.flagged: list[tuple[int, SegmentResult]] = []
        self.clean: list[SegmentResult] = []
        self.flagged_total = self.clean_total = 0

    def _write(self, result: SegmentResult) -> None:
        if result.flags if self.hints else result.shown_flags:
            self.flagged_total += 1
            self.flagged.append((self.flagged_total, result))
            if len(self.flagged) > 2 * self.max_flagged:  # keep memory bounded: keep the worst
                self.flagged = _worst_first(self.flagged)[: self.max_flagged]
        else:
            self.clean_total += 1
            if len(self.clean) < self.max_clean:
                self.clean.append(result)

    def _close(self, summary: Summary, signature: RunSignature) -> None:
        from tqcheck.io.html_report import render

        flagged = _worst_first(self.flagged)[: self.max_flagged]
        page = render(signature, summary, flagged, self.clean, title=self.path.name,
                      flagged_total=self.flagged_total, clean_total=self.clean_total, hints=self.hints)
        self._atomic(lambda fh: fh.write(page))
        self.flagged, self.clean = [], []

    def _discard(self) -> None:
        self.flagged, self.clean = [], []


def _worst_first(items: list[tuple[int, SegmentResult]]) -> list[tuple[int, SegmentResult]]:
    """By expected error (``SegmentResult.priority``), input order on ties."""
    return sorted(items, key=lambda item: (-item[1].priority, item[0]))


# --------------------------------------------------------------------------------------------- entry


def open_report(path: str | Path, *, format: str | None = None, signature: RunSignature | None = None,
                resume: bool = False, hints: bool = False) -> ReportWriter:
    """A writer for ``path``; the format comes from ``format`` or the extension (.jsonl .csv .parquet
    .html). With ``signature`` the writer is begun at once; otherwise the run begins it."""
    import sys

    writer: _Writer
    if str(path) == "-":
        if format not in (None, "jsonl"):
            raise UsageError(f"only JSONL can be written to stdout, not {format}", fix="give a file name")
        writer = StreamReportWriter(sys.stdout)
    else:
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
            writer = JsonlReportWriter(p, resume=resume)
        else:
            writer = {"csv": CsvReportWriter, "parquet": ParquetReportWriter,
                      "html": HtmlReportWriter}[fmt](p, hints=hints)
    if signature is not None:
        writer.begin(signature)
    return writer


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
             + (f"   hints: {summary.hints} (not counted; in the JSONL report)" if summary.hints else "")
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
    if summary.coverage:
        from tqcheck.coverage import coverage_line

        lines += ["coverage " + coverage_line(pair, entry) for pair, entry in summary.coverage.items()]
    return "\n".join(lines)
