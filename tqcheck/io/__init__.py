"""Reading segments from files and feeds, and writing reports.

``read_segments(paths)`` is the one entry point for input. The format comes from ``format=`` or from the
file names:

==========  ======================================  ==============================================
format      files                                   segments
==========  ======================================  ==============================================
csv, tsv    ``.csv``, ``.tsv``/``.tab``             a row each, columns mapped by ``ColumnMap``
jsonl       ``.jsonl``/``.ndjson``, ``-`` (stdin)   a JSON object per line
parquet     ``.parquet``/``.pq``                    a record each
excel       ``.xlsx``/``.xlsm``                     a row of the first sheet each
text        one ``.txt``                            a line each, target only
parallel    two ``.txt`` (three with a reference)   line *i* of the source and of the MT file
docs        one or two ``.txt``, asked for only     sentences of documents, aligned (see plaintext)
xliff       ``.xlf``, ``.xliff``, ``.sdlxliff``     XLIFF 1.2 / 2.x segments, tags as placeholders
tmx         ``.tmx``                                a ``<tu>`` each
==========  ======================================  ==============================================

Text formats may be gzipped (``feed.jsonl.gz``). Several files of one tabular or XML format are read one
after another (a record without a doc_id then gets its file's name as doc_id). Every segment has an
``origin`` such as ``feed.csv:12`` (a line), ``feed.parquet:record 7``, ``feed.xlsx:row 9`` or
``feed.xlf:unit u3``.

Bad records (a line that is not JSON, a row without an MT value) are skipped and handed to
``on_bad_record`` as ``RecordError`` with ``where`` and a fix, or logged when no callback is given;
``strict=True`` raises the first one instead. Warnings (a file read as Latin-1) go to ``on_warning``, or
to the ``tqcheck.io`` logger. Whatever the format, a text over ``MAX_SEGMENT_CHARS`` or holding a NUL is a
bad record, a lone surrogate is read as U+FFFD and bidi controls are warned about
(``tqcheck.io._common``). Nothing a reader meets escapes as anything but ``InputError`` (the input
cannot be read; ``RecordError`` under ``strict``) or ``UsageError``.

Reports: ``tqcheck.io.reports`` (``open_report``, ``read_report``, ``completed_ids``, ``summary_text``).
This module imports no pandas, pyarrow or XML parser; readers import what they need when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tqcheck.errors import InputError, RecordError, UsageError
from tqcheck.io._common import STDIN, ColumnMap, ReadContext, display_name, screened

if TYPE_CHECKING:
    from tqcheck.model import Segment

FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet", "excel", "text", "parallel", "docs", "xliff", "tmx")

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".txt": "text",
    ".xlf": "xliff",
    ".xliff": "xliff",
    ".sdlxliff": "xliff",
    ".mqxliff": "xliff",
    ".tmx": "tmx",
}
_STREAMABLE = {"csv", "tsv", "jsonl", "text"}  # may also be gzipped


def _extension_format(path: str | Path) -> str | None:
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        fmt = _EXTENSIONS.get(suffixes[-2]) if len(suffixes) > 1 else None
        return fmt if fmt in _STREAMABLE else None
    return _EXTENSIONS.get(suffixes[-1]) if suffixes else None


def detect_format(paths: Sequence[str | Path], explicit: str | None = None) -> str:
    """The input format: ``explicit`` if given (checked), else from the file names (module table)."""
    listed = ", ".join(FORMATS)
    if explicit is not None:
        fmt = explicit.strip().lower()
        if fmt in ("xlsx", "xls"):
            fmt = "excel"
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {explicit!r}", fix=f"use --format with one of: {listed}")
        return fmt
    if not paths:
        raise UsageError("no input given", fix="give a file, or - to read JSONL from stdin")
    if all(str(p) == STDIN for p in paths):
        return "jsonl"
    formats = []
    for path in paths:
        if str(path) == STDIN:
            raise UsageError("stdin (-) cannot be mixed with files", fix="give either files or -")
        path_fmt = _extension_format(path)
        if path_fmt is None:
            raise UsageError(f"cannot tell the format of {display_name(path)} from its name",
                             fix=f"pass --format with one of: {listed}")
        formats.append(path_fmt)
    if len(set(formats)) > 1:
        raise UsageError(f"the inputs are of different formats ({', '.join(sorted(set(formats)))})",
                         fix="check one format at a time")
    fmt = formats[0]
    if fmt == "text" and len(paths) > 1:
        return "parallel"
    return fmt


def read_segments(
    paths: Sequence[str | Path],
    *,
    format: str | None = None,
    columns: ColumnMap | None = None,
    source_lang: str | None = None,
    target_lang: str | None = None,
    strict: bool = False,
    on_bad_record: Callable[[RecordError], None] | None = None,
    stdin: TextIO | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[Segment]:
    """Segments of the inputs, in order, streamed.

    The format and the files are checked now (a ``UsageError`` or ``InputError`` before anything is
    read); records are read as the iterator is consumed. ``source_lang``/``target_lang`` fill in what the
    data does not say (per-record language columns, XLIFF and TMX languages win).
    """
    paths = [p if str(p) == STDIN else Path(p) for p in paths]
    fmt = detect_format(paths, format)
    for path in paths:
        if str(path) != STDIN and not Path(path).is_file():
            raise InputError("no such file" if not Path(path).exists() else "not a file",
                             where=display_name(path), fix="check the path")
    ctx = ReadContext(
        columns=columns or ColumnMap(),
        source_lang=source_lang,
        target_lang=target_lang,
        strict=strict,
        on_bad_record=on_bad_record,
        on_warning=on_warning,
        stdin=stdin,
        several_files=len(paths) > 1,
    )
    if fmt in ("parallel", "docs"):
        if fmt == "parallel":
            from tqcheck.io.plaintext import read_parallel

            return screened(read_parallel(paths, ctx), ctx)
        from tqcheck.io.plaintext import read_docs

        return screened(read_docs(paths, ctx), ctx)  # ids are line or paragraph.sentence numbers: distinct
    return _distinct_ids(screened(_each_file(fmt, paths, ctx), ctx), ctx)


#: Metadata key of a segment whose id was already used earlier in its input: the id it had.
REPEATED_ID = "repeated_id"


def _distinct_ids(segments: Iterator[Segment], ctx: ReadContext) -> Iterator[Segment]:
    """Give a repeated id a suffix (``12#2``) and say so, instead of letting two segments share it.

    Ids key everything downstream: ``--resume`` skips the ids already in the partial report, the
    review store keeps one row (and one reviewer decision) per id, XLIFF write-back finds units by
    id. A feed with a repeated id (two CSV rows, two files both counted from 1) would silently lose
    one of the two there. The ids seen are kept as 64-bit hashes in one flat table (``_HashSet64``:
    16 MB for a million ids, where a Python set would take about 60), so a long feed stays cheap."""
    import dataclasses

    seen = _HashSet64()
    repeats: dict[str, int] = {}
    for segment in segments:
        if not seen.add(segment.id):
            n = repeats.get(segment.id, 1) + 1
            while not seen.add(f"{segment.id}#{n}"):
                n += 1
            repeats[segment.id] = n
            new_id = f"{segment.id}#{n}"
            # Said once per run, not once per segment (a feed can repeat thousands): the run counts
            # the segments marked here and names the first few; each result keeps its mark.
            segment = dataclasses.replace(segment, id=new_id,
                                          metadata={**segment.metadata, REPEATED_ID: segment.id})
        yield segment


class _HashSet64:
    """A set of strings kept only as 64-bit hashes, in an open-addressing table of one ``array``.

    Two different ids share a 64-bit hash with probability ~n²/2^65: about 3e-8 for a million ids.
    """

    def __init__(self, capacity: int = 1 << 12) -> None:
        from array import array

        self._table = array("Q", bytes(8 * capacity))  # 0 marks an empty slot
        self._used = 0

    def add(self, text: str) -> bool:
        """Add ``text``; False when it was already there."""
        key = (hash(text) & 0xFFFFFFFFFFFFFFFF) or 1
        if self._insert(key):
            self._used += 1
            if self._used * 4 > len(self._table) * 3:
                self._grow()
            return True
        return False

    def _insert(self, key: int) -> bool:
        table, mask = self._table, len(self._table) - 1
        i = key & mask
        while True:
            value = table[i]
            if value == 0:
                table[i] = key
                return True
            if value == key:
                return False
            i = (i + 1) & mask

    def _grow(self) -> None:
        from array import array

        old = self._table
        self._table = array("Q", bytes(16 * len(old)))
        for key in old:
            if key:
                self._insert(key)


def _each_file(fmt: str, paths: list[Any], ctx: ReadContext) -> Iterator[Segment]:
    if fmt == "text":
        from tqcheck.io.plaintext import read_text

        yield from read_text(paths, ctx)
    elif fmt == "xliff":
        from tqcheck.io.xliff import read_xliff

        yield from read_xliff(paths, ctx)
    elif fmt == "tmx":
        from tqcheck.io.tmx import read_tmx

        yield from read_tmx(paths, ctx)
    else:
        from tqcheck.io.tables import READERS

        for path in paths:
            yield from READERS[fmt](path, ctx)


def __getattr__(name: str) -> Any:
    # The report API, re-exported lazily so that importing tqcheck.io stays light.
    if name in ("open_report", "read_report", "completed_ids", "summary_text", "ReportWriter",
                "partial_path"):
        from tqcheck.io import reports

        return getattr(reports, name)
    if name == "write_xliff":
        from tqcheck.io.xliff import write_xliff

        return write_xliff
    raise AttributeError(f"module 'tqcheck.io' has no attribute {name!r}")


__all__ = ["FORMATS", "ColumnMap", "detect_format", "read_segments", "open_report", "read_report",
           "completed_ids", "summary_text", "ReportWriter", "write_xliff"]
