"""A run killed with SIGKILL and resumed ends with the report, summary and corpus metrics of a run
that was never killed (issue 17): the resumed run rebuilds them from the whole checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

N = 3000


def feed(path: Path) -> Path:
    rows = []
    for i in range(N):
        if i % 7 == 0:
            rows.append({"id": f"s{i}", "source": f"Ils sont {i} 000.", "mt": f"There are {i}00.",
                         "reference": f"There are {i},000."})
        else:
            rows.append({"id": f"s{i}", "source": f"Le chat dort, dit-il {i}.", "mt": f"The cat sleeps , he says {i}.",
                         "reference": f"The cat is asleep, he says {i}."})
    path.write_text("".join(json.dumps({**r, "lp": "fr-en"}) + "\n" for r in rows), encoding="utf-8")
    return path


def check(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tqcheck", "check", *args, "--rules-only", "-q",
                             "--batch-size", "64"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except FileNotFoundError:
        return 0


def content(report: Path) -> tuple[list[dict], dict]:
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    return [r for r in records if r["type"] == "result"], records[-1]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("whole")
    source = feed(tmp / "feed.jsonl")
    out = tmp / "whole.jsonl"
    proc = check(str(source), "-o", str(out), "--fail-on", "major", "--calibration", "none")
    proc.communicate(timeout=600)
    assert proc.returncode == 1  # the changed numbers are major flags (declared severity, no calibration)
    return source, content(out)


@pytest.mark.parametrize("kill_after", [150, 1500, 2800])
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path, uninterrupted, kill_after):
    source, (whole_results, whole_summary) = uninterrupted
    out = tmp_path / "r.jsonl"
    partial = Path(str(out) + ".partial")
    proc = check(str(source), "-o", str(out), "--fail-on", "major", "--calibration", "none")
    deadline = time.monotonic() + 300
    while lines(partial) < kill_after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the run finished before the kill point (a very fast machine)")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists() and partial.exists()
    resumed = check(str(source), "-o", str(out), "--fail-on", "major", "--calibration", "none", "--resume")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 1, err  # the gate sees the flags written before the kill
    results, summary = content(out)
    assert [r["segment"]["id"] for r in results] == [r["segment"]["id"] for r in whole_results]
    assert [r["flags"] for r in results] == [r["flags"] for r in whole_results]
    for key in ("segments", "flagged", "by_severity", "by_check", "corpus_metrics"):
        assert summary[key] == whole_summary[key], key


def test_a_resumed_run_continues_its_store_run(tmp_path, uninterrupted):
    """With ``--db``, the killed leg's store run is continued: one finished run holding every segment
    once, in input order, with the summary of the whole run; a decision made on its first part stays."""
    from tqcheck.store import Store

    source, (whole_results, whole_summary) = uninterrupted
    out, db = tmp_path / "r.jsonl", tmp_path / "review.sqlite"
    partial = Path(str(out) + ".partial")
    args = (str(source), "-o", str(out), "--calibration", "none", "--db", str(db))
    proc = check(*args)
    deadline = time.monotonic() + 300
    while lines(partial) < 1500 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the run finished before the kill point (a very fast machine)")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store.open(db) as store:
        (killed,) = store.runs()
        assert killed.finished_at is None and 0 < killed.segment_count < N
        first = next(iter(store.iter_segments(run_ids=[killed.id])))
        flagged = first if first.flags else None
        if flagged is not None:  # a reviewer starts on the part already stored
            store.save_review(flagged.id, reviewer="ana", action="dismiss", based_on_version=flagged.version,
                              flag_id=flagged.flags[0].id)
    resumed = check(*args, "--resume")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    with Store.open(db) as store:
        (run,) = store.runs()
        assert run.id == killed.id and run.finished_at is not None
        assert run.segment_count == N
        stored = list(store.iter_segments(run_ids=[run.id]))
        assert [s.segment.id for s in stored] == [r["segment"]["id"] for r in whole_results]
        assert run.summary is not None and run.summary.segments == whole_summary["segments"]
        if flagged is not None:
            assert store.segment(flagged.id).flags[0].decision is not None
