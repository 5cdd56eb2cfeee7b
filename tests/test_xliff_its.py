"""XLIFF/ITS correctness of the export: issue types for every check and signal, severities, short
comments, segment states, and files that stay well-formed XML with the ITS namespace declared.

The round trips use the real path: the XLIFF reader, the review store, the reviewer workflow and
``export_bytes``; the output is parsed back with an XML parser (and with tqcheck's own reader).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import xml.etree.ElementTree as ET

import pytest
from review_fixtures import signature, span_of

import tqcheck.signals
from tqcheck.checks import CHECKS
from tqcheck.errors import UsageError
from tqcheck.io import read_segments
from tqcheck.io.xliff_writeback import (
    BY_CATEGORY,
    ITS_ISSUE_TYPES,
    ITS_NS,
    ITS_TYPES,
    MAX_COMMENT,
    SEVERITY_SCORES,
    TQ_NS,
    QualityIssue,
    TargetUpdate,
    its_type,
    short_comment,
    write_back,
)
from tqcheck.model import Category, Flag, SegmentResult, Severity, Side, Summary
from tqcheck.review import workflow
from tqcheck.review.export import export_bytes
from tqcheck.store import Store

SAMPLES = __import__("pathlib").Path(__file__).resolve().parent.parent / "samples"
ITS = f"{{{ITS_NS}}}"
TQ = f"{{{TQ_NS}}}"
X2 = "{urn:oasis:names:tc:xliff:document:2.0}"
X12 = "{urn:oasis:names:tc:xliff:document:1.2}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


# -- the mapping ------------------------------------------------------------------------------------


def _signal_names() -> set[str]:
    """The ``name`` of every signal class in ``tqcheck.signals``."""
    names = set()
    for info in pkgutil.iter_modules(tqcheck.signals.__path__):
        module = importlib.import_module(f"tqcheck.signals.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and isinstance(cls.__dict__.get("name"), str):
                names.add(cls.__dict__["name"])
    return names


def _types_of(entry: str | object) -> set[str]:
    return {entry} if isinstance(entry, str) else set(entry.values())  # type: ignore[attr-defined]


def test_every_check_signal_and_the_risk_flag_has_an_its_type():
    signals = _signal_names()
    assert {"roundtrip", "pseudo_reference", "forced", "fluency", "crosslingual", "qe",
            "homograph"} <= signals
    missing = sorted((set(CHECKS) | signals | {"risk"}) - set(ITS_TYPES))
    assert missing == []
    for name, entry in ITS_TYPES.items():
        assert _types_of(entry) <= ITS_ISSUE_TYPES, name
        if not isinstance(entry, str):
            assert set(entry) == set(Category), f"{name} leaves a category untyped"
    assert set(BY_CATEGORY) == set(Category) and set(BY_CATEGORY.values()) <= ITS_ISSUE_TYPES
    assert len(ITS_ISSUE_TYPES) == 27


@pytest.mark.parametrize(("check", "category", "expected"), [
    ("numbers", Category.MISTRANSLATION, "numbers"),
    ("numbers", Category.OMISSION, "numbers"),
    ("numbers", Category.LOCALE_CONVENTION, "locale-violation"),  # right value, source's format
    ("spacing", Category.PUNCTUATION, "whitespace"),
    ("spacing", Category.LOCALE_CONVENTION, "whitespace"),
    ("tags", Category.MARKUP, "markup"),
    ("glossary", Category.TERMINOLOGY, "terminology"),
    ("repeats", Category.GRAMMAR, "duplication"),
    ("spelling", Category.SPELLING, "misspelling"),
    ("length_ratio", Category.OMISSION, "length"),
    ("untranslated", Category.UNTRANSLATED, "untranslated"),
    ("urls_handles", Category.OMISSION, "pattern-problem"),
    ("urls_handles", Category.MARKUP, "pattern-problem"),
    ("capitalization", Category.SPELLING, "typographical"),
    ("brackets_quotes", Category.PUNCTUATION, "typographical"),
    ("end_punctuation", Category.PUNCTUATION, "typographical"),
    ("entities", Category.OMISSION, "inconsistent-entities"),
    ("empty", Category.OMISSION, "omission"),
    ("empty", Category.ADDITION, "addition"),
    ("roundtrip", Category.MISTRANSLATION, "mistranslation"),
    ("roundtrip", Category.OMISSION, "omission"),
    ("homograph", Category.MISTRANSLATION, "mistranslation"),
    ("fluency", Category.NON_FLUENT, "style"),
    ("qe", Category.NON_FLUENT, "style"),
    ("risk", Category.OTHER, "uncategorized"),
    ("a_new_check", Category.TERMINOLOGY, "terminology"),  # not in the table: by its category
])
def test_its_type(check, category, expected):
    assert its_type(check, category) == expected


def test_severities_scale_the_mqm_weights_into_0_to_100():
    assert SEVERITY_SCORES == {Severity.MINOR: 10, Severity.MAJOR: 50, Severity.CRITICAL: 100}
    assert all(SEVERITY_SCORES[s] == s.weight * 10 for s in Severity)


@pytest.mark.parametrize(("message", "expected"), [
    # engine numbers in asides go; the finding stays
    ("the language model finds “walk” unexpected here (probability 0.0012, 3.1 spreads above this "
     "sentence's median)", "The language model finds “walk” unexpected here."),
    ("the reference model finds “market” an unlikely translation here (probability 2.3e-05)",
     "The reference model finds “market” an unlikely translation here."),
    ("the QE model tags 'market' as an error (p=0.87)", "The QE model tags 'market' as an error."),
    ("the MT is short: 40 characters for 120 in the source (ratio 0.33, expected 0.8-1.5)",
     "The MT is short: 40 characters for 120 in the source."),
    ("checked with (hf:Helsinki-NLP/opus-mt-en-fr) twice", "Checked with twice."),
    # one sentence: the first; a merged flag's "Also: ..." goes
    ("“market” may be a misreading: in French it is “marché”, which is spelled like “marche” "
     "(“march”), and the sentence reads better with “march” (the language model finds it 888 times "
     "more likely). If the source says “marche”, the engine confused the two",
     "“market” may be a misreading: in French it is “marché”, which is spelled like “marche” "
     "(“march”), and the sentence reads better with “march”."),
    ("the reference model wrote “walk” where the MT has “market”. Also: the language model finds "
     "“market” unexpected here (probability 0.001)",
     "The reference model wrote “walk” where the MT has “market”."),
    # quoted text is never cut or stripped, even with full stops or numbers inside
    ("the engine read it back as “Il a marché. Puis il est parti.”",
     "The engine read it back as “Il a marché. Puis il est parti.”"),
    ("“3 000” became “(3,000)” in the MT", "“3 000” became “(3,000)” in the MT."),
    ("unbalanced quotes: '“' closes nothing", "Unbalanced quotes: '“' closes nothing."),
    ("glossary: 'budget' should be 'loi de finances' (or be 'PLF')",
     "Glossary: 'budget' should be 'loi de finances' (or be 'PLF')."),
    # the risk flag keeps its point, not the threshold
    ("the signals together put this sentence at a 73% chance of a major error (flagged from 60%); "
     "no single span stands out, read it whole",
     "The signals together put this sentence at a 73% chance of a major error; no single span "
     "stands out, read it whole."),
    ("3 spaces in a row", "3 spaces in a row."),
    ("a control\x0bcharacter", "A control\ufffdcharacter."),
    ("", ""),
])
def test_short_comment(message, expected):
    assert short_comment(message) == expected


def test_short_comment_is_at_most_the_limit_and_cut_at_a_word():
    message = "the MT " + "drops a word " * 40
    comment = short_comment(message)
    assert len(comment) <= MAX_COMMENT and comment.endswith("…")
    kept = comment[:-1]
    assert ("T" + message[1:]).startswith(kept) and message[len(kept)] == " "


def test_a_flag_becomes_an_issue_with_our_details_apart():
    flag = Flag("fluency", Severity.MAJOR, Category.NON_FLUENT,
                "the language model finds “market” unexpected here (probability 0.0012)",
                span_of("He went to the market.", "market"), confidence=0.8123456)
    issue = QualityIssue.from_flag(flag, decision="confirmed")
    assert (issue.type, issue.severity, issue.start, issue.end) == ("style", 50, 15, 21)
    assert issue.comment == "The language model finds “market” unexpected here."
    assert (issue.check, issue.confidence, issue.decision, issue.enabled) == (
        "fluency", 0.8123456, "confirmed", True)
    omission = Flag("roundtrip", Severity.MINOR, Category.OMISSION, "the source word “marche” did not "
                    "come back", span_of("Il partait en marche.", "marche", Side.SOURCE))
    issue = QualityIssue.from_flag(omission, decision="dismissed")
    assert (issue.type, issue.start, issue.enabled) == ("omission", None, False)  # a source span


# -- round trips through the store ------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "r.sqlite") as s:
        yield s


def _its_checks(data: bytes) -> ET.Element:
    """Parse the output and check what every ITS annotation in it must satisfy; return the root."""
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(data)  # well-formed
    head = data[: data.index(b">", data.index(b"<xliff")) + 1]
    assert f'xmlns:its="{ITS_NS}"'.encode() in head and root.get(f"{ITS}version") == "2.0"
    ids = {el.get(XML_ID) for el in root.iter(f"{ITS}locQualityIssues")}
    for el in root.iter():
        if el.get(f"{ITS}locQualityIssueType") is not None:
            issues = [{k.removeprefix(ITS): v for k, v in el.attrib.items()}]
        elif el.tag == f"{ITS}locQualityIssue":
            issues = [dict(el.attrib)]
            assert not any(k.startswith("{") for k in el.attrib)  # the XLIFF 2.1 ITS module: none
        else:
            continue
        for issue in issues:
            assert issue["locQualityIssueType"] in ITS_ISSUE_TYPES
            assert 0 <= float(issue["locQualityIssueSeverity"]) <= 100
            comment = issue["locQualityIssueComment"]
            assert 0 < len(comment) <= MAX_COMMENT and "probability" not in comment
    for el in root.iter():
        ref = el.get(f"{ITS}locQualityIssuesRef")
        if ref is not None:
            assert ref.split("=")[-1].lstrip("#") in ids
    return root


def _feed_run(store: Store, tmp_path):
    """samples/feed.xlf (XLIFF 2.1) read with the real reader, flagged as checks and signals
    would, stored with its file."""
    path = tmp_path / "feed.xlf"
    path.write_bytes((SAMPLES / "feed.xlf").read_bytes())
    seg = {s.id: s for s in read_segments([path])}
    u1, u21, u3 = seg["u1/s1"], seg["u2/s1"], seg["u3/s1"]
    items = [
        SegmentResult(u1, (
            Flag("fluency", Severity.MINOR, Category.NON_FLUENT,
                 "the language model finds “presented” unexpected here (probability 0.0004, 4.2 "
                 "spreads above this sentence's median)", span_of(u1.mt, "presented"), confidence=0.41),
            Flag("risk", Severity.MAJOR, Category.OTHER,
                 "the signals together put this sentence at a 71% chance of a major error (flagged "
                 "from 55%); no single span stands out, read it whole", confidence=0.71),
        ), risk=0.71),
        SegmentResult(u21, (
            Flag("numbers", Severity.CRITICAL, Category.MISTRANSLATION,
                 "“300” is not the source's “3 000”", span_of(u21.mt, "300")),
            Flag("spacing", Severity.MINOR, Category.PUNCTUATION, "space after 'than'",
                 span_of(u21.mt, "than ")),
        ), risk=0.9),
        SegmentResult(u3, (
            Flag("tags", Severity.MAJOR, Category.MARKUP, "{1/} of the source is missing from the MT"),
            Flag("repeats", Severity.MINOR, Category.GRAMMAR, "“our special” repeated? no: a test",
                 span_of(u3.mt, "our special")),
        ), risk=0.6),
    ]
    rid = store.start_run(signature(), name="feed.xlf")
    store.add_results(rid, items)
    store.finish_run(rid, Summary.of(items))
    store.attach_file(rid, "feed.xlf", path.read_bytes(), format="xliff")
    return rid, path


def test_xliff21_round_trip_types_severities_states_and_comments(store, tmp_path):
    rid, path = _feed_run(store, tmp_path)
    u1 = store.find_segment(rid, "u1/s1")
    u1 = workflow.confirm(store, u1, u1.flags[1].id, reviewer="ann")
    workflow.fix(store, u1, "The government unveiled its {1}draft budget{/1} for 2025 on Tuesday.",
                 reviewer="ann")
    u2 = store.find_segment(rid, "u2/s1")  # every flag dismissed, nothing edited
    for flag in u2.flags:
        u2 = workflow.dismiss(store, u2, flag.id, reviewer="bob")
    u3 = store.find_segment(rid, "u3/s1")
    workflow.confirm(store, u3, u3.flags[1].id, reviewer="bob")

    data, summary = export_bytes(store.iter_segments(run_ids=(rid,)), "xliff",
                                 original_xliff=path.read_bytes())
    assert summary == "1 corrected targets, 6 issues on 3 segments"
    root = _its_checks(data)
    assert f'xmlns:tq="{TQ_NS}"'.encode() in data
    segments = {(u.get("id"), s.get("id")): s for u in root.iter(f"{X2}unit") for s in u.iter(f"{X2}segment")}

    # Corrected: "reviewed"; not corrected (all flags dismissed, or one confirmed): as it was.
    assert segments["u1", "s1"].get("state") == "reviewed"
    assert segments["u2", "s1"].get("state") == "translated"
    assert segments["u2", "s2"].get("state") == "translated"
    assert segments["u3", "s1"].get("state") == "translated"
    assert segments["u5", "s1"].get("state") == "initial"

    # u2/s1 is as the MT was, so each issue marks its own span; both are disabled.
    marks = {m.text: m for m in segments["u2", "s1"].iter(f"{X2}mrk")}
    assert {t: (m.get(f"{ITS}locQualityIssueType"), m.get(f"{ITS}locQualityIssueSeverity"),
                m.get(f"{ITS}locQualityIssueEnabled"), m.get(f"{TQ}check"), m.get(f"{TQ}decision"))
            for t, m in marks.items()} == {
        "300": ("numbers", "100", "no", "numbers", "dismissed"),
        "than ": ("whitespace", "10", "no", "spacing", "dismissed"),
    }
    assert marks["300"].get(f"{ITS}locQualityIssueComment") == "“300” is not the source's “3 000”."
    assert "".join(segments["u2", "s1"].find(f"{X2}target").itertext()) == (
        "More than 300 demonstrators gathered on Saturday.")

    # u1/s1 was corrected: its issues go on the whole target through a standoff list in the unit.
    unit1 = next(u for u in root.iter(f"{X2}unit") if u.get("id") == "u1")
    standoff = unit1[0]
    assert standoff.tag == f"{ITS}locQualityIssues"  # module elements first, before originalData
    issues = [dict(i.attrib) for i in standoff]
    assert issues == [
        {"locQualityIssueType": "style", "locQualityIssueSeverity": "10",
         "locQualityIssueComment": "The language model finds “presented” unexpected here."},
        {"locQualityIssueType": "uncategorized", "locQualityIssueSeverity": "50",
         "locQualityIssueComment": "The signals together put this sentence at a 71% chance of a "
                                   "major error; no single span stands out, read it whole."},
    ]
    mark = segments["u1", "s1"].find(f"{X2}target/{X2}mrk")
    assert mark.get(f"{ITS}locQualityIssuesRef") == f"#its={standoff.get(XML_ID)}"
    assert mark.get(f"{TQ}check") == "fluency risk"
    assert mark.find(f"{X2}pc").get("dataRefStart") == "d1"  # the inline code came back

    # u3/s1: a segment-level issue and a span; the confirmed one says so, with its confidence.
    u3_marks = list(segments["u3", "s1"].iter(f"{X2}mrk"))
    by_type = {m.get(f"{ITS}locQualityIssueType"): m for m in u3_marks}
    assert set(by_type) == {"markup", "duplication"}
    assert by_type["duplication"].text == "our special"
    assert by_type["duplication"].get(f"{TQ}decision") == "confirmed"
    assert by_type["markup"].get(f"{TQ}decision") is None
    assert by_type["markup"].get(f"{ITS}locQualityIssueEnabled") is None

    # Still an XLIFF tqcheck reads, with the correction and the states (the reader shows the ITS
    # marks as the paired codes they are).
    out = tmp_path / "feed.reviewed.xlf"
    out.write_bytes(data)
    again = {s.id: s for s in read_segments([out])}
    assert again["u1/s1"].mt == "{2}The government unveiled its {1}draft budget{/1} for 2025 on Tuesday.{/2}"
    assert again["u1/s1"].metadata["xliff"]["state"] == "reviewed"
    assert again["u2/s1"].metadata["xliff"]["state"] == "translated"


XLIFF12 = """<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2">
 <file original="news.html" source-language="fr" target-language="en" datatype="html"><body>
  <trans-unit id="t1">
   <source>Il partait en marche chaque matin.</source>
   <target state="needs-review-translation" state-qualifier="leveraged-mt">He went to the market every morning.</target>
  </trans-unit>
  <trans-unit id="t2">
   <source>Plus de 3 000 manifestants.</source>
   <target state="translated" state-qualifier="leveraged-mt">More than 300 demonstrators.</target>
  </trans-unit>
  <trans-unit id="t3">
   <source>Lisez <g id="1">la suite</g>.</source>
   <target state="translated">Read <g id="1">more</g>.</target>
  </trans-unit>
 </body></file>
</xliff>
"""


def test_xliff12_round_trip_signed_off_and_the_its_mapping_for_1_2(store, tmp_path):
    path = tmp_path / "news.xlf"
    path.write_text(XLIFF12, encoding="utf-8")
    seg = {s.id: s for s in read_segments([path])}
    assert sorted(seg) == ["t1", "t2", "t3"] and seg["t3"].mt == "Read {1}more{/1}."
    t1, t2, t3 = seg["t1"], seg["t2"], seg["t3"]
    items = [
        SegmentResult(t1, (Flag("homograph", Severity.MAJOR, Category.MISTRANSLATION,
                                "“market” may be a misreading (the language model finds it 888 times "
                                "more likely). If the source says “marche”, the engine confused the two",
                                span_of(t1.mt, "market"), confidence=0.8),), risk=0.8),
        SegmentResult(t2, (Flag("numbers", Severity.CRITICAL, Category.MISTRANSLATION,
                                "“300” is not the source's “3 000”", span_of(t2.mt, "300")),), risk=0.9),
        SegmentResult(t3, (Flag("glossary", Severity.MINOR, Category.TERMINOLOGY,
                                "“more” should be “the rest”", span_of(t3.mt, "more")),
                           Flag("capitalization", Severity.MINOR, Category.SPELLING,
                                "“more” is capitalised in the source? no", span_of(t3.mt, "more"))),
                      risk=0.3),
    ]
    rid = store.start_run(signature(), name="news.xlf")
    store.add_results(rid, items)
    r1 = store.find_segment(rid, "t1")
    r1 = workflow.confirm(store, r1, r1.flags[0].id, reviewer="ann")
    workflow.fix(store, r1, "He walked every morning.", reviewer="ann")
    r2 = store.find_segment(rid, "t2")
    workflow.dismiss(store, r2, r2.flags[0].id, reviewer="ann")

    data, summary = export_bytes(store.iter_segments(run_ids=(rid,)), "xliff",
                                 original_xliff=path.read_bytes())
    assert summary == "1 corrected targets, 4 issues on 3 segments"
    root = _its_checks(data)
    units = {u.get("id"): u for u in root.iter(f"{X12}trans-unit")}

    # The corrected target is signed off, and no longer claims to come from MT.
    target1 = units["t1"].find(f"{X12}target")
    assert target1.get("state") == "signed-off" and target1.get("state-qualifier") is None
    assert "".join(target1.itertext()) == "He walked every morning."
    mark = target1.find(f"{X12}mrk")  # the span does not apply to the new text: the whole target
    assert mark.get("mtype") == "x-its" and mark.text == "He walked every morning."
    assert (mark.get(f"{ITS}locQualityIssueType"), mark.get(f"{ITS}locQualityIssueSeverity")) == (
        "mistranslation", "50")
    assert mark.get(f"{ITS}locQualityIssueComment") == "“market” may be a misreading."
    assert (mark.get(f"{TQ}check"), mark.get(f"{TQ}confidence"), mark.get(f"{TQ}decision")) == (
        "homograph", "0.8", "confirmed")

    # Dismissed and not edited: state and qualifier as they were, the issue disabled.
    target2 = units["t2"].find(f"{X12}target")
    assert (target2.get("state"), target2.get("state-qualifier")) == ("translated", "leveraged-mt")
    assert target2.find(f"{X12}mrk").get(f"{ITS}locQualityIssueEnabled") == "no"

    # Two issues on one span: a standoff list, last in the trans-unit (1.2 extension point).
    target3 = units["t3"].find(f"{X12}target")
    assert target3.get("state") == "translated"
    standoff = units["t3"][-1]
    assert standoff.tag == f"{ITS}locQualityIssues"
    assert [i.get("locQualityIssueType") for i in standoff] == ["terminology", "typographical"]
    mark = target3.find(f".//{X12}mrk")
    assert mark.get(f"{ITS}locQualityIssuesRef") == "#" + standoff.get(XML_ID) and mark.text == "more"
    assert target3.find(f"{X12}g").get("id") == "1"

    out = tmp_path / "news.reviewed.xlf"
    out.write_bytes(data)
    assert {s.id: s.mt for s in read_segments([out])}["t1"] == "{1}He walked every morning.{/1}"


def test_a_state_the_files_xliff_version_lacks_is_refused(tmp_path):
    v12 = XLIFF12.encode()
    with pytest.raises(UsageError) as caught:
        write_back(v12, [TargetUpdate("t1", "He walked.")], state="reviewed")
    assert "not an XLIFF 1.2 segment state" in caught.value.message and "signed-off" in caught.value.fix
    data, _ = write_back(v12, [TargetUpdate("t1", "He walked.")], state="x-desk-ok")
    target = next(ET.fromstring(data).iter(f"{X12}target"))
    assert target.get("state") == "x-desk-ok"
    with pytest.raises(UsageError, match="not an XLIFF 2.x segment state"):
        write_back((SAMPLES / "feed.xlf").read_bytes(), [TargetUpdate("u1/s1", "x")], state="signed-off")
    data, _ = write_back((SAMPLES / "feed.xlf").read_bytes(), [TargetUpdate("u1/s1", "x")], state="final")
    assert next(ET.fromstring(data).iter(f"{X2}segment")).get("state") == "final"


def test_fresh_xliff21_states_ids_and_stray_control_characters(store, tmp_path):
    rid, _ = _feed_run(store, tmp_path)
    u1 = store.find_segment(rid, "u1/s1")
    workflow.fix(store, u1, "The government\x0b unveiled its budget.", reviewer="ann")
    data, _ = export_bytes(store.iter_segments(run_ids=(rid,)), "xliff")
    root = _its_checks(data)
    units = {u.get("name"): u for u in root.iter(f"{X2}unit")}
    assert set(units) == {"u1/s1", "u2/s1", "u3/s1"}
    assert [u.get("id") for u in units.values()] == ["u1_s1", "u2_s1", "u3_s1"]  # name tokens
    assert units["u1/s1"].find(f"{X2}segment").get("state") == "reviewed"
    assert units["u2/s1"].find(f"{X2}segment").get("state") is None
    assert "".join(units["u1/s1"].find(f".//{X2}target").itertext()) == (
        "The government\ufffd unveiled its budget.")
