"""XLIFF 1.2 and 2.x (``.xlf``, ``.xliff``, ``.sdlxliff``): read segments, write reviewed targets back.

Reading streams the file (``iterparse``; each unit is dropped once read), through defusedxml so that
entity declarations (the "billion laughs" bomb, external entities) are refused, not expanded.

What a segment gets from the file:

* languages: 2.x ``srcLang``/``trgLang`` on ``<xliff>``, 1.2 ``source-language``/``target-language`` on
  ``<file>``; a ``<target xml:lang>`` wins for its segment. Languages given to ``read_segments`` only
  fill gaps (a mismatch with the file is warned about once);
* ids: 2.x ``<unit id>/<segment id>`` (the segment's position in its unit when it has no id); 1.2 the
  ``trans-unit`` id, or ``<trans-unit id>/<mid>`` for units segmented with ``<seg-source><mrk
  mtype="seg">`` (SDL Trados, memoQ). With several ``<file>`` elements, ids are prefixed with the file's
  id (2.x) or ``original`` (1.2) and a ``/``, since unit ids are only unique within their file;
* ``doc_id``: the file's ``original`` (or id); ``origin``: ``name.xlf:unit <id>``;
* inline codes as placeholders (``tqcheck.io.inline``), recorded in ``metadata["placeholders"]``, and
  ``metadata["xliff"]`` = version, file, unit, segment and state;
* a unit with no target: MT ``""`` (kept; the checks flag it). Units marked ``translate="no"`` are not
  segments to check and are skipped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqcheck.errors import InputError
from tqcheck.io._atomic import write_atomically
from tqcheck.io._common import STDIN, ReadContext, display_name, record_error
from tqcheck.io._xml import XML_LANG, open_file, open_source, parser, xml_error
from tqcheck.io.inline import Numbering, extract, local_name, restore
from tqcheck.model import Segment

_FILE_TAG = re.compile(rb"<(?:[\w.-]{1,40}:)?file[\s>/]")
_FILE_TAG_LONGEST = 48


@dataclass
class _File:
    key: str
    original: str | None
    source_lang: str | None
    target_lang: str | None


@dataclass
class SegmentXml:
    """One segment's elements in a parsed XLIFF tree (1.2 ``<trans-unit>`` or ``<mrk mtype="seg">``,
    2.x ``<segment>``), with the id ``read_segments`` gives it."""

    id: str
    unit_id: str
    segment_id: str | None
    source: ET.Element | None
    target: ET.Element | None
    state: str | None
    target_lang: str | None


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if local_name(c.tag) == name), None)


def _is_v2(version: str | None, tag: str) -> bool:
    if version:
        return version.strip().startswith("2")
    return "xliff:document:2" in tag


def _segments_of(unit: ET.Element, v2: bool, file: _File, prefix: str, position: int) -> Iterator[SegmentXml]:
    """The segments of one ``<unit>`` (2.x) or ``<trans-unit>`` (1.2), in document order."""
    if unit.get("translate") == "no":
        return
    unit_id = unit.get("id") or str(position)
    if v2:
        for k, seg in enumerate((c for c in unit if local_name(c.tag) == "segment"), 1):
            seg_id = seg.get("id") or str(k)
            target = _child(seg, "target")
            yield SegmentXml(f"{prefix}{unit_id}/{seg_id}", unit_id, seg_id, _child(seg, "source"), target,
                              seg.get("state"), target.get(XML_LANG) if target is not None else None)
        return
    source, target = _child(unit, "source"), _child(unit, "target")
    seg_source = _child(unit, "seg-source")
    marks = ([m for m in seg_source.iter() if local_name(m.tag) == "mrk" and m.get("mtype") == "seg"]
             if seg_source is not None else [])
    state = target.get("state") if target is not None else None
    lang = target.get(XML_LANG) if target is not None else None
    if not marks:
        yield SegmentXml(f"{prefix}{unit_id}", unit_id, None, source, target, state, lang)
        return
    target_marks = ({m.get("mid"): m for m in target.iter() if local_name(m.tag) == "mrk" and m.get("mtype") == "seg"}
                    if target is not None else {})
    for k, mark in enumerate(marks, 1):
        mid = mark.get("mid") or str(k)
        yield SegmentXml(f"{prefix}{unit_id}/{mid}", unit_id, mid, mark, target_marks.get(mid), state, lang)


def _several_files(path: Path) -> bool:
    """Whether the document holds more than one ``<file>`` (a first pass over its bytes, as UTF-8)."""
    count = 0
    stream = open_file(path)
    try:
        rest = b""
        while True:
            block = stream.read(1 << 20)
            data = rest + block
            # A tag that starts in the last bytes may be cut: count it with the next block.
            cut = len(data) if not block else max(0, len(data) - _FILE_TAG_LONGEST)
            count += sum(1 for m in _FILE_TAG.finditer(data) if m.start() < cut)
            if count > 1:
                return True
            if not block:
                return False
            rest = data[cut:]
    finally:
        stream.close()


def read_xliff(paths: Sequence[str | Path], ctx: ReadContext) -> Iterator[Segment]:
    for path in paths:
        yield from _read_one(path, ctx)


def _read_one(path: str | Path, ctx: ReadContext) -> Iterator[Segment]:
    import defusedxml
    import defusedxml.ElementTree as SafeET

    name = display_name(path)
    several = str(path) != STDIN and _several_files(Path(path))
    source = open_source(path, ctx)
    try:
        events = SafeET.iterparse(source, events=("start", "end"), parser=parser())
        v2 = False
        version: str | None = None
        root_langs: tuple[str | None, str | None] = (None, None)
        file = _File("", None, None, None)
        files = units = 0
        warned = False
        root: ET.Element | None = None
        for event, el in events:
            if event == "start":
                # Only the root and <file> matter when they open: the rest is looked at when it ends.
                if root is not None and not (isinstance(el.tag, str) and el.tag.endswith("file")):
                    continue
                local = local_name(el.tag)
                if root is None:
                    root = el
                    if local != "xliff":
                        raise InputError(f"not an XLIFF document: the root element is <{local}>", where=name,
                                         fix="pass --format to read it as another format")
                    version = el.get("version")
                    v2 = _is_v2(version, el.tag)
                    root_langs = (el.get("srcLang"), el.get("trgLang"))
                elif local == "file":
                    files += 1
                    key = (el.get("id") if v2 else el.get("original")) or el.get("id") or str(files)
                    file = _File(key, el.get("original") or el.get("id"),
                                 el.get("source-language") or root_langs[0],
                                 el.get("target-language") or root_langs[1])
                    if not warned and _langs_differ(file, ctx):
                        ctx.warn(f"{name}: the file says {file.source_lang}->{file.target_lang}, the run says "
                                 f"{ctx.source_lang}->{ctx.target_lang}; using the file's languages")
                        warned = True
                continue
            if local_name(el.tag) != ("unit" if v2 else "trans-unit"):
                continue
            units += 1
            prefix = f"{file.key}/" if several else ""
            for seg in _segments_of(el, v2, file, prefix, units):
                segment = _segment(seg, file, v2, version, name, ctx)
                if segment is not None:
                    yield segment
            el.clear()
    except (ET.ParseError, defusedxml.DefusedXmlException) as exc:
        raise xml_error(exc, name) from exc
    finally:
        source.close()


def _langs_differ(file: _File, ctx: ReadContext) -> bool:
    def base(code: str | None) -> str | None:
        return code.split("-")[0].split("_")[0].lower() if code else None

    return any(mine and theirs and base(mine) != base(theirs)
               for mine, theirs in ((ctx.source_lang, file.source_lang), (ctx.target_lang, file.target_lang)))


def _segment(seg: SegmentXml, file: _File, v2: bool, version: str | None, name: str,
             ctx: ReadContext) -> Segment | None:
    where = f"{name}:{'unit' if v2 else 'trans-unit'} {seg.unit_id}"
    if seg.source is None:
        ctx.bad(record_error(where, "has no <source>", "every unit needs a source"))
        return None
    numbering = Numbering()
    try:
        source, source_codes = extract(seg.source, numbering)
        mt, mt_codes = extract(seg.target, numbering)
    except InputError as exc:  # markup nested too deep, a <cp> that is no character
        ctx.bad(record_error(where, exc.message, exc.fix))
        return None
    metadata: dict[str, Any] = {"xliff": {"version": version or ("2.0" if v2 else "1.2"), "file": file.key,
                                          "unit": seg.unit_id, "segment": seg.segment_id, "state": seg.state}}
    if source_codes or mt_codes:
        metadata["placeholders"] = {"source": source_codes, "mt": mt_codes}
    return Segment(
        id=seg.id,
        mt=mt,
        source=source,
        source_lang=file.source_lang or ctx.source_lang,
        target_lang=seg.target_lang or file.target_lang or ctx.target_lang,
        doc_id=file.original,
        origin=where,
        metadata=metadata,
    )


# ------------------------------------------------------------------------------------------ write-back


def write_xliff(path: str | Path, out_path: str | Path, targets: Mapping[str, str], *,
                state: str | None = None) -> int:
    """Copy an XLIFF file to ``out_path`` with the targets of the given segment ids replaced.

    ``targets`` maps segment ids (as ``read_segments`` gives them) to new target text with placeholders;
    the inline markup is rebuilt from the file itself (the target's own tags first, then the source's).
    ``state`` (e.g. ``"reviewed"`` in 2.x, ``"signed-off"`` in 1.2) is set on what was written. The output
    is written to a temporary file and renamed, so it is complete or absent. Returns how many segments
    were written; an id not in the file is an ``InputError``.
    """
    import defusedxml
    import defusedxml.ElementTree as SafeET

    name = display_name(path)
    try:
        with open_file(path) as source:
            for _, (prefix, uri) in SafeET.iterparse(source, events=("start-ns",), parser=parser()):
                try:
                    ET.register_namespace(prefix, uri)
                except ValueError:
                    pass
        with open_file(path) as source:
            tree = SafeET.parse(source, parser=parser())
    except (ET.ParseError, defusedxml.DefusedXmlException) as exc:
        raise xml_error(exc, name) from exc
    root = tree.getroot()
    assert root is not None  # a parsed document has a root element
    v2 = is_v2(root)
    written: set[str] = set()
    for seg, unit, parents in segment_slots(root):
        if seg.id not in targets or seg.source is None:
            continue
        numbering = Numbering()
        _, source_codes = extract(seg.source, numbering)
        _, target_codes = extract(seg.target, numbering)
        target = seg.target if seg.target is not None else new_target(seg, unit, parents, v2)
        try:
            restore(target, targets[seg.id], [*target_codes, *source_codes])
        except InputError as exc:
            raise InputError(exc.message, where=f"segment {seg.id}", fix=exc.fix) from exc
        if state:
            holder = parents.get(id(seg.source)) if v2 else unit
            if v2 and holder is not None:
                holder.set("state", state)
            elif not v2:
                outer = unit.find("./{*}target")
                if outer is not None:
                    outer.set("state", state)
        written.add(seg.id)
    missing = [k for k in targets if k not in written]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(f"{len(missing)} segment id(s) are not in the file: {shown}", where=name)
    write_atomically(Path(out_path), lambda fh: tree.write(fh, encoding="UTF-8", xml_declaration=True),
                     binary=True)
    return len(written)


def is_v2(root: ET.Element) -> bool:
    """Whether a parsed XLIFF document is 2.x (else 1.2)."""
    return _is_v2(root.get("version"), root.tag)


def segment_slots(root: ET.Element) -> Iterator[tuple[SegmentXml, ET.Element, dict[int, ET.Element]]]:
    """Every segment of a parsed XLIFF document with its unit and the unit's child -> parent map, in
    document order, with the ids ``read_segments`` gives (the same walk as the reader's), for the
    writers that edit segments in place (``write_xliff``, ``tqcheck.io.xliff_writeback``)."""
    v2 = is_v2(root)
    files = [el for el in root.iter() if local_name(el.tag) == "file"]
    units = 0
    for index, file_el in enumerate(files, 1):
        key = (file_el.get("id") if v2 else file_el.get("original")) or file_el.get("id") or str(index)
        file = _File(key, None, None, None)
        prefix = f"{key}/" if len(files) > 1 else ""
        for unit in file_el.iter():
            if local_name(unit.tag) != ("unit" if v2 else "trans-unit"):
                continue
            units += 1
            parents = {id(c): p for p in unit.iter() for c in p}
            for seg in _segments_of(unit, v2, file, prefix, units):
                yield seg, unit, parents


def new_target(seg: SegmentXml, unit: ET.Element, parents: dict[int, ET.Element], v2: bool) -> ET.Element:
    """Create the missing ``<target>`` (or 1.2 target ``<mrk mtype="seg">``) where XLIFF puts it."""
    assert seg.source is not None
    ns = seg.source.tag[: seg.source.tag.index("}") + 1] if seg.source.tag.startswith("{") else ""
    if v2 or seg.segment_id is None:
        holder = parents[id(seg.source)]
        target = ET.Element(f"{ns}target")
        seg_source = None if v2 else _child(unit, "seg-source")
        anchor = seg_source if seg_source is not None else seg.source
        holder.insert(list(holder).index(anchor) + 1, target)
        return target
    outer = _child(unit, "target")
    if outer is None:
        outer = ET.Element(f"{ns}target")
        seg_source = _child(unit, "seg-source")
        unit.insert(list(unit).index(seg_source) + 1 if seg_source is not None else len(unit), outer)
    mark = ET.Element(f"{ns}mrk", {"mtype": "seg", "mid": seg.segment_id})
    outer.append(mark)
    return mark
