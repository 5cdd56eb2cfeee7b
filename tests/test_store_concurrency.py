"""Reviewers in several processes on one store (SQLite and PostgreSQL): no decision is lost, every
conflict is surfaced, and each save returns the version it made (issue 17); a store of schema 1 is
upgraded in place."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest
from review_fixtures import results, signature
from test_store_postgres import _BINS, pg_url  # noqa: F401  (the module-scoped PostgreSQL server)

from tqcheck.model import Summary
from tqcheck.store import SCHEMA_VERSION, SegmentConflict, Store

PROCESSES = 4
DECISIONS = 40


def _reviewer(url: str, name: str, segment_ids: list[int], out: multiprocessing.Queue) -> None:
    """Comment on the segments round-robin, retrying on conflicts; report (saved, conflicts, bad returns)."""
    saved = conflicts = bad = 0
    with Store.open(url) as store:
        for i in range(DECISIONS):
            segment_id = segment_ids[i % len(segment_ids)]
            while True:
                record = store.segment(segment_id)
                try:
                    back = store.save_review(segment_id, reviewer=name, action="comment",
                                             based_on_version=record.version, comment=f"{name} {i}")
                except SegmentConflict:
                    conflicts += 1
                    continue
                saved += 1
                bad += back.version != record.version + 1 or back.reviews[-1].comment != f"{name} {i}"
                break
    out.put((saved, conflicts, bad))


def _hammer(url: str) -> tuple[int, int, int, int]:
    with Store.open(url) as store:
        for run in store.runs():
            store.delete_run(run.id)
        rid = store.start_run(signature(), name="busy")
        store.add_results(rid, results())
        store.finish_run(rid, Summary.of(results()))
        ids = [store.find_segment(rid, f"s{i}").id for i in (1, 2, 3)]
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = ctx.Queue()
    procs = [ctx.Process(target=_reviewer, args=(url, f"r{k}", ids, queue)) for k in range(PROCESSES)]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    with Store.open(url) as store:
        logged = sum(len(store.segment(i).reviews) for i in ids)
    return (sum(o[0] for o in outcomes), sum(o[1] for o in outcomes), sum(o[2] for o in outcomes), logged)


def test_reviewers_in_several_processes_lose_nothing_on_sqlite(tmp_path):
    saved, conflicts, bad, logged = _hammer(str(tmp_path / "busy.sqlite"))
    assert saved == logged == PROCESSES * DECISIONS and bad == 0


@pytest.mark.slow
@pytest.mark.skipif(not _BINS, reason="no PostgreSQL server binaries (apt-get install postgresql)")
def test_reviewers_in_several_processes_lose_nothing_on_postgresql(pg_url):  # noqa: F811
    saved, conflicts, bad, logged = _hammer(pg_url)
    assert saved == logged == PROCESSES * DECISIONS and bad == 0


def downgrade_to_2(con: sqlite3.Connection) -> None:
    """Make a current SQLite store look as schema version 2 left it (no assignment, claims, batches,
    document index or settings)."""
    for index in ("ix_tq_segments_document", "ix_tq_segments_assigned_to", "ix_tq_segments_claimed_by",
                  "ix_tq_reviews_batch"):
        con.execute(f"DROP INDEX {index}")
    for table, column in (("tq_segments", "assigned_to"), ("tq_segments", "assigned_by"),
                          ("tq_segments", "claimed_by"), ("tq_segments", "claimed_until"),
                          ("tq_reviews", "batch")):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("DROP TABLE tq_settings")
    con.execute("UPDATE tq_meta SET value = '2' WHERE key = 'schema_version'")
    con.commit()


def test_a_schema_1_store_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    with Store.open(path) as store:
        rid = store.start_run(signature(), name="old")
        store.add_results(rid, results())
    con = sqlite3.connect(path)  # what version 1 had: no measured precision, no hints
    downgrade_to_2(con)
    for table, column in (("tq_flags", "p_error"), ("tq_flags", "p_major"), ("tq_flags", "hint"),
                          ("tq_segments", "n_hints")):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("UPDATE tq_meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with Store.open(path) as store:
        [run] = store.runs()
        assert run.segment_count == len(results())
        flags = store.segment(store.find_segment(run.id, "s1").id).flags
        assert flags and all(not f.flag.hint and f.flag.p_error is None for f in flags)
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM tq_meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
