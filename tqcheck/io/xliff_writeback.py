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

How a flag becomes an ITS issue (``QualityIssue.from_flag``):

* **type**: ``its_type`` reads ``ITS_TYPES``, the one table from every rule check and signal to an
  ITS 2.0 ``locQualityIssueType`` (the reasons are next to it);
* **severity**: ``SEVERITY_SCORES``, the MQM penalty weights scaled to ITS's 0-100;
* **comment**: ``short_comment``, the flag's message cut to one plain sentence of at most
  ``MAX_COMMENT`` characters, without engine numbers (probabilities, ratios, thresholds) or engine
  ids; those stay in the review store and the JSONL export;
* which check raised it, the engine's raw confidence and the reviewer's decision go on the
  ``<mrk>`` as attributes of our own namespace (``tq:check``, ``tq:confidence``, ``tq:decision``;
  ``TQ_NS``): XLIFF lets other namespaces' attributes on ``<mrk>`` (1.2 and 2.x), while the XLIFF 2.1
  ITS module allows none on a standoff ``<its:locQualityIssue>``, so a mark that points at several
  issues carries only ``tq:check``, their checks in the order of the list;
* a flag the reviewers dismissed is kept with ``locQualityIssueEnabled="no"``, so that tools skip it
  while the record of the false alarm stays.

A corrected target changes the segment's state: XLIFF 2.x ``<segment state="reviewed">``, XLIFF 1.2
``<target state="signed-off">`` (``XLIFF2_REVIEWED``, ``XLIFF12_REVIEWED``: why these). A segment
that was not corrected keeps its state, whatever its flags' decisions.
"""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from tqcheck.errors import InputError, UsageError
from tqcheck.io._xml import xml_error
from tqcheck.io.inline import Numbering, extract, local_name, restore
from tqcheck.io.xliff import SegmentXml, is_v2, new_target, segment_slots
from tqcheck.model import Category, Flag, Severity

ITS_NS = "http://www.w3.org/2005/11/its"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XLIFF2_NS = "urn:oasis:names:tc:xliff:document:2.0"
#: tqcheck's own attributes on ITS marks (``tq:check``...). A namespace name, not a location.
TQ_NS = "urn:tqcheck:xliff:1"

# -- flags as ITS issues: the mapping -----------------------------------------------------------------

#: The ITS 2.0 ``locQualityIssueType`` values (the ITS 2.0 table ``#lqissue-typevalues``, and the
#: ``issueType`` enumeration of the XLIFF 2.1 ITS module's its.xsd).
ITS_ISSUE_TYPES: frozenset[str] = frozenset({
    "terminology", "mistranslation", "omission", "untranslated", "addition", "duplication",
    "inconsistency", "grammar", "legal", "register", "locale-specific-content", "locale-violation",
    "style", "characters", "misspelling", "typographical", "formatting", "inconsistent-entities",
    "numbers", "markup", "pattern-problem", "whitespace", "internationalization", "length",
    "non-conformance", "uncategorized", "other",
})

#: An MQM category as an ITS type: how a finding is typed where its kind, not its detector, says what
#: it is (the model signals, which find several kinds; a check not in ``ITS_TYPES``).
BY_CATEGORY: Mapping[Category, str] = {
    Category.MISTRANSLATION: "mistranslation",
    Category.OMISSION: "omission",
    Category.ADDITION: "addition",
    Category.UNTRANSLATED: "untranslated",
    Category.PUNCTUATION: "typographical",  # ITS: "such as omitted/incorrect punctuation"
    Category.SPELLING: "misspelling",
    Category.GRAMMAR: "grammar",
    Category.INCONSISTENCY: "inconsistency",
    Category.NON_FLUENT: "style",
    Category.TERMINOLOGY: "terminology",
    Category.LOCALE_CONVENTION: "locale-violation",
    Category.MARKUP: "markup",
    Category.OTHER: "other",
}

#: Every rule check and signal -> its ITS type: a type, or a table by the flag's MQM category.
#: A rule check finds one kind of problem, named better by the check than by the MQM category it
#: files it under (the numbers check files a changed number as a mistranslation; ITS has "numbers").
#: ``tests/test_xliff_its.py`` holds every check of ``tqcheck.checks.CHECKS`` and every signal to an
#: entry here.
ITS_TYPES: Mapping[str, str | Mapping[Category, str]] = {
    # -- rule checks (tqcheck.checks.CHECKS)
    "empty": BY_CATEGORY,  # an empty MT is an omission, an empty source with an MT an addition
    # A number changed, lost or added is "numbers" ("numbers are inconsistent between source and
    # target"); the right number written the source locale's way violates the target's norms.
    "numbers": {**dict.fromkeys(Category, "numbers"), Category.LOCALE_CONVENTION: "locale-violation"},
    # A URL, @handle or #hashtag is content with a fixed shape that the MT broke, lost or invented:
    # ITS "pattern-problem" ("the text fails to match a pattern that defines allowable content"), as
    # Okapi CheckMate types its pattern checks. Not "formatting", which is about how text is
    # presented (bold, line breaks), not about the characters of a token.
    "urls_handles": "pattern-problem",
    "tags": "markup",
    "brackets_quotes": "typographical",  # unbalanced brackets and quotes are punctuation
    "spacing": "whitespace",  # including the French no-break space before ; : ! ?
    "end_punctuation": "typographical",
    "capitalization": "typographical",  # as W3C's ITS 2.0 example types "Sentence without capitalization"
    "repeats": "duplication",  # "the the": content duplicated improperly
    "untranslated": "untranslated",
    "length_ratio": "length",
    "entities": "inconsistent-entities",  # a name, place or date of the source missing from the MT
    "glossary": "terminology",
    "spelling": "misspelling",
    # -- model signals (tqcheck.signals): what they found, by its MQM category
    "roundtrip": BY_CATEGORY,
    "pseudo_reference": BY_CATEGORY,
    "forced": BY_CATEGORY,
    "fluency": BY_CATEGORY,
    "homograph": BY_CATEGORY,
    "crosslingual": BY_CATEGORY,
    "qe": BY_CATEGORY,
    "reference": BY_CATEGORY,
    # -- fusion: a high-risk segment where no span stands out. The kind of error is unknown, which
    # is ITS "uncategorized" ("the issue either has not been categorized or cannot be
    # categorized"); "other" is for a known kind that no ITS type names.
    "risk": "uncategorized",
}

#: MQM severity -> ITS ``locQualityIssueSeverity`` (a decimal from 0 to 100, higher is more
#: severe): the MQM penalty weights (1, 5, 10) times ten, so that a tool adding up severities ranks
#: segments as an MQM score would, and a critical error sits at the top of the scale.
SEVERITY_SCORES: Mapping[Severity, float] = {
    Severity.MINOR: 10.0,
    Severity.MAJOR: 50.0,
    Severity.CRITICAL: 100.0,
}


def its_type(check: str, category: Category) -> str:
    """The ITS type of a flag raised by ``check`` under MQM ``category`` (``ITS_TYPES``); a check
    not in the table (a new one, a plug-in) is typed by its category."""
    entry = ITS_TYPES.get(check, BY_CATEGORY)
    if isinstance(entry, str):
        return entry
    return entry.get(category) or BY_CATEGORY.get(category, "other")


#: The longest ``locQualityIssueComment`` written, in characters.
MAX_COMMENT = 200
# Quoted text, which is never cut or stripped: curly and guillemet quotes, and ASCII quotes that
# stand apart from words (so that the apostrophe of "sentence's" opens nothing).
_QUOTED = re.compile(r"“[^”]*”|«[^»]*»|‘[^’]*’(?!\w)|(?<!\w)'[^']*'(?!\w)|(?<!\w)\"[^\"]*\"(?!\w)")
# An aside in parentheses.
_ASIDE = re.compile(r"\s*\([^()]*\)")
# What makes an aside an engine detail: a number (a probability, a ratio, a threshold) or an engine
# spec such as ``hf:Helsinki-NLP/opus-mt-en-fr``.
_ENGINE_DETAIL = re.compile(r"\d|\b[\w.-]+:[\w./-]+")
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MASK = "\x00"


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold (C0 controls but tab and newlines) made
    U+FFFD, so that a feed's stray control character cannot make the written file unreadable."""
    return _NOT_XML.sub("\ufffd", text)


def short_comment(message: str, *, limit: int = MAX_COMMENT) -> str:
    """A flag's message as an ITS comment: its first sentence, without the asides in parentheses
    that carry engine numbers or ids, capitalised, ending in a full stop, at most ``limit``
    characters. Quoted text (what the MT or the source says) is kept as it is.

    >>> short_comment("the language model finds “walk” unexpected here (probability 0.0012)")
    'The language model finds “walk” unexpected here.'
    """
    text = " ".join(xml_text(message).split())
    # The same text with quotations blanked, so that nothing inside them is read as structure.
    masked = _QUOTED.sub(lambda m: _MASK * len(m.group(0)), text)
    for aside in reversed(list(_ASIDE.finditer(masked))):
        if _ENGINE_DETAIL.search(aside.group(0)):
            text = text[: aside.start()] + text[aside.end():]
            masked = masked[: aside.start()] + masked[aside.end():]
    for end in re.finditer(r"[.!?]\s+(\S)", masked):
        following = end.group(1)
        if following == _MASK or following.isupper():
            text = text[: end.start() + 1]
            break
    text = text.strip()
    if not text:
        return ""
    if text[0].islower():
        text = text[0].upper() + text[1:]
    ends_quote = len(text) > 1 and text[-1] in "”»'\"" and text[-2] in ".!?…"
    if text[-1] not in ".!?…" and not ends_quote:
        text = text.rstrip(",;:") + "."
    if len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        if space > limit // 2:
            cut = cut[:space]
        text = cut.rstrip(" ,;:.") + "…"
    return text


@dataclass(frozen=True)
class QualityIssue:
    """One ITS Localization Quality Issue. ``start``/``end`` are offsets into the annotated text,
    or None for an issue about the whole segment. ``check``, ``confidence`` and ``decision`` (the
    reviewers' verdict) are written as tqcheck's own attributes where XLIFF allows them."""

    type: str
    comment: str
    severity: float
    start: int | None = None
    end: int | None = None
    enabled: bool = True
    check: str | None = None
    confidence: float | None = None
    decision: str | None = None

    @classmethod
    def from_flag(cls, flag: Flag, *, decision: str | None = None) -> QualityIssue:
        span = flag.span if flag.span is not None and flag.span.side.value == "mt" else None
        return cls(
            type=its_type(flag.check, flag.category),
            comment=short_comment(flag.message),
            severity=SEVERITY_SCORES[flag.severity],
            start=span.start if span else None,
            end=span.end if span else None,
            enabled=decision != "dismissed",
            check=flag.check,
            confidence=flag.confidence,
            decision=decision,
        )

    def whole(self) -> QualityIssue:
        """The same issue about the whole segment."""
        return dataclasses.replace(self, start=None, end=None)


# -- segment states -----------------------------------------------------------------------------------

#: XLIFF 2.x ``<segment state>`` values (the XLIFF 2.0/2.1 core schema's ``stateType``).
XLIFF2_STATES = frozenset({"initial", "translated", "reviewed", "final"})
#: XLIFF 1.2 ``<target state>`` values (the 1.2 schema's ``stateValueList``; user-defined values
#: start with ``x-``).
XLIFF12_STATES = frozenset({
    "final", "needs-adaptation", "needs-l10n", "needs-review-adaptation", "needs-review-l10n",
    "needs-review-translation", "needs-translation", "new", "signed-off", "translated",
})
#: The state of a target a reviewer corrected, XLIFF 2.x: "reviewed", the state XLIFF 2 has for
#: exactly that; not "final", the last state, since the desk may still sign off after tqcheck.
XLIFF2_REVIEWED = "reviewed"
#: The same in XLIFF 1.2, which has no "reviewed": "signed-off" "indicates that changes are reviewed
#: and approved", which is what a reviewer's correction is; "translated" ("indicates that the item
#: has been translated") would undersell it, and "needs-review-translation" ("indicates that only
#: the text of the item needs to be reviewed") would send it back to review.
XLIFF12_REVIEWED = "signed-off"


def _check_state(state: str, v2: bool, name: str) -> None:
    valid = XLIFF2_STATES if v2 else XLIFF12_STATES
    if state in valid or (not v2 and state.startswith("x-")):
        return
    version = "2.x" if v2 else "1.2"
    raise UsageError(f"{state!r} is not an XLIFF {version} segment state", where=name,
                     fix=f"use one of: {', '.join(sorted(valid))}"
                     + ("" if v2 else " (or a value of your own starting with x-)"))


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
    registration and the write happen under one lock). ``tq`` goes first so that a document that
    already uses that prefix for something else keeps it."""
    with _SERIALIZE_LOCK:
        for uri, prefix in {TQ_NS: "tq", **prefixes, ITS_NS: "its"}.items():
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
            if issue.check:
                mrk.set(f"{{{TQ_NS}}}check", issue.check)
            if issue.confidence is not None:
                mrk.set(f"{{{TQ_NS}}}confidence", f"{issue.confidence:.4g}")
            if issue.decision:
                mrk.set(f"{{{TQ_NS}}}decision", issue.decision)
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
        checks = [issue.check or "-" for issue in issues]
        if any(c != "-" for c in checks):
            mrk.set(f"{{{TQ_NS}}}check", " ".join(checks))  # in the order of the standoff list
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
            issues = [i.whole() for i in issues]
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
            everything = [i.whole() for i in issues]
            marked, records = self._marked(container, text, everything, [])
            restore(target, marked, [*codes, *records])


def write_back(data: bytes, updates: Iterable[TargetUpdate], *,
               name: str = "XLIFF file", state: str | None = None) -> tuple[bytes, WriteBackReport]:
    """Apply corrections and issue annotations to an XLIFF document; return it and a report.

    Segments are found by the ids ``tqcheck.io.xliff`` gives when reading (``TargetUpdate.key``):
    2.x ``unit/segment``, 1.2 the trans-unit id (``unit/mid`` when segmented), prefixed with the
    file when there are several. Corrected text carries the reader's placeholders (``{1}``...),
    which become the file's inline codes again.

    A corrected segment gets ``state`` (2.x ``segment/@state``, 1.2 ``target/@state``), by default
    ``XLIFF2_REVIEWED`` or ``XLIFF12_REVIEWED``; a value the file's XLIFF version does not define is a
    ``UsageError``. An XLIFF 1.2 ``state-qualifier`` (``leveraged-mt``, ``fuzzy-match``...) says
    where the old target came from, so it is removed from a corrected one. Segments that were not
    corrected keep their state.
    """
    root, prefixes = _parse(data, name)
    v2, slots = _slots(root)
    if state is None:
        state = XLIFF2_REVIEWED if v2 else XLIFF12_REVIEWED
    else:
        _check_state(state, v2, name)
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
                restore(target, xml_text(update.text), codes)
                report.targets_written += 1
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
    """The state of a corrected segment: on 2.x ``<segment>``; on the 1.2 ``<target>`` of the
    trans-unit (1.2 has no state per ``<mrk mtype="seg">``, so one corrected sub-segment sets it
    for the unit)."""
    if v2:
        holder = slot.parents.get(id(slot.seg.source))
        if holder is not None:
            holder.set("state", state)
        return
    outer = next((c for c in slot.unit if local_name(c.tag) == "target"), None)
    if outer is not None:
        outer.set("state", state)
        outer.attrib.pop("state-qualifier", None)


@dataclass(frozen=True)
class XliffUnit:
    """A segment for a fresh XLIFF 2.1 document; ``state`` is its ``<segment state>`` (None: none
    written, which XLIFF reads as ``initial``)."""

    id: str
    source: str
    target: str
    issues: tuple[QualityIssue, ...] = ()
    issues_text: str | None = None
    notes: tuple[str, ...] = ()
    state: str | None = None


def build_xliff(units: Iterable[XliffUnit], *, source_lang: str, target_lang: str | None,
                original: str = "tqcheck") -> bytes:
    """A new XLIFF 2.1 document: one unit per segment, targets as given, issues as ITS LQI.

    Texts are written as plain text: placeholders such as ``{1}`` stay literal, since there is no
    original markup to restore them from. A segment id that is not an XML name token (``u1/s1``, an
    id with spaces) becomes one for the unit ``id``, and is kept whole in the unit ``name``.
    """
    ns = f"{{{XLIFF2_NS}}}"
    root = ET.Element(f"{ns}xliff", {"version": "2.1", "srcLang": source_lang or "und"})
    if target_lang:
        root.set("trgLang", target_lang)
    file_el = ET.SubElement(root, f"{ns}file", {"id": "f1", "original": original})
    annotator = _Annotator(ns, True)
    seen: set[str] = set()
    for unit in units:
        unit_id = _unit_id(unit.id, seen)
        unit_el = ET.SubElement(file_el, f"{ns}unit", {"id": unit_id})
        if unit_id != unit.id:
            unit_el.set("name", xml_text(unit.id))
        if unit.notes:
            notes = ET.SubElement(unit_el, f"{ns}notes")
            for text in unit.notes:
                ET.SubElement(notes, f"{ns}note").text = xml_text(text)
        seg = ET.SubElement(unit_el, f"{ns}segment", {"id": "1"})
        if unit.state:
            _check_state(unit.state, True, "XLIFF 2.1")
            seg.set("state", unit.state)
        ET.SubElement(seg, f"{ns}source").text = xml_text(unit.source)
        target = ET.SubElement(seg, f"{ns}target")
        target.text = xml_text(unit.target)
        if unit.issues:
            annotator.annotate(unit_el, target, target.text, [], unit.issues,
                               unit.issues_text is not None and unit.target == unit.issues_text)
    if annotator.count:
        root.set(f"{{{ITS_NS}}}version", "2.0")
    return _serialize(root, {XLIFF2_NS: "", ITS_NS: "its"})


def _unit_id(value: str, seen: set[str]) -> str:
    """A unit id: an XML name token (``u1/s1`` -> ``u1_s1``), unique in the file."""
    base = re.sub(r"[^\w.:-]", "_", value) or "u"
    candidate, n = base, 1
    while candidate in seen:
        n += 1
        candidate = f"{base}_{n}"
    seen.add(candidate)
    return candidate
