"""Readers of tabular feeds: CSV, TSV, JSONL, Parquet and Excel, one record per segment.

All of them stream: CSV/TSV and JSONL a line at a time, Parquet a record batch at a time, Excel a row at a
time (openpyxl's read-only mode), so a feed of a million lines reads in constant memory.

CSV and TSV are parsed with the standard library's ``csv`` module rather than pandas: it gives the exact
line a record starts on (a quoted field may span lines, so pandas' row index is not a line number), it
lets one malformed row be skipped and reported instead of failing or silently dropping, and it keeps
every cell as the text written (``007`` stays ``007``). TSV is read without quote processing, as the
IANA ``text/tab-separated-values`` type and Moses/WMT files have it: a lone ``"`` in a sentence must not
swallow the following rows. A CSV whose header holds ``;`` and no ``,`` is read with ``;``.

Columns are mapped by ``ColumnMap``. Without an id column, ids are the 1-based record numbers ("1",
"2", ...; a skipped bad record keeps its number, so later ids do not move when it is fixed). Per-record
language columns (``source_lang``/``target_lang`` or a pair ``lp`` such as ``fr-en``) win over the
languages given to ``read_segments``, which fill the gaps. Columns the map does not use are kept in
``Segment.metadata["fields"]`` (a JSONL record's own ``metadata`` object is merged in as well), so a
feed's ``engine`` or ``client`` column can be used downstream.

An empty cell or ``""`` in the MT column is an empty translation: kept, flagged later. A record without
an MT value at all (JSON ``null`` or no such key, a short CSV row, an Arrow null) is a bad record.

A JSONL line nested deeper than ``MAX_JSON_DEPTH`` is a bad record (checked after parsing, and only on
lines with that many brackets, so a flat feed pays nothing); a lone surrogate escape (``"\\udfff"``,
which ``json.loads`` accepts) anywhere in a record is read as U+FFFD and warned about, so that no
writer downstream meets a string it cannot encode.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqcheck.errors import InputError
from tqcheck.io._common import (
    ALIASES,
    MAX_JSON_DEPTH,
    PAIR_NAMES,
    SOURCE_LANG_NAMES,
    STDIN,
    TARGET_LANG_NAMES,
    ColumnMap,
    ReadContext,
    as_text,
    display_name,
    open_text,
    parse_pair,
    record_error,
    repair_surrogates,
    sniff_encoding,
    text_lines,
)
from tqcheck.model import Segment

_DEFAULTS = ColumnMap()
_MT_FIX = "give every record an MT value (an empty string for an empty translation), or name the column with --mt-col"


@dataclass(frozen=True)
class _Fields:
    """Which key of a record holds what, resolved once per table (once per key set for JSONL)."""

    mt: str | None
    source: str | None
    reference: str | None
    id: str | None
    doc_id: str | None
    source_lang: str | None
    target_lang: str | None
    pair: str | None
    known: frozenset[str]


def _pick(name: str | None, default: str | None, alias_key: str, available: Mapping[str, Any] | set[str]) -> str | None:
    if name is None:
        return None
    if name in available:
        return name
    if name == default:
        for alias in ALIASES.get(alias_key, ()):
            if alias in available:
                return alias
    return None


def resolve_fields(columns: ColumnMap, available: Iterable[str]) -> _Fields:
    names = set(available)

    def first(explicit: str | None, candidates: Sequence[str]) -> str | None:
        if explicit is not None:
            return explicit if explicit in names else None
        return next((c for c in candidates if c in names), None)

    fields = _Fields(
        mt=_pick(columns.mt, _DEFAULTS.mt, "mt", names),
        source=_pick(columns.source, _DEFAULTS.source, "source", names),
        reference=_pick(columns.reference, _DEFAULTS.reference, "reference", names),
        id=_pick(columns.id, _DEFAULTS.id, "id", names),
        doc_id=_pick(columns.doc_id, _DEFAULTS.doc_id, "doc_id", names),
        source_lang=first(columns.source_lang, SOURCE_LANG_NAMES),
        target_lang=first(columns.target_lang, TARGET_LANG_NAMES),
        pair=None if (columns.source_lang or columns.target_lang) else first(None, PAIR_NAMES),
        known=frozenset(),
    )
    used = {getattr(fields, f) for f in ("mt", "source", "reference", "id", "doc_id", "source_lang",
                                         "target_lang", "pair")} - {None}
    return _Fields(**{**fields.__dict__, "known": frozenset(used | {"metadata"})})


def _check_table_columns(columns: ColumnMap, fields: _Fields, header: Sequence[str], name: str) -> None:
    """A table (unlike a JSONL feed) has one header: a missing mapped column is a file error."""
    have = ", ".join(repr(h) for h in header) or "none"
    if fields.mt is None:
        raise InputError(f"no MT column {columns.mt!r}; the columns are {have}", where=name,
                         fix="name the MT column with --mt-col")
    for label, wanted, default, got in (
        ("source", columns.source, _DEFAULTS.source, fields.source),
        ("reference", columns.reference, _DEFAULTS.reference, fields.reference),
        ("id", columns.id, _DEFAULTS.id, fields.id),
        ("doc_id", columns.doc_id, _DEFAULTS.doc_id, fields.doc_id),
    ):
        if wanted is not None and wanted != default and got is None:
            raise InputError(f"no {label} column {wanted!r}; the columns are {have}", where=name,
                             fix=f"check the --{label.replace('_', '-')}-col option")
    for label, wanted, got in (("source language", columns.source_lang, fields.source_lang),
                               ("target language", columns.target_lang, fields.target_lang)):
        if wanted is not None and got is None:
            raise InputError(f"no {label} column {wanted!r}; the columns are {have}", where=name)


def build_segment(
    rec: Mapping[str, Any],
    f: _Fields,
    *,
    number: int,
    where: str,
    ctx: ReadContext,
    default_doc: str | None,
    empty_mt_is_missing: bool = True,
) -> Segment | None:
    """One record -> Segment, or None after reporting it as a bad record."""
    mt = rec.get(f.mt) if f.mt is not None else None
    if mt is None:
        if not empty_mt_is_missing:
            mt = ""
        else:
            label = f.mt or ctx.columns.mt
            ctx.bad(record_error(where, f"no {label!r} value", _MT_FIX))
            return None
    elif not isinstance(mt, str):
        if isinstance(mt, (dict, list)):
            ctx.bad(record_error(where, f"{f.mt!r} is a JSON {type(mt).__name__}, not text", _MT_FIX))
            return None
        mt = as_text(mt) or ""
    source_lang, target_lang = ctx.source_lang, ctx.target_lang
    if f.pair is not None and (pair_value := as_text(rec.get(f.pair))):
        pair = parse_pair(pair_value)
        if pair is None:
            ctx.bad(record_error(where, f"{f.pair!r} is {pair_value!r}, not a language pair",
                                 "write it like fr-en"))
            return None
        source_lang, target_lang = pair
    if f.source_lang is not None:
        source_lang = as_text(rec.get(f.source_lang)) or source_lang
    if f.target_lang is not None:
        target_lang = as_text(rec.get(f.target_lang)) or target_lang
    metadata: dict[str, Any] = {}
    own = rec.get("metadata")
    if isinstance(own, dict):
        metadata.update(own)
    extras = {k: v for k, v in rec.items() if k not in f.known}
    if extras:
        metadata["fields"] = extras
    return Segment(
        id=(as_text(rec.get(f.id)) if f.id is not None else None) or str(number),
        mt=mt,
        source=as_text(rec.get(f.source)) if f.source is not None else None,
        source_lang=source_lang,
        target_lang=target_lang,
        reference=(as_text(rec.get(f.reference)) if f.reference is not None else None) or None,
        doc_id=(as_text(rec.get(f.doc_id)) if f.doc_id is not None else None) or default_doc,
        origin=where,
        metadata=metadata,
    )


def _default_doc(path: str | Path, ctx: ReadContext) -> str | None:
    """With several input files, a record without a doc_id belongs to the document of its file."""
    return Path(path).name if ctx.several_files and str(path) != STDIN else None


# --------------------------------------------------------------------------------------------- JSONL


def read_jsonl(path: str | Path, ctx: ReadContext) -> Iterator[Segment]:
    name = display_name(path)
    default_doc = _default_doc(path, ctx)
    loads = json.loads
    cache: dict[tuple[str, ...], _Fields] = {}
    number = 0
    for lineno, line in enumerate(text_lines(path, ctx), 1):
        if not line or line.isspace():
            continue
        number += 1
        where = f"{name}:{lineno}"
        try:
            rec = loads(line)
        except ValueError as exc:
            detail = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            ctx.bad(record_error(where, f"not a JSON object ({detail})",
                                 "write one JSON object per line"))
            continue
        except RecursionError:
            ctx.bad(record_error(where, _TOO_DEEP, _FLAT_FIX))
            continue
        if not isinstance(rec, dict):
            ctx.bad(record_error(where, f"a JSON {type(rec).__name__}, not an object",
                                 "write one JSON object per line"))
            continue
        if line.count("[") + line.count("{") > MAX_JSON_DEPTH and _deeper_than(rec, MAX_JSON_DEPTH):
            ctx.bad(record_error(where, _TOO_DEEP, _FLAT_FIX))
            continue
        if "\\u" in line and _SURROGATE_ESCAPE.search(line):
            rec, repaired = _repair_record(rec)
            if repaired:
                ctx.warn_listed("lone surrogates", f"{where}: {', '.join(map(repr, repaired))} held lone "
                                "surrogate escapes (half of a UTF-16 pair, like \\udfff alone); each is "
                                "read as U+FFFD")
        key = tuple(rec)
        fields = cache.get(key)
        if fields is None:
            if len(cache) > 256:
                cache.clear()
            fields = cache[key] = resolve_fields(ctx.columns, key)
        segment = build_segment(rec, fields, number=number, where=where, ctx=ctx, default_doc=default_doc)
        if segment is not None:
            yield segment


_TOO_DEEP = f"a JSON value nested more than {MAX_JSON_DEPTH} arrays or objects deep"
_FLAT_FIX = "write flat records: text fields and a small metadata object"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests more than ``limit`` containers (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _repair_record(rec: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``rec`` with lone surrogates in every key and string replaced, and the top-level keys touched."""
    touched: list[str] = []

    def repair(value: Any) -> tuple[Any, bool]:
        if isinstance(value, str):
            return (repair_surrogates(value), True) if _SURROGATE.search(value) else (value, False)
        if isinstance(value, list):
            items = [repair(v) for v in value]
            return [v for v, _ in items], any(c for _, c in items)
        if isinstance(value, dict):
            out, changed = {}, False
            for key, item in value.items():
                new_key, key_changed = repair(key)
                out[new_key], item_changed = repair(item)
                changed = changed or key_changed or item_changed
            return out, changed
        return value, False

    out: dict[str, Any] = {}
    for key, value in rec.items():
        new_key, key_changed = repair(key)
        out[new_key], changed = repair(value)
        if key_changed or changed:
            touched.append(new_key)
    return out, touched


# ------------------------------------------------------------------------------------------ CSV, TSV

_FIELD_LIMIT = 2**31 - 1


def read_delimited(path: str | Path, ctx: ReadContext, *, tsv: bool) -> Iterator[Segment]:
    name = display_name(path)
    csv.field_size_limit(_FIELD_LIMIT)
    if str(path) == STDIN:
        lines: Iterable[str] = (line + "\n" for line in text_lines(path, ctx))
        yield from _read_rows(lines, name, ctx, tsv=tsv, default_doc=None)
        return
    p = Path(path)
    encoding = sniff_encoding(p, ctx)
    with open_text(p, encoding, newline="") as fh:
        yield from _read_rows(fh, name, ctx, tsv=tsv, default_doc=_default_doc(path, ctx))


def _read_rows(lines: Iterable[str], name: str, ctx: ReadContext, *, tsv: bool,
               default_doc: str | None) -> Iterator[Segment]:
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return
    if tsv:
        reader = csv.reader(itertools.chain([first], it), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        delimiter = ";" if (";" in first and "," not in first) else ","
        reader = csv.reader(itertools.chain([first], it), delimiter=delimiter)
    header: list[str] | None = None
    number = 0
    previous_end = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            if header is None:
                raise InputError(f"cannot read the header ({exc})", where=f"{name}:{line}") from exc
            number += 1
            ctx.bad(record_error(f"{name}:{previous_end + 1}", f"malformed row ({exc})",
                                 "check the quoting of this row"))
            previous_end = reader.line_num
            continue
        start = previous_end + 1
        previous_end = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if header is None:
            header = [h.strip() for h in row]
            fields = resolve_fields(ctx.columns, header)
            _check_table_columns(ctx.columns, fields, header, name)
            index = {h: i for i, h in enumerate(header)}
            mt_index = index[fields.mt]  # type: ignore[index]
            continue
        number += 1
        where = f"{name}:{start}"
        if len(row) > len(header):
            ctx.bad(record_error(where, f"{len(row)} fields, but the header has {len(header)}",
                                 "quote fields that contain the separator"))
            continue
        if mt_index >= len(row):
            ctx.bad(record_error(where, f"{len(row)} fields: no {fields.mt!r} value", _MT_FIX))
            continue
        rec = {h: row[i] for h, i in index.items() if i < len(row)}
        segment = build_segment(rec, fields, number=number, where=where, ctx=ctx, default_doc=default_doc)
        if segment is not None:
            yield segment


# ------------------------------------------------------------------------------------------- Parquet


def read_parquet(path: str | Path, ctx: ReadContext) -> Iterator[Segment]:
    if str(path) == STDIN:
        raise InputError("Parquet cannot be read from stdin", where="<stdin>", fix="give the file name")
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = display_name(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow fails on a damaged file in many ways (ArrowInvalid, OSError, ...)
        raise InputError(f"not a readable Parquet file ({type(exc).__name__}: {str(exc).strip()})", where=name,
                         fix="write it again, or export CSV") from exc
    schema = pf.schema_arrow
    header = list(schema.names)
    fields = resolve_fields(ctx.columns, header)
    _check_table_columns(ctx.columns, fields, header, name)
    scalar = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_floating,
              pa.types.is_boolean, pa.types.is_date, pa.types.is_timestamp)
    wanted = [n for n in header
              if n in fields.known or any(test(schema.field(n).type) for test in scalar)]
    default_doc = _default_doc(path, ctx)
    number = 0
    for group in range(pf.num_row_groups):  # one at a time, so that damage is placed in its row group
        first, size = number + 1, pf.metadata.row_group(group).num_rows
        what = f"damaged: row group {group + 1} (records {first:,} to {first + size - 1:,}) cannot be read"
        # B023: the lambdas are called only while this iteration consumes ``records``: ``first`` is this group's.
        batches = _parsed(pf.iter_batches(batch_size=8192, columns=wanted, row_groups=[group]),
                          lambda: f"{name}:record {first}", what, "write it again, or export CSV")  # noqa: B023
        records = (rec for batch in batches
                   for rec in _parsed(_rows_of(batch), lambda: f"{name}:record {first}",  # noqa: B023
                                      what, "write it again, or export CSV"))
        for rec in records:
            number += 1
            segment = build_segment(rec, fields, number=number, where=f"{name}:record {number}", ctx=ctx,
                                    default_doc=default_doc)
            if segment is not None:
                yield segment


# --------------------------------------------------------------------------------------------- Excel


def read_excel(path: str | Path, ctx: ReadContext) -> Iterator[Segment]:
    """The first worksheet; the header is the first non-empty row; origins are Excel row numbers."""
    if str(path) == STDIN:
        raise InputError("Excel cannot be read from stdin", where="<stdin>", fix="give the file name")

    import openpyxl

    name = display_name(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged zip or sheet fails in many ways (BadZipFile, zlib, XML, EOF...)
        raise InputError(f"not a readable .xlsx workbook ({type(exc).__name__}: {str(exc).strip()})", where=name,
                         fix="save it as .xlsx, or export CSV") from exc
    try:
        if not book.worksheets:
            raise InputError("the workbook has no worksheet", where=name, fix="save it with the data on a sheet")
        sheet = book.worksheets[0]
        header: list[str] | None = None
        default_doc = _default_doc(path, ctx)
        number = 0
        row_number = 0
        rows = _parsed(sheet.iter_rows(values_only=True), lambda: f"{name}:row {row_number + 1}",
                       "damaged: cannot be read from this row on", "open and save it again, or export CSV")
        for row_number, row in enumerate(rows, 1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            if header is None:
                header = [as_text(v) or "" for v in row]
                header = [h.strip() for h in header]
                fields = resolve_fields(ctx.columns, header)
                _check_table_columns(ctx.columns, fields, header, name)
                continue
            number += 1
            rec = {h: _cell(v) for h, v in zip(header, row) if h}
            segment = build_segment(rec, fields, number=number, where=f"{name}:row {row_number}", ctx=ctx,
                                    default_doc=default_doc, empty_mt_is_missing=False)
            if segment is not None:
                yield segment
    finally:
        book.close()


def _parsed(items: Iterator[Any], where: Callable[[], str], what: str, fix: str) -> Iterator[Any]:
    """``items`` as a file parser (pyarrow, openpyxl) produces them, its failure on the file's bytes
    becoming one ``InputError`` at the record it stopped on. Only the parser's own step is guarded:
    an error of tqcheck's while handling a record is not turned into an input error."""
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - whatever the library raises on damaged input
            raise InputError(f"{what} ({type(exc).__name__}: {str(exc).strip()})", where=where(), fix=fix) from exc
        yield item


def _rows_of(batch: Any) -> Iterator[dict[str, Any]]:
    yield from batch.to_pylist()  # decodes the batch's strings: a damaged one fails here


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


READERS: dict[str, Callable[[str | Path, ReadContext], Iterator[Segment]]] = {
    "jsonl": read_jsonl,
    "csv": lambda p, c: read_delimited(p, c, tsv=False),
    "tsv": lambda p, c: read_delimited(p, c, tsv=True),
    "parquet": read_parquet,
    "excel": read_excel,
}

__all__ = ["READERS", "build_segment", "resolve_fields", "read_jsonl", "read_delimited", "read_parquet",
           "read_excel"]
