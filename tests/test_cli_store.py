"""``tqcheck import``, ``tqcheck export`` and ``tqcheck review`` as a user meets them."""

from __future__ import annotations

import csv
import json
import sqlite3
import xml.etree.ElementTree as ET

import pytest
from review_fixtures import results, write_report

from tqcheck.cli import main
from tqcheck.cli.review import app_path, streamlit_command
from tqcheck.review import workflow
from tqcheck.store import Store


def tq(capsys, *args: str) -> tuple[int, str]:
    """Run the CLI in-process; the exit code and stderr."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.fixture
def report(tmp_path):
    return write_report(tmp_path / "caravan.jsonl")


def test_import_then_export_csv(capsys, tmp_path, report):
    db = tmp_path / "r.sqlite"
    code, err = tq(capsys, "import", str(report), "--db", str(db))
    assert code == 0
    assert "imported" in err and "run 1: 5 segments, 4 flagged" in err and str(db) in err
    with Store.open(db) as store:
        s2 = store.find_segment(1, "s2")
        workflow.confirm(store, s2, s2.flags[0].id, reviewer="ann")
    out = tmp_path / "reviewed.csv"
    code, err = tq(capsys, "export", "--db", str(db), "-o", str(out))
    assert code == 0 and "exported 1 segments" in err
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [(r["segment_id"], r["confirmed"]) for r in rows] == [("s2", "1")]
    code, _ = tq(capsys, "export", "--db", str(db), "-o", str(out), "--segments", "all")
    assert code == 0 and len(list(csv.DictReader(out.open(encoding="utf-8-sig")))) == 5


def test_import_reads_tqcheck_db_from_the_environment(capsys, tmp_path, report, monkeypatch):
    monkeypatch.setenv("TQCHECK_DB", str(tmp_path / "env.sqlite"))
    code, _ = tq(capsys, "import", str(report), "--name", "caravan", "--feed", "news")
    assert code == 0
    with Store.open(tmp_path / "env.sqlite") as store:
        run = store.runs()[0]
        assert (run.name, run.feed, run.segment_count) == ("caravan", "news", 5)


def test_import_errors_name_the_file(capsys, tmp_path):
    code, err = tq(capsys, "import", str(tmp_path / "missing.jsonl"), "--db", str(tmp_path / "r.sqlite"))
    assert code == 2 and "missing.jsonl" in err and "no such report" in err
    bare = tmp_path / "bare.jsonl"
    bare.write_text(json.dumps({"type": "result", **results()[0].to_dict()}) + "\n", encoding="utf-8")
    code, err = tq(capsys, "import", str(bare), "--db", str(tmp_path / "r.sqlite"))
    assert code == 2 and "bare.jsonl:1" in err and "no signature line" in err


def test_import_into_a_store_of_another_version_says_how_to_fix(capsys, tmp_path, report):
    db = tmp_path / "r.sqlite"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tq_meta SET value='7' WHERE key='schema_version'")
    code, err = tq(capsys, "import", str(report), "--db", str(db))
    assert code == 2 and "schema version 7" in err and "upgrade tqcheck" in err


def test_export_usage_errors(capsys, tmp_path, report):
    db = tmp_path / "r.sqlite"
    code, err = tq(capsys, "export", "--db", str(db), "-o", str(tmp_path / "x.csv"))
    assert code == 2 and "no review store here" in err
    tq(capsys, "import", str(report), "--db", str(db))
    code, err = tq(capsys, "export", "--db", str(db), "-o", str(tmp_path / "x.doc"))
    assert code == 2 and "cannot tell the export format" in err
    code, err = tq(capsys, "export", "--db", str(db), "--run", "9", "-o", str(tmp_path / "x.csv"))
    assert code == 2 and "no run 9" in err and "runs: 1" in err


def test_export_reports_the_thresholds(capsys, tmp_path, report):
    from tqcheck.review.dashboard import Threshold, save_thresholds

    db = tmp_path / "r.sqlite"
    tq(capsys, "import", str(report), "--db", str(db), "--feed", "<script>alert(1)</script>")
    with Store.open(db) as store:
        save_thresholds(store, [Threshold("major_per_100", 5.0)], by="lead")
    out = tmp_path / "all.csv"
    code, err = tq(capsys, "export", "--db", str(db), "-o", str(out), "--segments", "all")
    assert code == 0
    lines = [line for line in err.splitlines() if "threshold:" in line]
    assert lines == [
        "tqcheck: threshold: run 1, fr-en: major_per_100 80.0 (95% CI 37.6-96.4, n=5) > 5: over",
        "tqcheck: threshold: feed <script>alert(1)</script>, fr-en: major_per_100 80.0 (95% CI 37.6-96.4, "
        "n=5) > 5: over"]
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert {r["run_thresholds"] for r in rows} == {"major_per_100 80.0 > 5 (over)"}
    code, err = tq(capsys, "export", "--db", str(db), "-o", str(tmp_path / "x.xlf"))
    assert code == 0 and "> 5: over" in err


def test_export_help_says_where_the_thresholds_go(capsys):
    try:
        main(["export", "--help"])
    except SystemExit as exc:
        assert not exc.code
    text = " ".join(capsys.readouterr().out.split())
    assert "run_thresholds column" in text and "thresholds sheet" in text


def test_export_xliff_writes_back_into_the_stored_file(capsys, tmp_path):
    from test_review_export import _xliff_run

    db = tmp_path / "r.sqlite"
    with Store.open(db) as store:
        rid, _, _ = _xliff_run(store, tmp_path)
        u3 = store.find_segment(rid, "u3/s1")
        workflow.fix(store, u3, "Follow @LaurentRaphael1.", reviewer="ann")
    out = tmp_path / "job.reviewed.xlf"
    code, err = tq(capsys, "export", "--db", str(db), "--run", str(rid), "-o", str(out), "--state", "reviewed")
    assert code == 0 and "writing back into job.xlf" in err and "1 corrected targets" in err
    root = ET.parse(out).getroot()
    ns = "{urn:oasis:names:tc:xliff:document:2.0}"
    u3_el = next(u for u in root.iter(f"{ns}unit") if u.get("id") == "u3")
    assert "".join(u3_el.find(f"{ns}segment/{ns}target").itertext()) == "Follow @LaurentRaphael1."
    assert u3_el.find(f"{ns}notes") is None and root.find(f".//{ns}note").text == "keep the tone"
    code, err = tq(capsys, "export", "--db", str(db), "-o", str(tmp_path / "x.xlf"), "--no-its")
    assert code == 0
    assert b"locQualityIssue" not in (tmp_path / "x.xlf").read_bytes()


def test_review_command_launches_the_packaged_app(tmp_path):
    assert app_path().is_file() and app_path().parent.name == "ui"
    command = streamlit_command(port=8765, address="localhost", headless=True, max_upload_mb=20)
    assert command[1:5] == ["-m", "streamlit", "run", str(app_path())]
    assert command[command.index("--server.port") + 1] == "8765"
    assert command[command.index("--server.maxUploadSize") + 1] == "20"
    assert command[command.index("--server.headless") + 1] == "true"


def test_review_refuses_a_broken_store_before_starting_the_server(capsys, tmp_path):
    db = tmp_path / "r.sqlite"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tq_meta SET value='99' WHERE key='schema_version'")
    code, err = tq(capsys, "review", "--db", str(db), "--headless")
    assert code == 2 and "schema version 99" in err
