"""The store for a copy editor's day (issue 16): several flags in one save, documents in order and a
segment's neighbours, bulk decisions and their undo, assignment, claims that never hand one segment to
two reviewers, settings; and the upgrade of a schema-2 store."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import sqlite3
import threading
from typing import Any

import pytest
from review_fixtures import results, signature
from test_store_concurrency import downgrade_to_2
from test_store_postgres import _BINS, pg_url  # noqa: F401  (the module-scoped PostgreSQL server)

from tqcheck.errors import StoreError, UsageError
from tqcheck.model import Summary
from tqcheck.store import (
    SCHEMA_VERSION,
    Action,
    BulkSelection,
    Decision,
    QueueFilter,
    ReviewStatus,
    SegmentConflict,
    Store,
)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "review.sqlite"


@pytest.fixture
def store(db):
    with Store.open(db) as s:
        yield s


@pytest.fixture
def run_id(store):
    rid = store.start_run(signature(), name="caravan", feed="caravan.xlf")
    store.add_results(rid, results())
    store.finish_run(rid, Summary.of(results()))
    return rid


def seg(store: Store, run_id: int, seg_id: str):
    return store.find_segment(run_id, seg_id)


# -- several flags of one segment in one save -------------------------------------------------------------


def test_dismiss_all_is_one_save_with_a_log_entry_per_flag(store, run_id):
    s3 = seg(store, run_id, "s3")
    ids = [f.id for f in s3.flags]
    r = store.save_review(s3.id, reviewer="ann", action="dismiss", based_on_version=0, flag_ids=ids,
                          comment="all noise")
    assert r.version == 1 and r.status is ReviewStatus.REVIEWED
    assert all(f.decision is Decision.DISMISSED and f.decided_by == "ann" for f in r.flags)
    assert [(x.flag_id, x.action, x.segment_version) for x in r.reviews] == [
        (i, Action.DISMISS, 1) for i in ids]
    assert [c.comment for c in r.comments] == ["all noise"]  # shown once, not once per flag
    r = store.save_review(s3.id, reviewer="ann", action="reopen", based_on_version=1, flag_ids=ids[:2])
    assert r.version == 2 and r.status is ReviewStatus.PARTIAL and len(r.open_flags()) == 2


def test_several_flags_conflict_like_one(store, run_id):
    s3 = seg(store, run_id, "s3")
    store.save_review(s3.id, reviewer="bob", action="confirm", based_on_version=0, flag_id=s3.flags[0].id)
    with pytest.raises(SegmentConflict) as err:
        store.save_review(s3.id, reviewer="ann", action="dismiss", based_on_version=0,
                          flag_ids=[f.id for f in s3.flags])
    assert err.value.yours.flag_ids == tuple(f.id for f in s3.flags)
    assert store.segment(s3.id).flags[1].decision is None


def test_several_flags_with_a_stranger_save_nothing(store, run_id):
    s1, s3 = seg(store, run_id, "s1"), seg(store, run_id, "s3")
    with pytest.raises(StoreError, match="not a flag of segment 's3'"):
        store.save_review(s3.id, reviewer="ann", action="dismiss", based_on_version=0,
                          flag_ids=[s3.flags[0].id, s1.flags[0].id])
    after = store.segment(s3.id)
    assert after.version == 0 and after.reviews == () and not any(f.decision for f in after.flags)
    with pytest.raises(UsageError, match="not about several flags"):
        store.save_review(s3.id, reviewer="ann", action="comment", comment="x", based_on_version=0,
                          flag_ids=[s3.flags[0].id])


# -- documents, articles, context -------------------------------------------------------------------------


def test_documents_in_input_order_with_what_is_left(store, run_id):
    docs = store.documents()
    assert [(d.doc_id, d.segments, d.flagged, d.to_review) for d in docs] == [
        ("caravan", 2, 2, 2), (None, 3, 2, 2)]
    s1 = seg(store, run_id, "s1")
    store.save_review(s1.id, reviewer="ann", action="dismiss", based_on_version=0, flag_id=s1.flags[0].id)
    assert store.documents(run_ids=(run_id,))[0].to_review == 1
    assert store.documents(run_ids=(run_id + 1,)) == []
    assert docs[1].label == f"(no document) · run {run_id}"


def test_article_and_context_follow_the_document(store, run_id):
    assert [r.segment.id for r in store.article(run_id, "caravan")] == ["s1", "s2"]
    assert [r.segment.id for r in store.article(run_id, None)] == ["s3", "s4", "s5"]
    s4 = seg(store, run_id, "s4")
    before, after = store.context(s4.id)
    assert [r.segment.id for r in before] == ["s3"] and [r.segment.id for r in after] == ["s5"]
    assert before[0].flags  # with their flags, to highlight
    before, after = store.context(seg(store, run_id, "s1").id, before=3, after=3)
    assert before == [] and [r.segment.id for r in after] == ["s2"]  # s3 is not in the document
    with pytest.raises(StoreError, match="no segment"):
        store.context(10_000)


def test_queue_in_article_order_by_document(store, run_id):
    f = QueueFilter(order="article", flagged_only=False)
    rows = store.queue(f)
    assert [r.seg_id for r in rows] == ["s1", "s2", "s3", "s4", "s5"]
    assert [r.seg_id for r in store.queue(QueueFilter(doc_ids=("caravan",), order="article"))] == ["s1", "s2"]
    assert store.neighbours(f, rows[2].id) == (rows[1].id, rows[3].id)
    with pytest.raises(ValueError, match="unknown queue order"):
        QueueFilter(order="alphabetical")


# -- bulk decisions and undo ----------------------------------------------------------------------------


def test_bulk_dismiss_of_one_check_in_one_document_and_its_undo(store, run_id):
    picked = store.select_open_flags(QueueFilter(doc_ids=("caravan",), checks=("punctuation",)))
    s2 = seg(store, run_id, "s2")
    assert picked.flags == ((s2.id, s2.flags[1].id),) and picked.versions == {s2.id: 0}
    done = store.bulk_review(picked, reviewer="ann", action="dismiss")
    assert (done.flags, done.segments, done.conflicts) == (1, 1, ())
    after = store.segment(s2.id)
    assert after.version == 1 and after.status is ReviewStatus.PARTIAL
    assert after.flags[1].decision is Decision.DISMISSED and after.flags[0].decision is None
    assert [(r.action, r.batch) for r in after.reviews] == [(Action.DISMISS, done.batch)]
    [record] = store.bulk_actions()
    assert (record.batch, record.action, record.flags, record.undone) == (done.batch, Action.DISMISS, 1, False)

    undone = store.undo_bulk(reviewer="ann")
    assert (undone.batch, undone.flags, undone.segments) == ("undo:" + done.batch, 1, 1)
    after = store.segment(s2.id)
    assert after.version == 2 and after.status is ReviewStatus.PARTIAL and after.flags[1].decision is None
    assert [(r.action, r.batch) for r in after.reviews][-1] == (Action.REOPEN, "undo:" + done.batch)
    assert store.bulk_actions(reviewer="ann")[0].undone
    with pytest.raises(UsageError, match="no bulk action to undo"):
        store.undo_bulk(reviewer="ann")
    with pytest.raises(UsageError, match="already undone"):
        store.undo_bulk(reviewer="ann", batch=done.batch)


def test_bulk_confirm_of_rows_marks_segments_reviewed(store, run_id):
    s1, s3 = seg(store, run_id, "s1"), seg(store, run_id, "s3")
    picked = store.select_open_flags(segment_ids=[s3.id, s1.id])
    assert [s for s, _ in picked.flags] == [s1.id, s3.id, s3.id, s3.id]  # queue order
    done = store.bulk_review(picked, reviewer="bob", action=Action.CONFIRM)
    assert (done.flags, done.segments) == (4, 2)
    for sid in (s1.id, s3.id):
        r = store.segment(sid)
        assert r.status is ReviewStatus.REVIEWED and r.version == 1
        assert {x.batch for x in r.reviews} == {done.batch}
    assert len(store.select_open_flags(segment_ids=[s3.id, s1.id])) == 0


def test_bulk_leaves_alone_what_moved_or_is_open_by_someone(store, run_id):
    s1, s2, s3 = (seg(store, run_id, x) for x in ("s1", "s2", "s3"))
    picked = store.select_open_flags()
    store.save_review(s1.id, reviewer="bob", action="comment", comment="looking", based_on_version=0)
    assert store.claim(s3.id, "cy").taken
    done = store.bulk_review(picked, reviewer="ann", action="dismiss")
    reasons = {c.seg_id: c.reason for c in done.conflicts}
    assert set(reasons) == {"s1", "s3"}
    assert "saved by bob" in reasons["s1"] and "open by cy" in reasons["s3"]
    assert store.segment(s1.id).flags[0].decision is None
    assert all(f.decision is None for f in store.segment(s3.id).flags)
    assert all(f.decision is Decision.DISMISSED for f in store.segment(s2.id).flags)
    assert done.segments == 2  # s2 and s5


def test_undo_leaves_alone_flags_decided_again_since(store, run_id):
    s3 = seg(store, run_id, "s3")
    done = store.bulk_review(store.select_open_flags(segment_ids=[s3.id]), reviewer="ann", action="dismiss")
    now = store.segment(s3.id)
    store.save_review(s3.id, reviewer="bob", action="confirm", based_on_version=now.version,
                      flag_id=now.flags[0].id)
    undone = store.undo_bulk(reviewer="ann", batch=done.batch)
    assert undone.flags == 2 and [c.seg_id for c in undone.conflicts] == ["s3"]
    assert "decided again" in undone.conflicts[0].reason
    after = store.segment(s3.id)
    assert [f.decision for f in after.flags] == [Decision.CONFIRMED, None, None]


def test_a_comment_on_a_flag_since_does_not_block_the_undo(store, run_id):
    s1 = seg(store, run_id, "s1")
    done = store.bulk_review(store.select_open_flags(segment_ids=[s1.id]), reviewer="ann", action="confirm")
    store.save_review(s1.id, reviewer="bob", action="comment", comment="sure?", based_on_version=1,
                      flag_id=s1.flags[0].id)
    undone = store.undo_bulk(reviewer="ann", batch=done.batch)
    assert (undone.flags, undone.conflicts) == (1, ())
    assert store.segment(s1.id).flags[0].decision is None


def test_a_hand_made_selection_with_a_stranger_flag_changes_nothing(store, run_id):
    s1, s3 = seg(store, run_id, "s1"), seg(store, run_id, "s3")
    bad = BulkSelection(flags=((s3.id, s1.flags[0].id),), versions={s3.id: 0})
    with pytest.raises(StoreError, match="not a flag of segment"):
        store.bulk_review(bad, reviewer="ann", action="dismiss")
    assert store.segment(s3.id).version == 0 and store.segment(s1.id).flags[0].decision is None
    with pytest.raises(UsageError, match="confirms or dismisses"):
        store.bulk_review(bad, reviewer="ann", action="reopen")


# -- assignment and claims ------------------------------------------------------------------------------


def test_assign_a_document_gives_my_queue(store, run_id):
    ids = [r.id for r in store.article(run_id, "caravan")]
    assert store.assign(ids, "ann", by="lead") == 2
    mine = store.queue(QueueFilter(assigned_to=("ann",)))
    assert {r.seg_id for r in mine} == {"s1", "s2"} and all(r.assigned_to == "ann" for r in mine)
    r = store.segment(ids[0])
    assert (r.assigned_to, r.assigned_by, r.version) == ("ann", "lead", 0)  # no review decision
    assert store.assign(ids[:1], None, by="lead") == 1
    assert [r.seg_id for r in store.queue(QueueFilter(assigned_to=("ann",)))] == ["s2"]


def test_claims_block_others_until_released_or_expired(store, run_id):
    s1, s2 = seg(store, run_id, "s1"), seg(store, run_id, "s2")
    got = store.claim(s1.id, "ann")
    assert got.taken and got.holder == "ann" and got.until is not None
    theirs = store.claim(s1.id, "bob")
    assert not theirs.taken and theirs.holder == "ann"
    assert store.queue(QueueFilter(text="market"))[0].claimed_by == "ann"
    assert store.claim(s2.id, "ann").taken  # one open segment per reviewer: s1 is let go
    assert store.claim(s1.id, "bob").taken
    assert not store.release(s1.id, "ann") and store.release(s1.id, "bob")
    assert store.claim(s1.id, "cy", ttl=dt.timedelta(seconds=-1)).taken  # already expired
    assert store.claim(s1.id, "dee").taken
    with pytest.raises(StoreError, match="no segment"):
        store.claim(10_000, "ann")


def test_claim_next_walks_the_queue_and_skips_what_others_hold(store, run_id):
    f = QueueFilter(run_ids=(run_id,))
    order = [r.id for r in store.queue(f)]  # s2, s1, s3, s5
    assert store.claim_next(f, "ann") == order[0]
    assert store.claim_next(f, "bob") == order[1]
    assert store.claim_next(f, "ann", after=order[0]) == order[2]  # s1 is bob's
    s5 = store.segment(order[3])
    store.save_review(s5.id, reviewer="bob", action="dismiss", based_on_version=0,
                      flag_ids=[x.id for x in s5.flags])
    # After the last one it wraps round to what was skipped; reviewed segments are never handed out.
    assert store.claim_next(f, "cy", after=order[3]) == order[0]  # ann moved on from s2
    assert store.claim_next(f, "cy", after=order[3], wrap=False) is None
    assert store.claim_next(f, "dee") is None  # all four held by someone or reviewed


def _claimer(url: str, name: str, run_id: int, out) -> None:
    """Take the next segment, dismiss all its flags, repeat; report what was handed out."""
    handed: list[int] = []
    f = QueueFilter(run_ids=(run_id,))
    try:
        with Store.open(url) as store:
            last = None
            while (sid := store.claim_next(f, name, after=last)) is not None:
                handed.append(sid)
                record = store.segment(sid)
                store.save_review(sid, reviewer=name, action="dismiss", based_on_version=record.version,
                                  flag_ids=[x.id for x in record.open_flags()])
                last = sid
    except Exception as exc:  # reported, so that the test fails with it instead of waiting
        out.put((name, handed, repr(exc)))
        return
    out.put((name, handed, None))


def _race(url: str, *, processes: bool) -> tuple[list[int], list[int]]:
    with Store.open(url) as store:
        for run in store.runs():
            store.delete_run(run.id)
        rid = store.start_run(signature(), name="race")
        for _ in range(10):
            store.add_results(rid, results())
        flagged = [r.id for r in store.queue(QueueFilter(run_ids=(rid,)), limit=1000)]
    out: Any
    workers: list[Any]
    if processes:
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        workers = [ctx.Process(target=_claimer, args=(url, f"r{k}", rid, out)) for k in range(4)]
    else:
        out = queue.Queue()
        workers = [threading.Thread(target=_claimer, args=(url, f"r{k}", rid, out)) for k in range(4)]
    for w in workers:
        w.start()
    reports = [out.get(timeout=300) for _ in workers]
    for w in workers:
        w.join(timeout=60)
    assert [error for _, _, error in reports if error] == []
    return flagged, [sid for _, handed, _ in reports for sid in handed]


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_two_reviewers_are_never_handed_the_same_segment_on_sqlite(tmp_path, processes):
    flagged, handed = _race(str(tmp_path / "race.sqlite"), processes=processes)
    assert len(handed) == len(set(handed)) and sorted(handed) == sorted(flagged)


@pytest.mark.slow
@pytest.mark.skipif(not _BINS, reason="no PostgreSQL server binaries (apt-get install postgresql)")
def test_two_reviewers_are_never_handed_the_same_segment_on_postgresql(pg_url):  # noqa: F811
    flagged, handed = _race(pg_url, processes=True)
    assert len(handed) == len(set(handed)) and sorted(handed) == sorted(flagged)


# -- settings and the upgrade ------------------------------------------------------------------------------


def test_settings_hold_json_values(store):
    assert store.settings() == {}
    thresholds = {"global": {"major_per_100": 5.0}, "feed:caravan.xlf": {"error_per_100": 20.0}}
    store.set_setting("thresholds", thresholds, by="lead")
    store.set_setting("auto_advance", True, by="lead")
    assert store.settings() == {"thresholds": thresholds, "auto_advance": True}
    store.set_setting("auto_advance", None, by="lead")
    assert store.settings() == {"thresholds": thresholds}
    with pytest.raises(UsageError, match="not a JSON value"):
        store.set_setting("x", object(), by="lead")


def test_a_schema_2_store_is_upgraded_and_keeps_its_reviews(db):
    with Store.open(db) as store:
        rid = store.start_run(signature(), name="old")
        store.add_results(rid, results())
        s1 = store.find_segment(rid, "s1")
        store.save_review(s1.id, reviewer="ann", action="confirm", based_on_version=0, flag_id=s1.flags[0].id)
    con = sqlite3.connect(db)
    downgrade_to_2(con)
    con.close()
    with Store.open(db) as store:
        r = store.segment(s1.id)
        assert r.flags[0].decision is Decision.CONFIRMED and r.reviews[0].batch is None
        assert r.assigned_to is None and r.claimed_by is None
        assert store.claim(s1.id, "ann").taken and store.assign([s1.id], "ann", by="lead") == 1
        store.set_setting("thresholds", {}, by="lead")
        done = store.bulk_review(store.select_open_flags(), reviewer="ann", action="dismiss")
        assert (done.flags, done.segments) == (6, 3)  # s2, s3 and s5: s1 was decided before
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM tq_meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert "ix_tq_segments_document" in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
