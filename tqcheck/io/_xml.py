"""Shared by the XML readers: where the bytes come from, in which encoding, and what a failure tells the user.

The encoding of an XML document is decided here, not by the XML parser: expat knows only UTF-8,
UTF-16, ISO-8859-1 and US-ASCII, and what it does with any other declaration is to ask Python, which
then fails with a bare ``LookupError`` (``encoding="bogus"``) or ``ValueError`` (``multi-byte
encodings are not supported`` for UTF-32, Shift-JIS, ...). So the first bytes are read as the XML
specification says (appendix F): a byte-order mark, else the NUL pattern of ``<?xml`` written in
UTF-16 or UTF-32, else the ``encoding`` of an ASCII declaration, else UTF-8. Then:

* a UTF-8 (or ASCII) document goes to the parser as it is;
* any other encoding Python knows is decoded as the document is read and handed on as UTF-8, with
  the parser told to ignore the declaration; a byte that does not decode is an ``InputError`` with
  its line;
* an encoding Python does not know, one that is not a character encoding (``hex``, ``rot13``), a
  declaration that contradicts the bytes (``encoding="UTF-16"`` on single bytes, a UTF-16
  byte-order mark on a document that declares UTF-8) is an ``InputError`` naming the file and the
  fix, before any segment is read.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO, Any

from tqcheck.errors import InputError
from tqcheck.io._common import STDIN, ReadContext, display_name

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_HEAD = 1024  # an XML declaration is short; what follows it is not read to decide the encoding
_CHUNK = 1 << 16
_DECLARATION = re.compile(r"""^<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([^"'>]*)\1""")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# "<?" (or "<" and a first letter) in UTF-32 or UTF-16 without a byte-order mark (XML 1.0, appendix F).
_WIDE_PATTERNS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_DECLARE_FIX = "declare the encoding the file is saved in (usually encoding=\"UTF-8\"), or re-save it as UTF-8"


def xml_error(exc: Exception, name: str) -> InputError:
    import defusedxml

    if isinstance(exc, defusedxml.DefusedXmlException):
        return InputError(f"refused: the file declares XML entities or external references ({exc})",
                          where=name, fix="remove the DTD entity declarations; XLIFF and TMX need none")
    if isinstance(exc, ET.ParseError):
        line, column = getattr(exc, "position", (None, None))
        return InputError(f"not well-formed XML ({exc})", where=f"{name}:{line}" if line else name,
                          fix="check the file with an XML validator")
    return InputError(f"cannot read the file ({exc})", where=name)


def parser() -> Any:
    """A defused expat parser that reads UTF-8 whatever the document declares (see ``xml_source``)."""
    import defusedxml.ElementTree as SafeET

    return SafeET.DefusedXMLParser(target=ET.TreeBuilder(), encoding="utf-8", forbid_dtd=False,
                                   forbid_entities=True, forbid_external=True)


def open_source(path: str | Path, ctx: ReadContext) -> _Stream:
    """The document's bytes (a file, or stdin for ``-``), as UTF-8, for ``parser()``; see the module
    docstring. Close it when done."""
    if str(path) != STDIN:
        return open_file(path)
    import sys

    stream = ctx.stdin if ctx.stdin is not None else sys.stdin
    raw = getattr(stream, "buffer", None)
    if raw is None:  # an in-memory text stream: already text
        return _Encoded(stream)
    return xml_source(raw, "<stdin>")


def open_file(path: str | Path) -> _Stream:
    """An XML file's bytes as UTF-8, for ``parser()``. Close it when done."""
    raw = open(path, "rb")
    try:
        return xml_source(raw, display_name(path))
    except BaseException:
        raw.close()
        raise


def xml_source(raw: IO[bytes], name: str) -> _Stream:
    """``raw`` (a binary stream at its start) as a stream of UTF-8 bytes; an ``InputError`` if its
    encoding is unknown or contradicts its bytes."""
    head = raw.read(_HEAD)
    encoding = decide_encoding(head, name)
    if encoding == "utf-8":
        return _Prefixed(head, raw)
    return _Recoded(head, raw, encoding, name)


def decide_encoding(head: bytes, name: str) -> str:
    """The Python codec of an XML document that starts with ``head`` (see the module docstring)."""
    bom = next(((mark, enc) for mark, enc in _BOMS if head.startswith(mark)), None)
    sniffed = bom[1] if bom else next((enc for pattern, enc in _WIDE_PATTERNS if head.startswith(pattern)), None)
    # The declaration is ASCII in the document's own width; latin-1 decodes any byte.
    match = _DECLARATION.match(head[len(bom[0]) if bom else 0:].decode(sniffed or "latin-1", "replace"))
    if match is None:
        return sniffed or "utf-8"
    declared = match.group(2).strip()
    codec = _codec(declared, name)
    if sniffed is None:
        return _single_byte(codec, declared, head, name)
    if _width(codec) != _width(sniffed):
        evidence = "a byte-order mark" if bom else "the byte pattern of '<?xml'"
        raise InputError(f"the file starts with {evidence} of {sniffed.upper()[:6]}, but its XML declaration "
                         f"says encoding={declared!r}", where=f"{name}:1",
                         fix="correct the declaration to the file's real encoding, or re-save it as UTF-8")
    return sniffed


def _codec(declared: str, name: str) -> str:
    """The codec a declared encoding names, if it is a character encoding Python knows."""
    try:
        info = codecs.lookup(declared)
    except LookupError:
        raise InputError(f"the XML declaration names encoding={declared!r}, which is not a known character "
                         "encoding", where=f"{name}:1", fix=_DECLARE_FIX) from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputError(f"the XML declaration names encoding={declared!r}, which is not a character encoding",
                         where=f"{name}:1", fix=_DECLARE_FIX)
    return info.name


def _single_byte(codec: str, declared: str, head: bytes, name: str) -> str:
    """The codec of a document whose first bytes are ASCII-compatible, as its declaration names it."""
    if _width(codec) != 1:
        raise InputError(f"the XML declaration says encoding={declared!r}, but the bytes are not {declared}: "
                         "there is no byte-order mark and the declaration itself is written one byte per "
                         "character", where=f"{name}:1", fix=_DECLARE_FIX)
    if codec in ("utf-8", "ascii"):
        return "utf-8"
    try:
        readable = head[:5].decode(codec) == "<?xml"
    except (UnicodeError, ValueError):
        readable = False
    if not readable:
        raise InputError(f"the XML declaration names encoding={declared!r}, in which the declaration itself "
                         "does not read as '<?xml'", where=f"{name}:1", fix=_DECLARE_FIX)
    return codec


def _width(codec_name: str) -> int:
    if codec_name.startswith("utf-32"):
        return 4
    if codec_name.startswith("utf-16"):
        return 2
    return 1


class _Stream:
    """What the parser needs of a source (``read``), and closing as a context manager."""

    def read(self, size: int = -1) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Prefixed(_Stream):
    """``head`` then the rest of ``raw``: the bytes read to decide the encoding are not lost (stdin
    cannot seek)."""

    def __init__(self, head: bytes, raw: IO[bytes]) -> None:
        self._head = head
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._raw.read(size)

    def close(self) -> None:
        self._raw.close()


class _Recoded(_Stream):
    """A document in another encoding, decoded strictly as it is read and handed on as UTF-8."""

    def __init__(self, head: bytes, raw: IO[bytes], encoding: str, name: str) -> None:
        self._source = _Prefixed(head, raw)
        try:
            self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        except (LookupError, TypeError) as exc:  # a codec without an incremental decoder
            raise InputError(f"cannot decode encoding {encoding!r} as a stream", where=name,
                             fix=_DECLARE_FIX) from exc
        self._encoding = encoding
        self._name = name
        self._lines = 0
        self._done = False
        self._first = True

    def read(self, size: int = -1) -> bytes:
        while not self._done:  # an empty answer means the end to the parser: read until text comes
            data = self._source.read(size if size and size > 0 else _CHUNK)
            try:
                text = self._decoder.decode(data, final=not data)
            except (UnicodeError, ValueError) as exc:
                raise InputError(f"not valid {self._encoding.upper()}, which its encoding declaration or "
                                 f"byte-order mark says it is ({exc})",
                                 where=f"{self._name}:{self._lines + _lines_before(exc) + 1}",
                                 fix=_DECLARE_FIX) from exc
            self._done = not data
            if self._first and text:
                text = text.removeprefix("\ufeff")
                self._first = False
            if text:
                self._lines += text.count("\n")
                return text.encode("utf-8", "surrogatepass")  # a lone surrogate fails in the parser
        return b""

    def close(self) -> None:
        self._source.close()


def _lines_before(exc: Exception) -> int:
    """Line breaks in the bytes of this chunk before the one that did not decode."""
    if isinstance(exc, UnicodeDecodeError):
        return exc.object[: exc.start].count(b"\n")  # exact for ASCII-compatible codecs; close for others
    return 0


class _Encoded(_Stream):
    """An in-memory text stream as UTF-8 bytes (its text has no encoding left to decide)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        text = self._stream.read(size if size and size > 0 else _CHUNK)
        return text.encode("utf-8", "surrogatepass")
