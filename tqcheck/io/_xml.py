"""Shared by the XML readers: where the bytes come from, and what a parse failure tells the user."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO, Any

from tqcheck.errors import InputError
from tqcheck.io._common import STDIN, ReadContext

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


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


def open_source(path: str | Path, ctx: ReadContext) -> IO[Any] | str:
    if str(path) != STDIN:
        return str(path)
    import sys

    stream = ctx.stdin if ctx.stdin is not None else sys.stdin
    return getattr(stream, "buffer", stream)
