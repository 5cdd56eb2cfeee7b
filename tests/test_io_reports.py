"""Report writers: JSONL lossless and resumable, flat CSV/Parquet, escaped HTML, atomic writes."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tqcheck.errors import UsageError
from tqcheck.io.reports import completed_ids, open_report, partial_path, read_report, summary_text
from tqcheck.model import (
    Category,
    EngineInfo,
    Flag,
    RunSignature,
    Segment,
    SegmentResult,
    Severity,
    Side,
    Span,
    Summary,
)

SIGNATURE = RunSignature(
    tqcheck_version="0.1.0",
    config_hash="c0ffee123456",
    engines=(EngineInfo("back_translator", "apertium", "fr-es-en", None, "3.9"),),
    versions={"sacrebleu": "2.4.3"},
    language_pairs=("fr-en",),
    metric_signatures={"chrf": "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.3"},
    created_at="2025-03-12T10:00:00+00:00",
)

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"


def results() -> list[SegmentResult]:
    plain = Segment("n01", "The government presented its budget.", "Le gouvernement a présenté son budget.",
                    "fr", "en", origin="feed.csv:2")
    bad_mt = f"More than 300 people {XSS_SCRIPT} came"
    flagged = Segment("n02", bad_mt, "Plus de 3 000 personnes sont venues.", "fr", "en",
                      reference="More than 3,000 people came.", doc_id="d<1>", origin="feed.csv:3",
                      metadata={"fields": {"engine": "e1"}, "nested": [1, {"a": None}]})
    flags = (
        Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "3 000 became 300", Span(10, 13),
             {"source_number": "3 000", "mt_number": "300"}, 0.9),
        Flag("tags", Severity.CRITICAL, Category.MARKUP, f"markup in text: {XSS_IMG}", Span(21, 46),
             {"evidence": XSS_SCRIPT}),
        Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "surprising tokens", Span(5, 26)),
        Flag("omission", Severity.MAJOR, Category.OMISSION, "source words missing", Span(0, 8, Side.SOURCE)),
        Flag("length", Severity.MINOR, Category.OTHER, "segment-level finding"),
    )
    scored = SegmentResult(flagged, flags, {"roundtrip.chrf": 41.5, "fluency.z": -2.25},
                           {"back_translation": f"More than 300 people {XSS_IMG}", "pseudo_reference": "P&R"}, 0.93)
    return [SegmentResult(plain, (), {"roundtrip.chrf": 88.0}, {}, 0.04), scored,
            SegmentResult(Segment("n03", "", None, None, "en"), (), {}, {}, None)]


def write_all(path, fmt=None, items=None):
    with open_report(path, format=fmt, signature=SIGNATURE) as writer:
        for result in items or results():
            writer.write(result)


# --------------------------------------------------------------------------------------------- JSONL


def test_jsonl_round_trip_is_lossless(tmp_path):
    path = tmp_path / "r.jsonl"
    items = results()
    summary = Summary.of(items, skipped_records=2, corpus_metrics={"chrf": 61.2})
    writer = open_report(path, signature=SIGNATURE)
    for result in items:
        writer.write(result)
    writer.close(summary)
    signature, back, read_summary = read_report(path)
    back = list(back)
    assert signature == SIGNATURE and signature.to_dict() == SIGNATURE.to_dict()
    assert [r.to_dict() for r in back] == [r.to_dict() for r in items]
    assert back == items
    assert read_summary.to_dict() == summary.to_dict()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["signature", "result", "result", "result", "summary"]
    assert not partial_path(path).exists()


def test_context_manager_closes_with_counted_summary(tmp_path):
    path = tmp_path / "r.jsonl"
    write_all(path)
    _, _, summary = read_report(path)
    assert (summary.segments, summary.flagged) == (3, 1)
    assert summary.by_severity == {"major": 2, "critical": 1, "minor": 2}


def test_abort_leaves_only_the_partial(tmp_path):
    path = tmp_path / "r.jsonl"
    with pytest.raises(RuntimeError):
        with open_report(path, signature=SIGNATURE) as writer:
            writer.write(results()[0])
            raise RuntimeError("engine crashed")
    assert not path.exists()
    assert partial_path(path).exists()
    assert completed_ids(path) == {"n01"}
    signature, back, summary = read_report(path)  # a running/aborted report reads as partial
    assert signature == SIGNATURE and summary is None and [r.segment.id for r in back] == ["n01"]


KILLED_WRITER = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from test_io_reports import SIGNATURE, results
from tqcheck.io.reports import open_report
writer = open_report({path!r}, signature=SIGNATURE)
for r in results()[:2]:
    writer.write(r)
writer._fh.write('{{"type": "result", "segment": {{"id": "half')  # a line cut by the kill
writer._fh.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_killed_writer_leaves_a_partial_that_resumes(tmp_path):
    path = tmp_path / "run.jsonl"
    tests = str(Path(__file__).resolve().parent)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(KILLED_WRITER.format(tests=tests, path=str(path)))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    assert not path.exists() and partial_path(path).exists()
    assert completed_ids(path) == {"n01", "n02"}

    items = results()
    with open_report(path, signature=SIGNATURE, resume=True) as writer:
        for result in items:
            if result.segment.id not in completed_ids(path):
                writer.write(result)
    _, back, summary = read_report(path)
    assert [r.to_dict() for r in back] == [r.to_dict() for r in items]
    assert summary.segments == 3 and summary.flagged == 1  # earlier results are counted too
    assert not partial_path(path).exists()


def test_resume_refuses_another_configuration(tmp_path):
    path = tmp_path / "r.jsonl"
    writer = open_report(path, signature=SIGNATURE)
    writer.write(results()[0])
    writer.abort()
    other = RunSignature("0.1.0", "another-hash")
    with pytest.raises(UsageError, match="another configuration"):
        open_report(path, signature=other, resume=True)
    assert completed_ids(path) == {"n01"}  # the checkpoint is untouched


def test_resume_without_partial_starts_fresh_and_completed_ids_is_empty(tmp_path):
    path = tmp_path / "fresh.jsonl"
    assert completed_ids(path) == set()
    write_all(path)
    assert completed_ids(path) == set()  # finished: nothing to resume
    with open_report(path, signature=SIGNATURE, resume=True) as writer:
        writer.write(results()[0])
    assert [r.segment.id for r in read_report(path)[1]] == ["n01"]


def test_stdout_writer(capsys):
    with open_report("-", signature=SIGNATURE) as writer:
        writer.write(results()[0])
    kinds = [json.loads(line)["type"] for line in capsys.readouterr().out.splitlines()]
    assert kinds == ["signature", "result", "summary"]


def test_numpy_scores_are_written_as_numbers(tmp_path):
    import numpy as np

    path = tmp_path / "np.jsonl"
    seg = Segment("1", "x")
    write_all(path, items=[SegmentResult(seg, (), {"a": np.float32(0.5), "b": np.int64(3)}, {}, np.float64(0.25))])
    [back] = list(read_report(path)[1])
    assert dict(back.scores) == {"a": 0.5, "b": 3} and back.risk == 0.25


# ------------------------------------------------------------------------------------- CSV, Parquet


def test_csv_has_one_row_per_segment_with_the_feeds_columns_and_flags_as_json(tmp_path):
    path = tmp_path / "r.csv"
    write_all(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == ["engine", "id", "doc_id", "origin", "source_lang", "target_lang", "source", "mt",
                             "reference", "risk", "priority", "worst_severity", "n_flags", "n_hints", "flags",
                             "score.fluency.z", "score.roundtrip.chrf"]
    assert [r["id"] for r in rows] == ["n01", "n02", "n03"]
    assert rows[1]["engine"] == "e1" and rows[0]["engine"] == ""  # the feed's own column, kept
    flags = json.loads(rows[1]["flags"])
    assert [f["check"] for f in flags] == ["numbers", "tags", "fluency", "omission", "length"]
    assert rows[1]["n_flags"] == "5" and rows[1]["worst_severity"] == "critical"
    assert rows[0]["flags"] == "[]" and rows[0]["score.roundtrip.chrf"] == "88.0" and rows[0]["score.fluency.z"] == ""


def test_csv_report_has_its_signature_and_summary_beside_it(tmp_path):
    from tqcheck.io.reports import meta_path

    path = tmp_path / "r.csv"
    final = RunSignature(**{**SIGNATURE.to_dict(), "engines": [], "calibration": "cal-x"})
    writer = open_report(path, signature=SIGNATURE)
    writer.write(results()[0])
    writer.close(Summary(segments=1), signature=RunSignature.from_dict(final.to_dict()))
    meta = json.loads(meta_path(path).read_text())
    assert meta["signature"]["calibration"] == "cal-x" and meta["summary"]["segments"] == 1


def test_parquet_has_the_same_rows_with_types_and_the_signature_in_its_metadata(tmp_path):
    import pandas as pd

    from tqcheck.io.reports import read_parquet_meta

    path = tmp_path / "r.parquet"
    write_all(path)
    frame = pd.read_parquet(path)
    assert frame["id"].tolist() == ["n01", "n02", "n03"]
    assert str(frame["n_flags"].dtype) == "Int64" and frame["n_flags"].tolist() == [0, 5, 0]
    assert frame["score.roundtrip.chrf"].iloc[0] == 88.0 and math.isnan(frame["risk"].iloc[2])
    assert json.loads(frame["flags"].iloc[1])[0]["span"] == {"start": 10, "end": 13, "side": "mt"}
    signature, summary = read_parquet_meta(path)
    assert signature == SIGNATURE and summary.segments == 3


def test_the_final_signature_replaces_the_first_line_of_a_jsonl_report(tmp_path):
    path = tmp_path / "r.jsonl"
    early = RunSignature(**{**SIGNATURE.to_dict(), "engines": ()})
    final = SIGNATURE
    writer = open_report(path, signature=early)
    writer.write(results()[0])
    writer.close(None, signature=final)
    first = json.loads(path.read_text().splitlines()[0])
    assert first["type"] == "signature" and first["engines"][0]["name"] == "apertium"
    assert read_report(path)[0] == final and [r.segment.id for r in read_report(path)[1]] == ["n01"]


def test_hints_stay_in_jsonl_and_out_of_the_other_reports_unless_asked(tmp_path):
    seg = Segment("h1", "The cat sat.", "Le chat.", "fr", "en")
    hint = Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "odd word", Span(4, 7), p_error=0.1, p_major=0.01,
                hint=True)
    shown = Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "number", Span(8, 11), p_error=0.8, p_major=0.5)
    items = [SegmentResult(seg, (hint, shown), {}, {}, 0.2)]
    write_all(tmp_path / "r.jsonl", items=items)
    assert [f.hint for f in next(iter(read_report(tmp_path / "r.jsonl")[1])).flags] == [True, False]
    write_all(tmp_path / "r.csv", items=items)
    row = next(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert [f["check"] for f in json.loads(row["flags"])] == ["numbers"] and row["n_hints"] == "1"
    with open_report(tmp_path / "all.csv", signature=SIGNATURE, hints=True) as writer:
        writer.write(items[0])
    row = next(csv.DictReader((tmp_path / "all.csv").open(encoding="utf-8")))
    assert [f["check"] for f in json.loads(row["flags"])] == ["fluency", "numbers"]
    write_all(tmp_path / "r.html", items=items)
    page = (tmp_path / "r.html").read_text()
    assert "odd word" not in page and "1 hint(s) not shown" in page
    assert "right 80% of the time, a major error 50%" in page


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".html"])
def test_aborted_buffered_writers_leave_nothing(tmp_path, suffix):
    path = tmp_path / f"r{suffix}"
    with pytest.raises(KeyboardInterrupt):
        with open_report(path, signature=SIGNATURE) as writer:
            writer.write(results()[1])
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_report_format_errors(tmp_path):
    with pytest.raises(UsageError, match="report format"):
        open_report(tmp_path / "r.docx", signature=SIGNATURE)
    with pytest.raises(UsageError, match="only JSONL"):
        open_report(tmp_path / "r.csv", signature=SIGNATURE, resume=True)


# ---------------------------------------------------------------------------------------------- HTML


def test_html_escapes_everything_and_has_no_script(tmp_path):
    path = tmp_path / "r.html"
    write_all(path)
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "d&lt;1&gt;" in page and "P&amp;R" in page  # doc id and artifacts escaped too
    assert "default-src 'none'" in page  # scripts could not run even if something slipped through
    assert "http://" not in page and "https://" not in page  # self-contained


def test_html_puts_flagged_segments_first_and_marks_spans(tmp_path):
    path = tmp_path / "r.html"
    write_all(path)
    page = path.read_text(encoding="utf-8")
    assert page.index("<h3>n02</h3>") < page.index("Without flags")
    assert ('<mark class="sev-major multi" title="major: 3 000 became 300\n\nminor: surprising tokens">300</mark>'
            in page)
    assert 'class="sev-critical multi"' in page  # the tag span overlaps the fluency span
    assert "Back-translation" in page and "Pseudo-reference" in page
    assert "c0ffee123456" in page and "apertium" in page
    assert page.count("<mark") == page.count("</mark>")


def test_overlapping_spans_render_without_crossed_tags():
    from tqcheck.io.markup import highlight, marks_of

    seg_text = "abcdefghij"
    flags = [Flag("a", Severity.MINOR, Category.OTHER, "first", Span(1, 6)),
             Flag("b", Severity.CRITICAL, Category.OTHER, "second", Span(4, 9)),
             Flag("c", Severity.MAJOR, Category.OMISSION, "gap", Span(9, 9))]
    html_text = highlight(seg_text, marks_of(flags, Side.MT))
    assert html_text == ('a<mark class="sev-minor" title="minor: first">bcd</mark>'
                         '<mark class="sev-critical multi" title="minor: first\n\ncritical: second">ef</mark>'
                         '<mark class="sev-critical" title="critical: second">ghi</mark>'
                         '<mark class="sev-major gap" title="major: gap">\u2038</mark>j')


def test_spans_out_of_range_are_clamped():
    from tqcheck.io.markup import highlight, marks_of

    flag = Flag("a", Severity.MINOR, Category.OTHER, "too far", Span(3, 99))
    expected = 'abc<mark class="sev-minor" title="minor: too far">de</mark>'
    assert highlight("abcde", marks_of([flag], Side.MT)) == expected


# ------------------------------------------------------------------------------------- terminal


def test_summary_text():
    summary = Summary.of(results(), skipped_records=1)
    text = summary_text(summary)
    assert text.splitlines()[0] == "segments: 3   flagged: 1 (33.3%)   skipped records: 1"
    assert "by severity: critical 1, major 2, minor 2" in text
    assert "by check: fluency 1, length 1, numbers 1, omission 1, tags 1" in text
    assert summary_text(Summary()) == "segments: 0   flagged: 0"
