"""Exports out of the store: CSV, Excel, JSONL, and XLIFF with corrections and ITS LQI annotations."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import openpyxl
import pytest
from review_fixtures import XSS_MT, results, signature, span_of

from tqcheck.errors import InputError
from tqcheck.io import read_segments
from tqcheck.io.xliff_writeback import ITS_NS, QualityIssue, TargetUpdate, write_back
from tqcheck.model import Category, Flag, SegmentResult, Severity, Summary
from tqcheck.review import dashboard, workflow
from tqcheck.review.dashboard import Threshold
from tqcheck.review.export import COLUMNS, THRESHOLD_COLUMN, export_bytes, write_export
from tqcheck.store import Store

ITS = f"{{{ITS_NS}}}"
X2 = "{urn:oasis:names:tc:xliff:document:2.0}"
X12 = "{urn:oasis:names:tc:xliff:document:1.2}"


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "r.sqlite") as s:
        yield s


@pytest.fixture
def reviewed(store):
    """The fixture run with a few decisions: s1 fixed and confirmed, s2 one flag dismissed, s5 fixed."""
    rid = store.start_run(signature(), name="caravan")
    store.add_results(rid, results())
    s1 = store.find_segment(rid, "s1")
    s1 = workflow.confirm(store, s1, s1.flags[0].id, reviewer="ann")
    workflow.fix(store, s1, "He walked every morning.", reviewer="ann", comment="=HYPERLINK(\"x\")")
    s2 = store.find_segment(rid, "s2")
    workflow.dismiss(store, s2, s2.flags[1].id, reviewer="bob")
    s5 = store.find_segment(rid, "s5")
    workflow.fix(store, s5, "=1+1 Click now", reviewer="bob")
    return store


# -- tables -----------------------------------------------------------------------------------------


def test_csv_has_one_row_per_reviewed_segment(reviewed):
    data, summary = export_bytes(reviewed.iter_segments(reviewed_only=True), "csv")
    assert summary == "3 segments"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == COLUMNS
    by_id = {r["segment_id"]: r for r in rows}
    assert set(by_id) == {"s1", "s2", "s5"}
    assert by_id["s1"]["final_target"] == "He walked every morning."
    assert by_id["s1"]["mt"] == "He went to the market every morning."
    assert by_id["s1"]["confirmed_flags"] == "major Accuracy/Mistranslation (roundtrip) 'market'"
    assert (by_id["s2"]["confirmed"], by_id["s2"]["dismissed"], by_id["s2"]["undecided"]) == ("0", "1", "1")
    assert by_id["s2"]["final_target"] == "Send them back in return."
    # Cells that a spreadsheet would run as formulas are neutralised.
    assert by_id["s5"]["final_target"] == "'=1+1 Click now"
    assert by_id["s1"]["comments"] == 'ann: =HYPERLINK("x")'  # mid-cell '=' is harmless


def test_excel_cells_are_strings_never_formulas(reviewed, tmp_path):
    path = tmp_path / "out.xlsx"
    assert write_export(reviewed.iter_segments(), "xlsx", path) == "5 segments"
    sheet = openpyxl.load_workbook(path)["reviewed"]
    header = [c.value for c in sheet[1]]
    assert header == COLUMNS
    rows = {r[1]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["s5"]["final_target"] == "=1+1 Click now"
    cell = next(c for c in sheet["I"] if c.value == "=1+1 Click now")
    assert cell.data_type == "s"
    assert rows["s5"]["mt"] == XSS_MT and rows["s4"]["status"] == "unreviewed"


def test_jsonl_keeps_the_whole_record_and_the_log(reviewed, tmp_path):
    path = tmp_path / "out.jsonl"
    write_export(reviewed.iter_segments(reviewed_only=True), "jsonl", path)
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    s1 = next(d for d in docs if d["segment"]["id"] == "s1")
    assert SegmentResult.from_dict(s1).to_dict() == results()[0].to_dict()
    assert s1["review"]["final_target"] == "He walked every morning."
    assert [e["action"] for e in s1["review"]["log"]] == ["confirm", "fix"]
    assert s1["review"]["flag_decisions"][0]["decision"] == "confirmed"
    assert not path.with_name(".out.jsonl.tmp").exists()


def test_thresholds_go_into_tables_jsonl_and_a_sheet(reviewed, tmp_path):
    # The run: five segments, four with a major or worse flag (80 per 100), one critical (20).
    dashboard.save_thresholds(reviewed, [Threshold("major_per_100", 5.0),
                                         Threshold("critical_per_100", 25.0)], by="lead")
    rates = dashboard.rates(reviewed)
    data, _ = export_bytes(reviewed.iter_segments(reviewed_only=True), "csv", rates=rates)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == [*COLUMNS, THRESHOLD_COLUMN]
    assert {r[THRESHOLD_COLUMN] for r in rows} == {
        "major_per_100 80.0 > 5 (over); critical_per_100 20.0 <= 25 (under)"}
    data, _ = export_bytes(reviewed.iter_segments(reviewed_only=True), "jsonl", rates=rates)
    doc = json.loads(data.decode().splitlines()[0])
    assert [(v["metric"], v["status"], v["limit"], v["segments"]) for v in doc[THRESHOLD_COLUMN]] == [
        ("major_per_100", "over", 5.0, 5), ("critical_per_100", "under", 25.0, 5)]
    assert doc[THRESHOLD_COLUMN][0]["low"] == pytest.approx(37.553, abs=1e-3)
    path = tmp_path / "out.xlsx"
    write_export(reviewed.iter_segments(), "xlsx", path,
                 rates=[*rates, *dashboard.rates(reviewed, level="feed")])
    book = openpyxl.load_workbook(path)
    sheet = list(book["thresholds"].iter_rows(values_only=True))
    assert sheet[0][:5] == ("level", "run_id", "feed", "lang_pair", "metric")
    assert [(r[0], r[4], r[-1]) for r in sheet[1:]] == [
        ("run", "major_per_100", "over"), ("run", "critical_per_100", "under"),
        ("feed", "major_per_100", "over"), ("feed", "critical_per_100", "under")]
    # No threshold set, no column: the files stay as they were.
    data, _ = export_bytes(reviewed.iter_segments(reviewed_only=True), "csv",
                           rates=dashboard.rates(reviewed, limits=()))
    assert list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))[0].keys() == set(COLUMNS)


# -- XLIFF ------------------------------------------------------------------------------------------

XLIFF2 = """<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a CAT tool -->
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" xmlns:mtc="urn:oasis:names:tc:xliff:matches:2.0"
       version="2.0" srcLang="fr" trgLang="en">
  <file id="f1" original="caravan.html">
    <unit id="u1">
      <notes><note>keep the tone</note></notes>
      <segment id="s1">
        <source>Il partait en <pc id="1">marche</pc> chaque matin.</source>
        <target>He went to the <pc id="1">market</pc> every morning.</target>
      </segment>
    </unit>
    <unit id="u2">
      <segment id="s1"><source>Leur renvoient-ils en retour ?</source><target>Send them back in return.</target></segment>
    </unit>
    <unit id="u3">
      <segment id="s1"><source>Suivez @LaurentRaphael1.</source><target>Follow @ LaurentRaphael1.</target></segment>
    </unit>
  </file>
</xliff>
"""  # noqa: E501 - an XLIFF document as a tool writes it


def _xliff_run(store: Store, tmp_path, text: str = XLIFF2, name: str = "job.xlf"):
    """Read the XLIFF with the real reader, flag it the way checks would, store it."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    segments = {s.id: s for s in read_segments([path])}
    u1, u2, u3 = (segments[k] for k in sorted(segments))
    items = [
        SegmentResult(u1, (Flag("roundtrip", Severity.MAJOR, Category.MISTRANSLATION, "'market' <> 'marche'",
                                span_of(u1.mt, "market")),
                           Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "odd rhythm")), risk=0.8),
        SegmentResult(u2, (Flag("forced_decoding", Severity.CRITICAL, Category.MISTRANSLATION, "unlikely",
                                span_of(u2.mt, "Send them back")),
                           Flag("punctuation", Severity.MINOR, Category.PUNCTUATION, "? lost",
                                span_of(u2.mt, "."))), risk=0.9),
        SegmentResult(u3, (Flag("handles", Severity.MAJOR, Category.LOCALE_CONVENTION, "space in handle",
                                span_of(u3.mt, "@ LaurentRaphael1")),), risk=0.6),
    ]
    rid = store.start_run(signature(), name=name)
    store.add_results(rid, items)
    store.finish_run(rid, Summary.of(items))
    store.attach_file(rid, name, path.read_bytes(), format="xliff")
    return rid, path, segments


def test_reader_ids_and_placeholders_are_what_write_back_uses(store, tmp_path):
    _, _, segments = _xliff_run(store, tmp_path)
    assert sorted(segments) == ["u1/s1", "u2/s1", "u3/s1"]
    assert segments["u1/s1"].mt == "He went to the {1}market{/1} every morning."


def test_write_back_corrections_and_its_issues_into_xliff2(store, tmp_path):
    rid, path, _ = _xliff_run(store, tmp_path)
    u1 = store.find_segment(rid, "u1/s1")
    u1 = workflow.confirm(store, u1, u1.flags[0].id, reviewer="ann")
    workflow.fix(store, u1, "He walked {1}every{/1} morning.", reviewer="ann")
    u2 = store.find_segment(rid, "u2/s1")
    workflow.dismiss(store, u2, u2.flags[1].id, reviewer="ann")

    data, summary = export_bytes(store.iter_segments(run_ids=(rid,)), "xliff",
                                 original_xliff=path.read_bytes(), state="reviewed")
    assert summary == "1 corrected targets, 5 issues on 3 segments"
    root = ET.fromstring(data)
    assert root.get(f"{ITS}version") == "2.0"
    units = {u.get("id"): u for u in root.iter(f"{X2}unit")}

    # u1: the correction, its inline <pc> rebuilt from the placeholders; the MT-span flag cannot
    # point into a corrected text, so both issues are attached to the whole target.
    segment = units["u1"].find(f"{X2}segment")
    assert segment.get("state") == "reviewed"
    target = segment.find(f"{X2}target")
    assert "".join(target.itertext()) == "He walked every morning."
    assert target.find(f".//{X2}pc").get("id") == "1"
    whole = target.find(f"{X2}mrk")
    standoff = units["u1"].find(f"{ITS}locQualityIssues")
    assert whole.get("type") == "its:generic"
    assert whole.get(f"{ITS}locQualityIssuesRef") == f"#its={standoff.get('{http://www.w3.org/XML/1998/namespace}id')}"
    issues = standoff.findall(f"{ITS}locQualityIssue")
    assert [(i.get("locQualityIssueType"), i.get("locQualityIssueSeverity")) for i in issues] == [
        ("mistranslation", "50"), ("style", "10")]
    assert issues[0].get("locQualityIssueComment") == "'market' <> 'marche'."  # see test_xliff_its.py
    assert whole.get("{urn:tqcheck:xliff:1}check") == "roundtrip fluency"
    assert units["u1"].find(f"{X2}notes/{X2}note").text == "keep the tone"  # the rest is kept

    # u2: uncorrected, so each issue marks its own span; the dismissed one is disabled.
    target = units["u2"].find(f"{X2}segment/{X2}target")
    marks = {m.text: m for m in target.iter(f"{X2}mrk")}
    assert set(marks) == {"Send them back", "."}
    assert marks["Send them back"].get(f"{ITS}locQualityIssueType") == "mistranslation"
    assert marks["Send them back"].get(f"{ITS}locQualityIssueSeverity") == "100"
    assert marks["."].get(f"{ITS}locQualityIssueEnabled") == "no"
    assert "".join(target.itertext()) == "Send them back in return."
    assert units["u2"].find(f"{X2}segment").get("state") is None  # not corrected: state untouched

    # The written file reads back with the correction (and the marks are only annotations).
    out = tmp_path / "job.reviewed.xlf"
    out.write_bytes(data)
    again = {s.id: s for s in read_segments([out])}
    assert again["u1/s1"].source == "Il partait en {1}marche{/1} chaque matin."
    assert "walked" in again["u1/s1"].mt and "every" in again["u1/s1"].mt


def test_write_back_into_xliff12_uses_the_its_mapping_for_1_2(store, tmp_path):
    text = """<?xml version="1.0"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2">
 <file original="a.txt" source-language="fr" target-language="en" datatype="plaintext"><body>
  <trans-unit id="1"><source>Il partait en marche.</source><target>He went to the market.</target><note>n</note></trans-unit>
  <trans-unit id="2"><source>Oui</source></trans-unit>
 </body></file></xliff>"""  # noqa: E501 - an XLIFF document as a tool writes it
    path = tmp_path / "old.xlf"
    path.write_text(text, encoding="utf-8")
    segments = {s.id: s for s in read_segments([path])}
    assert sorted(segments) == ["1", "2"] and segments["2"].mt == ""
    updates = [TargetUpdate("1", None, (QualityIssue("mistranslation", "market", 50, 15, 21),
                                         QualityIssue("terminology", "term", 10, 15, 21)), segments["1"].mt),
               TargetUpdate("2", "Yes", (), "")]
    data, report = write_back(path.read_bytes(), updates, state="signed-off")
    assert (report.targets_written, report.issues_written, report.unmatched) == (1, 2, [])
    root = ET.fromstring(data)
    unit1, unit2 = root.iter(f"{X12}trans-unit")
    mark = unit1.find(f"{X12}target/{X12}mrk")
    assert mark.get("mtype") == "x-its" and mark.text == "market"
    standoff = unit1.find(f"{ITS}locQualityIssues")  # after <note>: extensions come last in 1.2
    assert list(unit1).index(standoff) == len(unit1) - 1
    assert mark.get(f"{ITS}locQualityIssuesRef") == "#" + standoff.get("{http://www.w3.org/XML/1998/namespace}id")
    assert unit2.find(f"{X12}target").text == "Yes" and unit2.find(f"{X12}target").get("state") == "signed-off"


def test_a_span_crossing_an_inline_tag_marks_the_whole_target(tmp_path):
    path = tmp_path / "t.xlf"
    path.write_text(XLIFF2, encoding="utf-8")
    mt = next(s.mt for s in read_segments([path]) if s.id == "u1/s1")  # "... the {1}market{/1} every ..."
    start = mt.index("the {1}ma")
    data, _ = write_back(path.read_bytes(), [
        TargetUpdate("u1/s1", None, (QualityIssue("other", "crosses", 10, start, start + 9),), mt)])
    target = next(u for u in ET.fromstring(data).iter(f"{X2}unit") if u.get("id") == "u1").find(
        f"{X2}segment/{X2}target")
    outer = list(target)
    assert len(outer) == 1 and outer[0].tag == f"{X2}mrk" and outer[0].get(f"{ITS}locQualityIssueComment") == "crosses"
    assert "".join(target.itertext()) == "He went to the market every morning."


def test_unknown_ids_are_reported_not_guessed(tmp_path):
    _, report = write_back(XLIFF2.encode(), [TargetUpdate("u9/s1", "x"), TargetUpdate("u1", "y")])
    assert report.unmatched == ["u9/s1", "u1"] and report.targets_written == 0


def test_unsafe_or_foreign_xml_is_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><xliff>&b;</xliff>'
    with pytest.raises(InputError, match="entit"):
        write_back(bomb, [])
    with pytest.raises(InputError, match="not an XLIFF document"):
        write_back(b"<html/>", [])
    with pytest.raises(InputError, match="well-formed"):
        write_back(b"<xliff", [])


def test_run_without_a_file_exports_a_fresh_xliff21(reviewed):
    data, _ = export_bytes(reviewed.iter_segments(), "xliff")
    root = ET.fromstring(data)
    assert root.get("version") == "2.1" and root.get("srcLang") == "fr" and root.get("trgLang") == "en"
    units = {u.get("id"): u for u in root.iter(f"{X2}unit")}
    assert list(units) == ["s1", "s2", "s3", "s4", "s5"]
    s5 = units["s5"].find(f"{X2}segment")
    assert s5.find(f"{X2}source").text == 'Cliquez <script>alert("x")</script> maintenant'  # text, escaped
    assert "".join(s5.find(f"{X2}target").itertext()) == "=1+1 Click now"
    s3_marks = {m.text: m.get(f"{ITS}locQualityIssueType") for m in units["s3"].iter(f"{X2}mrk")}
    assert s3_marks["@ LaurentRaphael1"] == "locale-violation" and s3_marks["3,000"] == "locale-violation"
    assert units["s1"].find(f"{X2}notes/{X2}note").text == 'ann: =HYPERLINK("x")'
    assert b"<script>" not in data
