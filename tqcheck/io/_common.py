"""What every reader shares: the column map, how a file's encoding is decided, and bad-record policy.

Encodings are decided once per file, before any record is read, so that a reader never has to start
over after handing out segments: a byte-order mark says UTF-8, UTF-16 or UTF-32; otherwise the whole
file is checked as strict UTF-8 in one fast pass (1 MiB blocks, an incremental decoder). A file that is
not UTF-8 is read as Windows-1252 (Latin-1 where it holds bytes Windows-1252 leaves undefined), and the
first bad line is reported once through the warning callback. A UTF-16/32 file that does not decode, or
a file with NUL bytes and no byte-order mark (UTF-16 saved without one, or a binary file), is an
``InputError`` naming the file and line. Standard input cannot be read twice, so it is decoded line by
line with the same fallback.
"""

from __future__ import annotations

import codecs
import gzip
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TextIO

from tqcheck.errors import InputError, RecordError

if TYPE_CHECKING:
    from tqcheck.model import Segment

log = logging.getLogger("tqcheck.io")

STDIN = "-"

#: The longest text (source, MT or reference, in characters) a reader hands on; longer ones are bad
#: records. Why: a segment is a sentence or a paragraph (the longest text in the development data is
#: 688 characters, a long paragraph is a few thousand); a text of tens of thousands of characters is
#: a document that lost its line breaks, a table dumped into one cell or a binary blob, and checking
#: it as one segment tells a reviewer nothing while its cost grows with its length in every
#: signal (language models read at most a few hundred tokens of it anyway). The limit also bounds
#: the time a check can take on one segment.
MAX_SEGMENT_CHARS = 20_000

#: How deep a JSON record may nest arrays and objects. A feed record is flat (text fields and a
#: small ``metadata`` object); a value nested thousands deep is an attack or a bug, and Python's
#: JSON parser and every writer downstream recurse once per level.
MAX_JSON_DEPTH = 64

#: How deep inline markup of an XLIFF or TMX segment may nest (``<g>`` in ``<g>`` ...). Real
#: documents nest a few levels; the placeholder walk and the XML serializer recurse per level.
MAX_MARKUP_DEPTH = 50

#: Warnings of one kind listed per run before the rest are only counted (see the module docstring).
MAX_LISTED_WARNINGS = 10

_BLOCK = 1 << 20
# Bytes Windows-1252 leaves undefined: a file holding them is read as plain Latin-1.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class ColumnMap:
    """Which column (or JSON field) holds what. ``None`` means the table has no such column.

    ``source_lang`` / ``target_lang`` name per-record language columns; when left ``None`` the readers
    look for the usual names (``source_lang``/``src_lang``, ``target_lang``/``tgt_lang``, or a pair
    column ``lp`` such as ``fr-en``). When a field is left at its default name and the table lacks it,
    the COMET-style short name is tried (``src``, ``ref``; ``hyp`` for ``mt``).
    """

    source: str | None = "source"
    mt: str = "mt"
    reference: str | None = "reference"
    id: str | None = "id"
    doc_id: str | None = "doc_id"
    source_lang: str | None = None
    target_lang: str | None = None


SOURCE_LANG_NAMES = ("source_lang", "src_lang", "srclang")
TARGET_LANG_NAMES = ("target_lang", "tgt_lang", "trg_lang", "tgtlang")
PAIR_NAMES = ("lp", "lang_pair", "language_pair")
ALIASES = {"source": ("src",), "mt": ("hyp",), "reference": ("ref",)}


@dataclass
class ReadContext:
    """Options of one ``read_segments`` call, and the policy for bad records and warnings."""

    columns: ColumnMap = field(default_factory=ColumnMap)
    source_lang: str | None = None
    target_lang: str | None = None
    strict: bool = False
    on_bad_record: Callable[[RecordError], None] | None = None
    on_warning: Callable[[str], None] | None = None
    stdin: TextIO | None = None
    several_files: bool = False
    skipped: int = 0
    encodings: dict[str, str] = field(default_factory=dict)  # decided once per file, warned once
    warned: dict[str, int] = field(default_factory=dict)  # warnings given per kind (warn_listed)

    def bad(self, error: RecordError) -> None:
        """Report a bad record: raise under ``strict``, else hand it on (or log it) and go on."""
        if self.strict:
            raise error
        self.skipped += 1
        if self.on_bad_record is not None:
            self.on_bad_record(error)
        else:
            log.warning("skipped bad record: %s", error)

    def warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)
        else:
            log.warning("%s", message)

    def warn_listed(self, kind: str, message: str) -> None:
        """A warning about one record, listed only for the first ``MAX_LISTED_WARNINGS`` of its kind."""
        count = self.warned[kind] = self.warned.get(kind, 0) + 1
        if count <= MAX_LISTED_WARNINGS:
            self.warn(message)
        elif count == MAX_LISTED_WARNINGS + 1:
            self.warn(f"more records with {kind} follow; they are read the same way but not listed")


def display_name(path: str | Path) -> str:
    """The name used in messages: the path as the user gave it, ``<stdin>`` for ``-``."""
    return "<stdin>" if str(path) == STDIN else str(path)


def record_error(where: str, message: str, fix: str | None = None) -> RecordError:
    return RecordError(message, where=where, fix=fix)


def _open_binary(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _line_of(data: bytes, offset: int, lines_before: int) -> int:
    return lines_before + data[:offset].count(b"\n") + 1


def sniff_encoding(path: Path, ctx: ReadContext | None = None) -> str:
    """Decide the encoding of a file (see the module docstring); one pass over its bytes, once per run."""
    if ctx is not None:
        known = ctx.encodings.get(str(path))
        if known is None:
            known = ctx.encodings[str(path)] = _sniff(path, ctx)
        return known
    return _sniff(path, None)


def _sniff(path: Path, ctx: ReadContext | None) -> str:
    name = display_name(path)
    with _open_binary(path) as fh:
        head = fh.read(4)
        encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
        fh.seek(0)
        if encoding in ("utf-16", "utf-32"):
            _validate_wide(fh, encoding, name)
            return encoding
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        lines_before = 0
        first = True
        while True:
            block = fh.read(_BLOCK)
            if first and b"\x00" in block[:65536]:
                line = _line_of(block, block.index(b"\x00"), 0)
                raise InputError(
                    "holds NUL bytes: UTF-16 without a byte-order mark, or not a text file",
                    where=f"{name}:{line}",
                    fix="save it as UTF-8",
                )
            first = False
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                line = _line_of(exc.object, exc.start, lines_before)
                fallback = _fallback_for(fh)
                message = (f"{name}:{line}: not valid UTF-8; reading the whole file as "
                           f"{'Windows-1252' if fallback == 'cp1252' else 'Latin-1'} "
                           "(save it as UTF-8 to silence this)")
                if ctx is not None:
                    ctx.warn(message)
                else:
                    log.warning("%s", message)
                return fallback
            if not block:
                return "utf-8-sig" if encoding == "utf-8-sig" else "utf-8"
            lines_before += block.count(b"\n")


def _fallback_for(fh: BinaryIO) -> str:
    fh.seek(0)
    while block := fh.read(_BLOCK):
        if _CP1252_UNDEFINED.search(block):
            return "latin-1"
    return "cp1252"


def _validate_wide(fh: BinaryIO, encoding: str, name: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines_before = 0
    while True:
        block = fh.read(_BLOCK)
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            good = exc.object[: exc.start].decode(encoding, "replace")
            raise InputError(
                f"not valid {encoding.upper()} ({exc.reason})",
                where=f"{name}:{lines_before + good.count(chr(10)) + 1}",
                fix=f"re-save the file as UTF-8 or valid {encoding.upper()}",
            ) from exc
        if not block:
            return
        lines_before += text.count("\n")


def open_text(path: Path, encoding: str, *, newline: str | None = None) -> TextIO:
    """Open a (possibly gzipped) text file in the encoding ``sniff_encoding`` chose."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding=encoding, newline=newline)
    return open(path, encoding=encoding, newline=newline)


def text_lines(path: str | Path, ctx: ReadContext) -> Iterator[str]:
    """Lines of a file or of stdin, newline removed, decoded as the module docstring says."""
    if str(path) == STDIN:
        yield from _stdin_lines(ctx)
        return
    p = Path(path)
    encoding = sniff_encoding(p, ctx)
    with open_text(p, encoding) as fh:
        for line in fh:
            yield line[:-1] if line.endswith("\n") else line


def _stdin_lines(ctx: ReadContext) -> Iterator[str]:
    import sys

    stream: IO[Any] = ctx.stdin if ctx.stdin is not None else sys.stdin
    raw = getattr(stream, "buffer", None)
    if raw is None:  # an in-memory text stream: already decoded, and it may hold lone surrogates
        for number, line in enumerate(stream, 1):
            if _SURROGATE.search(line):
                line = repair_surrogates(line)
                ctx.warn_listed("lone surrogates", f"<stdin>:{number}: {_SURROGATE_NOTE}")
            yield line.rstrip("\r\n") if line.endswith("\n") else line
        return
    warned = False
    for number, data in enumerate(raw, 1):  # bytes: no lone surrogate can come out of a strict decode
        if number == 1 and data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError:
            line = data.decode("latin-1" if _CP1252_UNDEFINED.search(data) else "cp1252")
            if not warned:
                ctx.warn(f"<stdin>:{number}: not valid UTF-8; read as Windows-1252/Latin-1")
                warned = True
        yield line.rstrip("\r\n") if line.endswith("\n") else line


def read_whole_text(path: str | Path, ctx: ReadContext) -> str:
    """All of a document, with universal newlines (documents are small)."""
    if str(path) == STDIN:
        return "\n".join(_stdin_lines(ctx))
    p = Path(path)
    encoding = sniff_encoding(p, ctx)
    with open_text(p, encoding) as fh:
        return fh.read()


def parse_pair(value: str) -> tuple[str, str] | None:
    """``fr-en`` -> ``("fr", "en")``; ``fr-FR-en-US`` and ``fr_en`` too; None if not a pair."""
    value = value.strip()
    for sep in ("-", "_"):
        parts = [p for p in value.split(sep) if p]
        if len(parts) == 2:
            return parts[0], parts[1]
        if len(parts) == 4:
            return f"{parts[0]}-{parts[1]}", f"{parts[2]}-{parts[3]}"
    return None


def as_text(value: Any) -> str | None:
    """A table cell or JSON value as text: None stays None, 3 stays "3" (not "3.0")."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value != value:  # NaN: an empty cell in pandas / Arrow
            return None
        if value.is_integer():
            return str(int(value))
    return str(value)


# ------------------------------------------------------------------------------------------ screening

_SUSPECT = re.compile("[\x00\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SURROGATE_NOTE = ("holds lone surrogates (half of a UTF-16 pair, e.g. the JSON escape \\udfff alone), "
                   "which no UTF-8 file can hold; each is read as U+FFFD")
_NUL_FIX = ("remove the NUL characters: they come from a binary or UTF-16 file pasted into a text field, "
            "or from \\u0000 in JSON")


def repair_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (a correct pair of surrogates, which an
    in-memory string may hold, becomes the character it encodes)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def screened(segments: Iterator[Segment], ctx: ReadContext) -> Iterator[Segment]:
    """The segments of a reader, screened as the module docstring says; bad records reported and skipped."""
    for segment in segments:
        checked = screen(segment, ctx)
        if checked is not None:
            yield checked


def screen(segment: Segment, ctx: ReadContext) -> Segment | None:
    """``segment`` as it may be checked, or None after reporting it as a bad record."""
    import dataclasses

    where = segment.origin or f"segment {segment.id}"
    changes: dict[str, Any] = {}
    for name in ("source", "mt", "reference", "id", "doc_id"):
        text = getattr(segment, name)
        if not text:
            continue
        if len(text) > MAX_SEGMENT_CHARS and name in ("source", "mt", "reference"):
            ctx.bad(record_error(where, f"{name!r} is {len(text):,} characters long, over the limit of "
                                        f"{MAX_SEGMENT_CHARS:,} per segment",
                                 "split it into sentences or paragraphs (a text this long has usually "
                                 "lost its line breaks)"))
            return None
        if _SUSPECT.search(text) is None:
            continue
        if "\x00" in text:
            ctx.bad(record_error(where, f"{name!r} holds a NUL character (U+0000) at offset {text.index(chr(0))}",
                                 _NUL_FIX))
            return None
        if _SURROGATE.search(text):
            text = changes[name] = repair_surrogates(text)
            ctx.warn_listed("lone surrogates", f"{where}: {name!r} {_SURROGATE_NOTE}")
        bidi = _BIDI.search(text)
        if bidi is not None:
            import unicodedata

            char = bidi.group()
            ctx.warn_listed("bidi controls", (
                f"{where}: {name!r} holds the bidi control U+{ord(char):04X} {unicodedata.name(char)} at "
                f"offset {bidi.start()}, which can make the text display in another order than it is "
                "read; checked as it is"))
    return dataclasses.replace(segment, **changes) if changes else segment
