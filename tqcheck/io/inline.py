"""Inline markup of XLIFF and TMX segments as text placeholders, and back.

Checks read text, not XML, yet a tag moved or lost by MT is an error a reviewer must see. So inline codes
become placeholders in the segment text, numbered by the tag's identity so that source and target agree:

* a paired element that wraps text (``<g>``, ``<pc>``, ``<mrk>``, TMX ``<hi>``): ``{1}`` ... ``{/1}``;
* the begin and end of a split pair (``<bx/>``/``<ex/>``, ``<sc/>``/``<ec/>``, ``<sm/>``/``<em/>``,
  ``<bpt>``/``<ept>``): ``{2}`` and ``{/2}``;
* a standalone code (``<x/>``, ``<ph>``, ``<it>``, ``<ut>``): ``{3/}``.

Numbers are given in order of first appearance in the source, and reused in the target for the same tag
(same ``id``; ``rid``/``startRef``/TMX ``i`` for split pairs; TMX ``x``; else the k-th tag of its kind).

Each placeholder is recorded in ``Segment.metadata["placeholders"]["source" | "mt"]`` as
``{"ph": "{1}", "n": 1, "kind": "open"|"close"|"begin"|"end"|"standalone", "tag": "pc",
"start": 10, "end": 13, "xml": ...}`` where ``xml`` is the original element (without its children
for paired elements): checks can tell a placeholder from literal braces by its offsets, and
``restore`` rebuilds the markup from edited text. Literal text that looks exactly like a placeholder
of the same segment (``{1}`` in a software string) is ambiguous on restore; it is read as the tag.

XLIFF 2's ``<cp hex="..."/>`` becomes its character. ``extract`` raises ``InputError`` (the readers make
it a bad record of the unit) for markup nested deeper than ``MAX_MARKUP_DEPTH`` (the walk and the XML
serializer recurse per level) and for a ``<cp>`` that is no character: not hexadecimal, beyond
U+10FFFF, or a surrogate (D800-DFFF, which no text can hold alone).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from tqcheck.errors import InputError
from tqcheck.io._common import MAX_MARKUP_DEPTH

PAIRED = frozenset({"g", "pc", "mrk", "hi", "sub"})
BEGIN = frozenset({"bx", "sc", "sm", "bpt"})
END = frozenset({"ex", "ec", "em", "ept"})
STANDALONE = frozenset({"x", "ph", "it", "ut"})
PLACEHOLDER = re.compile(r"\{(/?)(\d+)(/?)\}")
_HEX = re.compile(r"[0-9A-Fa-f]+")


def local_name(tag: Any) -> str:
    """``{namespace}name`` -> ``name``; "" for a comment or a processing instruction (their tag is a
    function). Cached: a document repeats a handful of tags millions of times."""
    return _local_name(tag) if isinstance(tag, str) else ""


@lru_cache(maxsize=1024)
def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


class Numbering:
    """Placeholder numbers shared by the source and the target of one segment."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def number(self, key: str) -> int:
        if key not in self._numbers:
            self._numbers[key] = len(self._numbers) + 1
        return self._numbers[key]


def _key(local: str, el: ET.Element, positions: Counter[tuple[str, bool]]) -> str:
    """The identity of a tag: what makes the source's tag and the target's tag the same placeholder."""
    if local in BEGIN or local in END:
        value = el.get("rid") or el.get("i") or (el.get("startRef") if local in END else None) or el.get("id")
        if value is not None:
            return f"pair:{value}"
        slot = ("pair", local in END)  # the k-th keyless begin pairs with the k-th keyless end
    else:
        value = el.get("id") or el.get("x")
        if value is not None:
            return f"id:{value}"
        slot = (local, False)
    positions[slot] += 1
    return f"{slot[0]}#{positions[slot]}"


def _xml(el: ET.Element, *, shallow: bool) -> str:
    if shallow:
        return ET.tostring(ET.Element(el.tag, dict(el.attrib)), encoding="unicode")
    tail, el.tail = el.tail, None
    try:
        return ET.tostring(el, encoding="unicode")
    finally:
        el.tail = tail


def _nesting(element: ET.Element, limit: int) -> int:
    """How deep elements nest under ``element``, counted without recursion up to ``limit + 1``."""
    deepest = 0
    stack = [(element, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        stack.extend((child, depth + 1) for child in node)
    return deepest


def code_point(value: str | None) -> str:
    """The character of ``<cp hex="...">``; ``InputError`` when it is none."""
    fix = "write the code point in hexadecimal, 0 to 10FFFF and not a surrogate (D800-DFFF)"
    if value is None or not _HEX.fullmatch(value):
        raise InputError(f"<cp hex={value!r}> is not a hexadecimal code point", fix=fix)
    number = int(value, 16)
    if number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
        raise InputError(f"<cp hex={value!r}> is not a Unicode character "
                         f"({'a surrogate' if number <= 0xDFFF else 'beyond U+10FFFF'})", fix=fix)
    return chr(number)


def extract(element: ET.Element | None, numbering: Numbering) -> tuple[str, list[dict[str, Any]]]:
    """The text of ``element`` with inline codes as placeholders, and the placeholders' records."""
    if element is None:
        return "", []
    if _nesting(element, MAX_MARKUP_DEPTH) > MAX_MARKUP_DEPTH:
        raise InputError(f"inline markup nested more than {MAX_MARKUP_DEPTH} elements deep in "
                         f"<{local_name(element.tag)}>", fix="flatten the inline tags of this segment")
    parts: list[str] = []
    records: list[dict[str, Any]] = []
    length = 0
    positions: Counter[tuple[str, bool]] = Counter()

    def add(text: str | None) -> None:
        nonlocal length
        if text:
            parts.append(text)
            length += len(text)

    def token(ph: str, n: int, kind: str, el: ET.Element, local: str, shallow: bool) -> None:
        records.append({"ph": ph, "n": n, "kind": kind, "tag": local, "start": length,
                        "end": length + len(ph), "xml": _xml(el, shallow=shallow)})
        add(ph)

    def walk(el: ET.Element) -> None:
        add(el.text)
        for child in el:
            local = local_name(child.tag)
            if not local:  # a comment or processing instruction
                add(child.tail)
                continue
            if local == "cp":
                add(code_point(child.get("hex")))
            elif local in BEGIN:
                n = numbering.number(_key(local, child, positions))
                token(f"{{{n}}}", n, "begin", child, local, shallow=False)
            elif local in END:
                n = numbering.number(_key(local, child, positions))
                token(f"{{/{n}}}", n, "end", child, local, shallow=False)
            elif local in STANDALONE:
                n = numbering.number(_key(local, child, positions))
                token(f"{{{n}/}}", n, "standalone", child, local, shallow=False)
            else:  # PAIRED, and unknown elements that wrap text
                n = numbering.number(_key(local, child, positions))
                token(f"{{{n}}}", n, "open", child, local, shallow=True)
                walk(child)
                token(f"{{/{n}}}", n, "close", child, local, shallow=True)
            add(child.tail)

    walk(element)
    return "".join(parts), records


def restore(target: ET.Element, text: str, placeholders: Iterable[Mapping[str, Any]]) -> None:
    """Fill ``target`` (emptied first, attributes kept) with ``text``, placeholders turned back into markup.

    ``placeholders`` are records from ``extract``; the first record for a token wins, so pass the target's
    records before the source's. Raises ``InputError`` for a paired tag left open or closed twice.
    """
    import defusedxml.ElementTree as SafeET

    known: dict[str, Mapping[str, Any]] = {}
    for placeholder in placeholders:
        known.setdefault(placeholder["ph"], placeholder)
    for child in list(target):
        target.remove(child)
    target.text = None
    stack: list[tuple[ET.Element, int | None]] = [(target, None)]

    def append_text(value: str) -> None:
        if not value:
            return
        parent = stack[-1][0]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + value
        else:
            parent.text = (parent.text or "") + value

    position = 0
    for match in PLACEHOLDER.finditer(text):
        record = known.get(match.group(0))
        if record is None:
            continue
        append_text(text[position : match.start()])
        position = match.end()
        kind = record["kind"]
        if kind == "close":
            if stack[-1][1] != record["n"]:
                raise InputError(f"placeholder {match.group(0)} closes a tag that is not open",
                                 fix="keep paired placeholders nested like {1}...{/1}")
            stack.pop()
            continue
        element = SafeET.fromstring(record["xml"])
        element.tail = None
        stack[-1][0].append(element)
        if kind == "open":
            stack.append((element, record["n"]))
    append_text(text[position:])
    if len(stack) > 1:
        raise InputError(f"placeholder {{{stack[-1][1]}}} is never closed",
                         fix=f"add {{/{stack[-1][1]}}} after the text it wraps")
