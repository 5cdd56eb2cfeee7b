"""The review store on PostgreSQL: the same store, through a SQLAlchemy URL.

A throwaway PostgreSQL server is started for this module (Debian's postgresql package, run as the
``postgres`` user when the tests run as root) on a Unix socket in a temporary folder. Skipped, with
the reason, where there is no PostgreSQL server binary or no psycopg driver.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from review_fixtures import results, signature

from tqcheck.errors import StoreError
from tqcheck.model import Summary
from tqcheck.review import dashboard, workflow
from tqcheck.store import (
    SCHEMA_VERSION,
    Decision,
    QueueFilter,
    ReviewStatus,
    SegmentConflict,
    Store,
)

_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not _BINS, reason="no PostgreSQL server binaries (apt-get install postgresql)")]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def pg_url():
    pytest.importorskip("psycopg", reason="needs the psycopg driver (pip install 'psycopg[binary]')")
    bin_dir = _BINS[-1].parent
    base = Path(tempfile.mkdtemp(prefix="tqcheck-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "tq", "--auth=trust",
                                 "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w",
                                 "-o", f"-k {base} -p {port} -c listen_addresses=''", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://tq@/postgres?host={base}&port={port}"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, check=False)  # best effort: the folder goes anyway
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def store(pg_url):
    with Store.open(pg_url) as s:
        for run in s.runs():
            s.delete_run(run.id)
        rid = s.start_run(signature(), name="caravan", feed="caravan.xlf")
        s.add_results(rid, results())
        s.finish_run(rid, Summary.of(results()))
        yield s


def test_runs_round_trip(store):
    run = store.runs()[0]
    assert (run.segment_count, run.flagged_count, run.engines) == (5, 4, "back_translator=apertium")
    originals = {r.segment.id: r.to_dict() for r in results()}
    for record in store.iter_segments(run_ids=(run.id,)):
        assert record.to_result().to_dict() == originals[record.segment.id]
    assert run.created_at.isoformat() == "2025-01-15T10:00:00+00:00"


def test_queue_and_filters(store):
    assert [r.seg_id for r in store.queue()] == ["s2", "s1", "s3", "s5"]
    assert [r.seg_id for r in store.queue(QueueFilter(severities=("minor",)))] == ["s2", "s3"]
    assert [r.seg_id for r in store.queue(QueueFilter(text="MARKET"))] == ["s1"]
    assert [r.seg_id for r in store.queue(QueueFilter(text="%"))] == []
    assert store.queue_count(QueueFilter(flagged_only=False)) == 5
    ids = [r.id for r in store.queue()]
    assert store.neighbours(QueueFilter(), ids[1]) == (ids[0], ids[2])


def test_reviews_conflicts_and_labels(store, pg_url):
    run_id = store.runs()[0].id
    s2 = store.find_segment(run_id, "s2")
    saved = workflow.confirm(store, s2, s2.flags[0].id, reviewer="ann")
    assert saved.status is ReviewStatus.PARTIAL and saved.flags[0].decision is Decision.CONFIRMED
    with Store.open(pg_url) as other:
        workflow.fix(other, other.segment(s2.id), "Do they shout back?", reviewer="bob")
    with pytest.raises(SegmentConflict) as err:
        workflow.dismiss(store, saved, saved.flags[1].id, reviewer="ann")
    assert err.value.theirs.target == "Do they shout back?"
    final = workflow.apply_mine(store, err.value)
    assert final.status is ReviewStatus.REVIEWED and final.version == 3
    labels = list(store.review_labels())
    assert [(x["check"], x["decision"]) for x in labels] == [("forced_decoding", "confirmed"),
                                                             ("punctuation", "dismissed")]


def test_dashboard_aggregates(store):
    risk = dashboard.risk_frame(store, bins=10)
    assert risk.set_index("risk_low")["segments"].to_dict() == pytest.approx(
        {0.0: 1, 0.4: 1, 0.5: 1, 0.8: 1, 0.9: 1})
    assert dashboard.flag_frame(store)["flags"].sum() == 7


def test_schema_version_is_checked(store, pg_url):
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tq_meta SET value='99' WHERE key='schema_version'")
    try:
        with pytest.raises(StoreError, match="schema version 99"):
            Store.open(pg_url)
    finally:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE tq_meta SET value='{SCHEMA_VERSION}' WHERE key='schema_version'")


def test_bulk_undo_documents_claims_and_settings(store):
    """Issue 16's store methods on PostgreSQL: its stricter SQL (CASE sums, GROUP BY, IN subqueries)."""
    run_id = store.runs()[0].id
    assert [(d.doc_id, d.segments, d.to_review) for d in store.documents()] == [("caravan", 2, 2), (None, 3, 2)]
    s4 = store.find_segment(run_id, "s4")
    before, after = store.context(s4.id)
    assert [r.segment.id for r in before] == ["s3"] and [r.segment.id for r in after] == ["s5"]
    assert [r.segment.id for r in store.article(run_id, "caravan")] == ["s1", "s2"]
    picked = store.select_open_flags(QueueFilter(doc_ids=("caravan",)))
    assert store.claim(picked.segment_ids[0], "cy").taken  # s2, the riskiest: open by cy
    done = store.bulk_review(picked, reviewer="ann", action="dismiss")
    assert (done.flags, done.segments, [c.seg_id for c in done.conflicts]) == (1, 1, ["s2"])
    assert store.bulk_actions()[0].batch == done.batch
    undone = store.undo_bulk(reviewer="ann")
    assert undone.flags == 1 and store.bulk_actions()[0].undone
    assert store.claim_next(QueueFilter(order="article"), "ann") == store.find_segment(run_id, "s1").id
    assert store.assign([s4.id], "bob", by="lead") == 1
    assert [r.seg_id for r in store.queue(QueueFilter(assigned_to=("bob",), flagged_only=False))] == ["s4"]
    store.set_setting("thresholds", [{"metric": "major_per_100", "limit": 5.0}], by="lead")
    store.set_setting("thresholds", [{"metric": "major_per_100", "limit": 6.0}], by="lead")
    assert store.settings()["thresholds"][0]["limit"] == 6.0
    assert [(r["flagged"], r["major"], r["critical"]) for r in store.severity_stats()] == [(4, 4, 1)]
    s3 = store.find_segment(run_id, "s3")
    store.save_review(s3.id, reviewer="ann", action="dismiss", based_on_version=0,
                      flag_ids=[f.id for f in s3.flags])
    assert len(dashboard.reviewer_frame(store)) == 1
    assert {r["reviewer"] for r in store.reviewer_decisions()} == {"ann"}
    store.set_setting("thresholds", None, by="lead")


def test_a_schema_2_store_is_upgraded(store, pg_url):
    with store.engine.begin() as conn:
        for index in ("ix_tq_segments_document", "ix_tq_segments_assigned_to", "ix_tq_segments_claimed_by",
                      "ix_tq_reviews_batch"):
            conn.exec_driver_sql(f"DROP INDEX {index}")
        for table, column in (("tq_segments", "assigned_to"), ("tq_segments", "assigned_by"),
                              ("tq_segments", "claimed_by"), ("tq_segments", "claimed_until"),
                              ("tq_reviews", "batch")):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.exec_driver_sql("DROP TABLE tq_settings")
        conn.exec_driver_sql("UPDATE tq_meta SET value='2' WHERE key='schema_version'")
    with Store.open(pg_url) as upgraded:
        s1 = upgraded.find_segment(upgraded.runs()[0].id, "s1")
        assert upgraded.claim(s1.id, "ann").taken and upgraded.settings() == {}
    with store.engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT value FROM tq_meta WHERE key='schema_version'").scalar()
    assert version == str(SCHEMA_VERSION)
