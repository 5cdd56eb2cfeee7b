"""Corrected targets back into an XLIFF file, flags as ITS Localization Quality Issue annotations.

A translation desk hands tqcheck the XLIFF its CAT tool produced and wants the very same file back,
with the reviewers' corrections in the ``<target>`` elements and the findings marked the way CAT tools
read them: ITS 2.0 Localization Quality Issue (LQI) annotations, as the XLIFF 2.1 ITS module defines
them (``<mrk type="its:generic" its:locQualityIssueType=...>`` around the span, or
``its:locQualityIssuesRef="#its=ID"`` pointing at an ``<its:locQualityIssues>`` element in the unit
when several issues share a span). XLIFF 1.2 files get the W3C ITS-XLIFF 1.2 mapping
(``<mrk mtype="x-its">``). ``build_xliff`` writes a fresh XLIFF 2.1 document when there is no file to
write into.

Segments are found by the ids the XLIFF reader (``tqcheck.io.xliff``) gave them, by the same walk
over the file, and inline codes come back from the reader's placeholders (``tqcheck.io.inline``).
Everything else in the file (other units, notes, comments, processing instructions, other
namespaces) is kept. Parsing is safe: entity declarations are refused (defusedxml).

How flags map to ITS: the MQM category gives the ``locQualityIssueType``; the severity gives
``locQualityIssueSeverity`` as ten times the MQM weight (minor 10, major 50, critical 100); a flag the
reviewers dismissed is kept with ``locQualityIssueEnabled="no"``, so that tools skip it while the record
of the false alarm stays.
"""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from tqcheck.errors import InputError
from tqcheck.io._xml import xml_error
from tqcheck.io.inline import Numbering, extract, local_name, restore
from tqcheck.io.xliff import SegmentXml, is_v2, new_target, segment_slots
from tqcheck.model import Category, Flag

ITS_NS = "http://www.w3.org/2005/11/its"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XLIFF2_NS = "urn:oasis:names:tc:xliff:document:2.0"

#: MQM category -> ITS 2.0 Localization Quality Issue type.
ITS_TYPES: dict[Category, str] = {
    Category.MISTRANSLATION: "mistranslation",
    Category.OMISSION: "omission",
    Category.ADDITION: "addition",
    Category.UNTRANSLATED: "untranslated",
    Category.PUNCTUATION: "typographical",
    Category.SPELLING: "misspelling",
    Category.GRAMMAR: "grammar",
    Category.INCONSISTENCY: "inconsistency",
    Category.NON_FLUENT: "style",
    Category.TERMINOLOGY: "terminology",
    Category.LOCALE_CONVENTION: "locale-violation",
    Category.MARKUP: "markup",
    Category.OTHER: "other",
}


@dataclass(frozen=True)
class QualityIssue:
    """One ITS Localization Quality Issue. ``start``/``end`` are offsets into the annotated text,
    or None for an issue about the whole segment."""

    type: str
    comment: str
    severity: float
    start: int | None = None
    end: int | None = None
    enabled: bool = True

    @classmethod
    def from_flag(cls, flag: Flag, *, decision: str | None = None) -> "QualityIssue":
        comment = f"{flag.check}: {flag.message}"
        if decision:
            comment += f" [{decision}]"
        span = flag.span if flag.span is not None and flag.span.side.value == "mt" else None
        return cls(
            type=ITS_TYPES.get(flag.category, "other"),
            comment=comment,
            severity=float(flag.severity.weight * 10),
            start=span.start if span else None,
            end=span.end if span else None,
            enabled=decision != "dismissed",
        )


@dataclass(frozen=True)
class TargetUpdate:
    """What to change in one XLIFF segment, found by ``key``: the ``Segment.id`` that
    ``tqcheck.io.xliff`` gave it when reading the file.

    ``text`` replaces the target (None keeps it); its placeholders (``{1}``...) become the file's
    inline codes again. ``issues`` are annotated on the target; their
    offsets point into ``issues_text`` (the MT), so spans are marked only while the target still
    reads exactly that text; otherwise each issue is attached to the whole target.
    """

    key: str
    text: str | None = None
    issues: tuple[QualityIssue, ...] = ()
    issues_text: str | None = None


@dataclass
class WriteBackReport:
    """What ``write_back`` did: counts for the user, and the keys it could not find in the file."""

    targets_written: int = 0
    segments_annotated: int = 0
    issues_written: int = 0
    unmatched: list[str] = field(default_factory=list)


# -- parsing ------------------------------------------------------------------------------------------


def _parse(data: bytes, name: str) -> tuple[ET.Element, dict[str, str]]:
    """Parse safely (no entity expansion), keeping comments, PIs and the document's prefixes."""
    prefixes: dict[str, str] = {}
    try:
        for _event, (prefix, uri) in DET.iterparse(io.BytesIO(data), events=("start-ns",),
                                                   forbid_dtd=False, forbid_entities=True,
                                                   forbid_external=True):
            prefixes.setdefault(uri, prefix)
        parser = DET.DefusedXMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True),
                                      forbid_dtd=False, forbid_entities=True, forbid_external=True)
        parser.feed(data)
        root = parser.close()
    except (DefusedXmlException, ET.ParseError) as exc:
        raise xml_error(exc, name) from exc
    if local_name(root.tag) != "xliff":
        raise InputError(f"not an XLIFF document: the root element is <{local_name(root.tag)}>",
                         where=name, fix="write back only into the XLIFF the segments came from")
    return root, prefixes


_SERIALIZE_LOCK = threading.Lock()


def _serialize(root: ET.Element, prefixes: Mapping[str, str]) -> bytes:
    """Write the tree with the document's own prefixes (ElementTree's registry is global, so the
    registration and the write happen under one lock)."""
    with _SERIALIZE_LOCK:
        for uri, prefix in {**prefixes, ITS_NS: "its"}.items():
            if uri == XML_NS or re.fullmatch(r"ns\d+", prefix):
                continue
            try:
                ET.register_namespace(prefix, uri)
            except ValueError:
                pass
        buffer = io.BytesIO()
        ET.ElementTree(root).write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue()


# -- the segments of a file ---------------------------------------------------------------------------


@dataclass
class _Slot:
    """One segment of the file, with the id ``tqcheck.io.xliff`` gave it when reading."""

    seg: SegmentXml
    unit: ET.Element
    parents: dict[int, ET.Element]


def _slots(root: ET.Element) -> tuple[bool, dict[str, _Slot]]:
    slots: dict[str, _Slot] = {}
    for seg, unit, parents in segment_slots(root):  # the reader's walk, so that ids match exactly
        slots.setdefault(seg.id, _Slot(seg, unit, parents))
    return is_v2(root), slots


# -- writing ------------------------------------------------------------------------------------------


def _clusters(issues: Sequence[QualityIssue], length: int) -> tuple[list[QualityIssue],
                                                                      list[tuple[int, int, list[QualityIssue]]]]:
    """Whole-segment issues, and span issues merged where they overlap (``<mrk>`` cannot cross)."""
    whole = [i for i in issues if i.start is None or i.end is None or i.start >= length
             or i.end <= i.start]
    spans = sorted((i for i in issues if i not in whole), key=lambda i: (i.start, i.end))
    clusters: list[tuple[int, int, list[QualityIssue]]] = []
    for issue in spans:
        start, end = issue.start or 0, min(issue.end or 0, length)
        if clusters and start < clusters[-1][1]:
            s, e, members = clusters[-1]
            clusters[-1] = (s, max(e, end), members + [issue])
        else:
            clusters.append((start, end, [issue]))
    return whole, clusters


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class _Annotator:
    """Writes ITS issue markup into targets: ``<mrk>`` elements and standoff issue lists.

    The marks are inserted into the segment text as extra paired placeholders and the target is
    rebuilt with ``tqcheck.io.inline.restore``, so that they nest correctly with the file's own
    inline codes; a span that would cross one of them is attached to the whole target instead.
    """

    _BASE = 100000  # placeholder numbers for the marks, far above any the reader gives

    def __init__(self, ns: str, v2: bool) -> None:
        self.ns = ns
        self.v2 = v2
        self.count = 0

    def _mrk(self, container: ET.Element, issues: Sequence[QualityIssue]) -> ET.Element:
        self.count += 1
        mrk = ET.Element(f"{self.ns}mrk")
        if self.v2:
            mrk.set("id", f"tqcheck-m{self.count}")
            mrk.set("type", "its:generic")
        else:
            mrk.set("mtype", "x-its")
        if len(issues) == 1:
            issue = issues[0]
            mrk.set(f"{{{ITS_NS}}}locQualityIssueType", issue.type)
            mrk.set(f"{{{ITS_NS}}}locQualityIssueComment", issue.comment)
            mrk.set(f"{{{ITS_NS}}}locQualityIssueSeverity", _number(issue.severity))
            if not issue.enabled:
                mrk.set(f"{{{ITS_NS}}}locQualityIssueEnabled", "no")
            return mrk
        standoff_id = f"tqcheck-lqi{self.count}"
        standoff = ET.Element(f"{{{ITS_NS}}}locQualityIssues", {f"{{{XML_NS}}}id": standoff_id})
        for issue in issues:
            attrs = {"locQualityIssueType": issue.type,
                     "locQualityIssueComment": issue.comment,
                     "locQualityIssueSeverity": _number(issue.severity)}
            if not issue.enabled:
                attrs["locQualityIssueEnabled"] = "no"
            ET.SubElement(standoff, f"{{{ITS_NS}}}locQualityIssue", attrs)
        if self.v2:
            container.insert(0, standoff)  # module elements come first in a <unit>
            mrk.set(f"{{{ITS_NS}}}locQualityIssuesRef", f"#its={standoff_id}")
        else:
            container.append(standoff)  # extension elements come last in a <trans-unit>
            mrk.set(f"{{{ITS_NS}}}locQualityIssuesRef", f"#{standoff_id}")
        return mrk

    def _marked(self, container: ET.Element, text: str, whole: list[QualityIssue],
                clusters: list[tuple[int, int, list[QualityIssue]]]) -> tuple[str, list[dict[str, Any]]]:
        records: list[dict[str, Any]] = []

        def record(issues: Sequence[QualityIssue]) -> tuple[str, str]:
            n = self._BASE + len(records) // 2 + 1
            xml = ET.tostring(self._mrk(container, issues), encoding="unicode")
            records.append({"ph": f"{{{n}}}", "n": n, "kind": "open", "xml": xml})
            records.append({"ph": f"{{/{n}}}", "n": n, "kind": "close", "xml": xml})
            return f"{{{n}}}", f"{{/{n}}}"

        pieces = []
        position = 0
        for start, end, members in clusters:
            open_, close = record(members)
            pieces += [text[position:start], open_, text[start:end], close]
            position = end
        pieces.append(text[position:])
        marked = "".join(pieces)
        if whole:
            open_, close = record(whole)
            marked = open_ + marked + close
        return marked, records

    def annotate(self, container: ET.Element, target: ET.Element, text: str,
                 codes: list[dict[str, Any]], issues: Sequence[QualityIssue], spans_apply: bool) -> None:
        if not spans_apply:
            issues = [QualityIssue(i.type, i.comment, i.severity, None, None, i.enabled) for i in issues]
        whole, clusters = _clusters(issues, len(text))
        standoff_before = list(container)
        marked, records = self._marked(container, text, whole, clusters)
        try:
            restore(target, marked, [*codes, *records])
        except InputError:
            # A span crosses one of the file's inline tags: drop what was added, mark the whole target.
            for child in list(container):
                if child not in standoff_before:
                    container.remove(child)
            everything = [QualityIssue(i.type, i.comment, i.severity, None, None, i.enabled)
                          for i in issues]
            marked, records = self._marked(container, text, everything, [])
            restore(target, marked, [*codes, *records])


def write_back(data: bytes, updates: Iterable[TargetUpdate], *,
               name: str = "XLIFF file", state: str | None = None) -> tuple[bytes, WriteBackReport]:
    """Apply corrections and issue annotations to an XLIFF document; return it and a report.

    Segments are found by the ids ``tqcheck.io.xliff`` gives when reading (``TargetUpdate.key``):
    2.x ``unit/segment``, 1.2 the trans-unit id (``unit/mid`` when segmented), prefixed with the
    file when there are several. Corrected text carries the reader's placeholders (``{1}``...),
    which become the file's inline codes again. ``state`` is set on corrected segments (2.x
    ``segment/@state``, e.g. ``reviewed``; 1.2 ``target/@state``, e.g. ``signed-off``).
    """
    root, prefixes = _parse(data, name)
    v2, slots = _slots(root)
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    report = WriteBackReport()
    annotator = _Annotator(ns, v2)
    for update in updates:
        slot = slots.get(update.key)
        if slot is None or slot.seg.source is None:
            report.unmatched.append(update.key)
            continue
        seg = slot.seg
        numbering = Numbering()
        _, source_codes = extract(seg.source, numbering)
        current, target_codes = extract(seg.target, numbering)
        codes = [*target_codes, *source_codes]
        target = seg.target
        if target is None:
            target = new_target(seg, slot.unit, slot.parents, v2)
            seg.target = target
            # No target in the file: the checked MT (or the correction) becomes the target.
            current = update.issues_text or ""
        text = update.text if update.text is not None else current
        where = f"segment {seg.id}"
        try:
            if update.text is not None:
                restore(target, update.text, codes)
                report.targets_written += 1
                if state:
                    _set_state(slot, v2, state)
            if update.issues:
                spans_apply = update.issues_text is not None and text == update.issues_text
                annotator.annotate(slot.unit, target, text, codes, update.issues, spans_apply)
                report.segments_annotated += 1
                report.issues_written += len(update.issues)
        except InputError as exc:
            raise InputError(exc.message, where=f"{name}: {where}", fix=exc.fix) from exc
    if annotator.count:
        root.set(f"{{{ITS_NS}}}version", "2.0")
    return _serialize(root, prefixes), report


def _set_state(slot: _Slot, v2: bool, state: str) -> None:
    if v2:
        holder = slot.parents.get(id(slot.seg.source))
        if holder is not None:
            holder.set("state", state)
        return
    outer = next((c for c in slot.unit if local_name(c.tag) == "target"), None)
    if outer is not None:
        outer.set("state", state)


@dataclass(frozen=True)
class XliffUnit:
    """A segment for a fresh XLIFF 2.1 document."""

    id: str
    source: str
    target: str
    issues: tuple[QualityIssue, ...] = ()
    issues_text: str | None = None
    notes: tuple[str, ...] = ()


def build_xliff(units: Iterable[XliffUnit], *, source_lang: str, target_lang: str | None,
                original: str = "tqcheck") -> bytes:
    """A new XLIFF 2.1 document: one unit per segment, targets as given, issues as ITS LQI.

    Texts are written as plain text: placeholders such as ``{1}`` stay literal, since there is no
    original markup to restore them from.
    """
    ns = f"{{{XLIFF2_NS}}}"
    root = ET.Element(f"{ns}xliff", {"version": "2.1", "srcLang": source_lang or "und"})
    if target_lang:
        root.set("trgLang", target_lang)
    file_el = ET.SubElement(root, f"{ns}file", {"id": "f1", "original": original})
    annotator = _Annotator(ns, True)
    seen: dict[str, int] = {}
    for unit in units:
        unit_el = ET.SubElement(file_el, f"{ns}unit", {"id": _xml_id(unit.id, seen)})
        if unit.notes:
            notes = ET.SubElement(unit_el, f"{ns}notes")
            for text in unit.notes:
                ET.SubElement(notes, f"{ns}note").text = text
        seg = ET.SubElement(unit_el, f"{ns}segment", {"id": "1"})
        ET.SubElement(seg, f"{ns}source").text = unit.source
        target = ET.SubElement(seg, f"{ns}target")
        target.text = unit.target
        if unit.issues:
            annotator.annotate(unit_el, target, unit.target, [], unit.issues,
                               unit.issues_text is not None and unit.target == unit.issues_text)
    if annotator.count:
        root.set(f"{{{ITS_NS}}}version", "2.0")
    return _serialize(root, {XLIFF2_NS: "", ITS_NS: "its"})


def _xml_id(value: str, seen: dict[str, int]) -> str:
    """A unit id: the segment id when it is unique in the file, else made unique with a suffix."""
    base = value or "u"
    count = seen.get(base, 0)
    seen[base] = count + 1
    return base if count == 0 else f"{base}~{count + 1}"
