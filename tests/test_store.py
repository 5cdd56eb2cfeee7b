"""The review store: opening, schema version, writing runs, the queue, reviews and conflicts."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest
from review_fixtures import XSS_MT, results, signature

from tqcheck.errors import ReviewConflict, StoreError, UsageError
from tqcheck.model import (
    Category,
    EngineInfo,
    Flag,
    Segment,
    SegmentResult,
    Severity,
    Summary,
)
from tqcheck.store import (
    SCHEMA_VERSION,
    Action,
    Decision,
    QueueFilter,
    ReviewStatus,
    SegmentConflict,
    Store,
    store_url,
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


def by_seg_id(store: Store, run_id: int, seg_id: str):
    return store.find_segment(run_id, seg_id)


# -- opening ----------------------------------------------------------------------------------------


def test_plain_path_is_sqlite_in_wal_mode_with_a_schema_version(db, store):
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        version = conn.execute("SELECT value FROM tq_meta WHERE key='schema_version'").fetchone()[0]
    assert version == str(SCHEMA_VERSION)


def test_default_location_from_env_then_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("TQCHECK_DB", str(tmp_path / "from-env.sqlite"))
    assert store_url(None) == f"sqlite:///{tmp_path / 'from-env.sqlite'}"
    monkeypatch.delenv("TQCHECK_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert store_url(None) == f"sqlite:///{tmp_path / 'data' / 'tqcheck' / 'review.sqlite'}"
    with Store.open() as s:
        assert s.runs() == []
    assert (tmp_path / "data" / "tqcheck" / "review.sqlite").exists()


def test_urls_pass_through():
    assert store_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert store_url("sqlite:///x.db") == "sqlite:///x.db"


def test_other_schema_version_is_refused_with_the_fix(db, store):
    store.close()
    for stored, hint in (("99", "upgrade tqcheck"), ("0", "export it with the tqcheck that wrote it")):
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE tq_meta SET value=? WHERE key='schema_version'", (stored,))
        with pytest.raises(StoreError) as err:
            Store.open(db)
        message = str(err.value)
        assert f"schema version {stored}" in message and f"reads version {SCHEMA_VERSION}" in message
        assert hint in message and str(db) in message


def test_foreign_tables_without_version_are_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE tq_runs (id INTEGER PRIMARY KEY)")
    with pytest.raises(StoreError, match="no schema version"):
        Store.open(path)


def test_open_without_create_refuses_an_empty_database(tmp_path):
    with pytest.raises(StoreError, match="no review store here"):
        Store.open(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()  # looking did not create it
    sqlite3.connect(tmp_path / "empty.sqlite").close()
    with pytest.raises(StoreError, match="no review store here"):
        Store.open(tmp_path / "empty.sqlite", create=False)


def test_unknown_dialect_is_a_store_error():
    with pytest.raises(StoreError, match="dialect"):
        Store.open("nosuchdb://host/x")


# -- writing runs -----------------------------------------------------------------------------------


def test_results_round_trip_losslessly(store, run_id):
    originals = {r.segment.id: r for r in results()}
    stored = list(store.iter_segments(run_ids=(run_id,)))
    assert [r.segment.id for r in stored] == ["s1", "s2", "s3", "s4", "s5"]
    for record in stored:
        assert record.to_result().to_dict() == originals[record.segment.id].to_dict()
        assert record.status is ReviewStatus.UNREVIEWED and record.version == 0
    run = store.run(run_id)
    assert (run.segment_count, run.flagged_count) == (5, 4)
    assert run.engines == "back_translator=apertium"
    assert run.summary == Summary.of(results())
    assert run.created_at.isoformat() == "2025-01-15T10:00:00+00:00"


def test_add_results_continues_positions_and_counts(store):
    rid = store.start_run(signature(), name="stream")
    items = results()
    assert store.add_results(rid, items[:2]) == 2
    assert store.add_results(rid, items[2:]) == 3
    assert [r.position for r in store.iter_segments(run_ids=(rid,))] == [0, 1, 2, 3, 4]
    assert store.run(rid).segment_count == 5


def test_add_results_to_a_missing_run_is_an_error(store):
    with pytest.raises(StoreError, match="no run 42"):
        store.add_results(42, results())


def test_finish_run_takes_the_final_signature(store):
    rid = store.start_run(signature(), name="x")
    final = replace(signature(), engines=(EngineInfo("lm", "smollm2", "HuggingFaceTB/SmolLM2-135M"),))
    store.finish_run(rid, Summary(), signature=final)
    assert store.run(rid).engines == "lm=smollm2:HuggingFaceTB/SmolLM2-135M"


def test_runs_newest_first_and_delete_cascades(store, run_id):
    later = store.start_run(signature("2025-02-01T00:00:00+00:00"), name="later")
    store.add_results(later, results()[:1])
    assert [r.id for r in store.runs()] == [later, run_id]
    record = by_seg_id(store, later, "s1")
    store.save_review(record.id, reviewer="ann", action="confirm", based_on_version=0,
                      flag_id=record.flags[0].id)
    store.delete_run(later)
    assert [r.id for r in store.runs()] == [run_id]
    assert store.queue_count(QueueFilter(flagged_only=False)) == 5
    assert list(store.review_labels()) == []


def test_import_report_without_summary_computes_it(store):
    rid = store.import_report(signature(), iter(results()), None, name="partial")
    assert store.run(rid).summary == Summary.of(results())


def test_attached_file_comes_back(store, run_id):
    file_id = store.attach_file(run_id, "caravan.xlf", b"<xliff/>", format="xliff")
    assert store.run(run_id).files == ((file_id, "caravan.xlf"),)
    assert store.run_file(file_id) == ("caravan.xlf", "xliff", b"<xliff/>")


# -- the queue --------------------------------------------------------------------------------------


def test_queue_is_riskiest_first_and_skips_clean_segments(store, run_id):
    rows = store.queue()
    assert [r.seg_id for r in rows] == ["s2", "s1", "s3", "s5"]
    assert rows[0].worst_severity == "critical" and rows[0].n_flags == 2
    assert store.queue_count() == 4
    assert store.queue_count(QueueFilter(flagged_only=False)) == 5


@pytest.mark.parametrize("queue_filter, expected", [
    (QueueFilter(severities=("critical",)), ["s2"]),
    (QueueFilter(severities=("minor",)), ["s2", "s3"]),
    (QueueFilter(categories=("Markup",)), ["s5"]),
    (QueueFilter(checks=("numbers",)), ["s3"]),
    (QueueFilter(categories=("Locale convention",), severities=("major",)), ["s3"]),
    (QueueFilter(categories=("Markup",), severities=("minor",)), []),
    (QueueFilter(lang_pairs=("fr-en",)), ["s2", "s1", "s3", "s5"]),
    (QueueFilter(lang_pairs=("de-en",)), []),
    (QueueFilter(text="MARKET"), ["s1"]),
    (QueueFilter(text="marche"), ["s1"]),  # the source is searched too
    (QueueFilter(text="onerror"), ["s5"]),
    (QueueFilter(text="%"), []),  # LIKE wildcards are literal
    (QueueFilter(text="_"), []),
    (QueueFilter(text="3,000"), ["s3"]),
])
def test_queue_filters(store, run_id, queue_filter, expected):
    assert [r.seg_id for r in store.queue(queue_filter)] == expected
    assert store.queue_count(queue_filter) == len(expected)


def test_queue_filters_by_run_and_status(store, run_id):
    other = store.start_run(signature(), name="other")
    store.add_results(other, results()[:1])
    assert [r.run_id for r in store.queue(QueueFilter(run_ids=(other,)))] == [other]
    record = by_seg_id(store, run_id, "s1")
    store.save_review(record.id, reviewer="ann", action="confirm", based_on_version=0,
                      flag_id=record.flags[0].id)
    reviewed = store.queue(QueueFilter(run_ids=(run_id,), statuses=("reviewed",)))
    assert [r.seg_id for r in reviewed] == ["s1"]
    todo = store.queue(QueueFilter(run_ids=(run_id,), statuses=("unreviewed", "partial")))
    assert [r.seg_id for r in todo] == ["s2", "s3", "s5"]


def test_queue_pages(store, run_id):
    assert [r.seg_id for r in store.queue(limit=2)] == ["s2", "s1"]
    assert [r.seg_id for r in store.queue(limit=2, offset=2)] == ["s3", "s5"]


def test_neighbours_follow_the_queue_even_after_the_segment_left_it(store, run_id):
    ids = {r.seg_id: r.id for r in store.queue()}
    todo = QueueFilter(statuses=("unreviewed",))
    assert store.neighbours(todo, ids["s2"]) == (None, ids["s1"])
    assert store.neighbours(todo, ids["s1"]) == (ids["s2"], ids["s3"])
    assert store.neighbours(todo, ids["s5"]) == (ids["s3"], None)
    s1 = store.segment(ids["s1"])
    store.save_review(s1.id, reviewer="ann", action="confirm", based_on_version=0, flag_id=s1.flags[0].id)
    # s1 is reviewed now and out of the "unreviewed" queue, but next/previous still work from it.
    assert store.neighbours(todo, ids["s1"]) == (ids["s2"], ids["s3"])
    assert store.neighbours(todo, ids["s2"]) == (None, ids["s3"])


def test_rules_only_runs_rank_by_mqm_penalty(store):
    def result(seg_id, *severities):
        return SegmentResult(Segment(seg_id, mt=f"text {seg_id}"),
                             tuple(Flag("c", s, Category.OTHER, "m") for s in severities))

    rid = store.start_run(signature(), name="rules only")
    store.add_results(rid, [result("two-minor", Severity.MINOR, Severity.MINOR),
                            result("critical", Severity.CRITICAL),
                            result("major", Severity.MAJOR),
                            result("two-major", Severity.MAJOR, Severity.MAJOR)])
    rows = store.queue(QueueFilter(run_ids=(rid,)))
    assert [r.seg_id for r in rows] == ["critical", "two-major", "major", "two-minor"]
    assert all(r.risk is None and 0 < r.priority < 1 for r in rows)
    assert rows[0].priority == pytest.approx(rows[1].priority)  # 10 = 5 + 5


# -- reviews ------------------------------------------------------------------------------------------


def test_confirm_dismiss_reopen_and_status(store, run_id):
    s3 = by_seg_id(store, run_id, "s3")
    handle, number, length = (f.id for f in s3.flags)
    r = store.save_review(s3.id, reviewer="ann", action=Action.CONFIRM, based_on_version=0, flag_id=handle)
    assert r.status is ReviewStatus.PARTIAL and r.version == 1
    assert r.flag(handle).decision is Decision.CONFIRMED and r.flag(handle).decided_by == "ann"
    r = store.save_review(s3.id, reviewer="ann", action="dismiss", based_on_version=1, flag_id=number)
    r = store.save_review(s3.id, reviewer="bob", action="dismiss", based_on_version=2, flag_id=length,
                          comment="segment-level noise")
    assert r.status is ReviewStatus.REVIEWED and r.version == 3
    r = store.save_review(s3.id, reviewer="bob", action="reopen", based_on_version=3, flag_id=length)
    assert r.flag(length).decision is None and r.status is ReviewStatus.PARTIAL
    assert [(x.reviewer, x.action) for x in r.reviews] == [
        ("ann", Action.CONFIRM), ("ann", Action.DISMISS), ("bob", Action.DISMISS), ("bob", Action.REOPEN)]
    assert [x.segment_version for x in r.reviews] == [1, 2, 3, 4]
    assert r.comments[0].comment == "segment-level noise"


def test_fix_keeps_the_mt_and_sets_the_target(store, run_id):
    s1 = by_seg_id(store, run_id, "s1")
    r = store.save_review(s1.id, reviewer="ann", action="fix", based_on_version=0,
                          edited_target="He walked every morning.")
    assert r.edited_target == r.target == "He walked every morning."
    assert r.segment.mt == "He went to the market every morning."
    assert r.status is ReviewStatus.PARTIAL  # its flag is still undecided
    assert store.queue(QueueFilter(text="walked"))[0].edited


def test_a_clean_segment_is_reviewed_once_touched(store, run_id):
    s4 = by_seg_id(store, run_id, "s4")
    r = store.save_review(s4.id, reviewer="ann", action="comment", based_on_version=0, comment="fine")
    assert r.status is ReviewStatus.REVIEWED


@pytest.mark.parametrize("kwargs, message", [
    ({"reviewer": " ", "action": "comment", "comment": "x"}, "reviewer's name"),
    ({"reviewer": "ann", "action": "confirm"}, "needs the flag"),
    ({"reviewer": "ann", "action": "fix"}, "corrected target"),
    ({"reviewer": "ann", "action": "comment", "comment": "  "}, "comment is empty"),
])
def test_bad_reviews_are_usage_errors_and_change_nothing(store, run_id, kwargs, message):
    s1 = by_seg_id(store, run_id, "s1")
    with pytest.raises(UsageError, match=message):
        store.save_review(s1.id, based_on_version=0, **kwargs)
    assert store.segment(s1.id).version == 0


def test_a_flag_of_another_segment_is_refused_and_nothing_saved(store, run_id):
    s1, s2 = by_seg_id(store, run_id, "s1"), by_seg_id(store, run_id, "s2")
    with pytest.raises(StoreError, match="not a flag of segment 's1'"):
        store.save_review(s1.id, reviewer="ann", action="confirm", based_on_version=0,
                          flag_id=s2.flags[0].id)
    after = store.segment(s1.id)
    assert after.version == 0 and after.reviews == ()


def test_second_reviewer_gets_a_conflict_with_both_versions(db, store, run_id):
    # Two reviewers, two connections to one file, both looking at version 0 of s1.
    with Store.open(db) as other:
        mine = by_seg_id(store, run_id, "s1")
        theirs_view = other.segment(mine.id)
        other.save_review(theirs_view.id, reviewer="bob", action="fix", based_on_version=0,
                          edited_target="He walked every morning.")
        with pytest.raises(ReviewConflict) as err:
            store.save_review(mine.id, reviewer="ann", action="fix", based_on_version=mine.version,
                              edited_target="He went on foot every morning.")
    conflict = err.value
    assert isinstance(conflict, SegmentConflict)
    assert "bob saved this segment" in str(conflict) and "segment 's1'" in str(conflict)
    assert conflict.yours.edited_target == "He went on foot every morning."
    assert conflict.yours.reviewer == "ann" and conflict.yours.based_on_version == 0
    assert conflict.theirs.edited_target == "He walked every morning." and conflict.theirs.version == 1
    assert [c.reviewer for c in conflict.their_changes] == ["bob"]
    # Nothing of ann's was written.
    assert store.segment(mine.id).edited_target == "He walked every morning."
    assert [r.reviewer for r in store.segment(mine.id).reviews] == ["bob"]


def test_decisions_survive_a_restart(db, store, run_id):
    s2 = by_seg_id(store, run_id, "s2")
    store.save_review(s2.id, reviewer="ann", action="confirm", based_on_version=0, flag_id=s2.flags[0].id)
    store.save_review(s2.id, reviewer="ann", action="fix", based_on_version=1,
                      edited_target="Do they shout back in reply?")
    store.close()
    with Store.open(db) as again:
        record = again.segment(s2.id)
        assert record.flags[0].decision is Decision.CONFIRMED
        assert record.target == "Do they shout back in reply?"
        assert record.version == 2


# -- what calibration and the dashboard read ------------------------------------------------------------


def test_review_labels_are_the_decided_flags(store, run_id):
    s1, s2 = by_seg_id(store, run_id, "s1"), by_seg_id(store, run_id, "s2")
    store.save_review(s1.id, reviewer="ann", action="confirm", based_on_version=0, flag_id=s1.flags[0].id)
    store.save_review(s2.id, reviewer="bob", action="dismiss", based_on_version=0, flag_id=s2.flags[1].id)
    labels = list(store.review_labels())
    assert [(x["check"], x["decision"], x["confirmed"]) for x in labels] == [
        ("roundtrip", "confirmed", True), ("punctuation", "dismissed", False)]
    first = labels[0]
    assert first["severity"] == "major" and first["category"] == "Accuracy/Mistranslation"
    assert first["scores"] == {"roundtrip.chrf": 41.5, "reference.chrf": 55.0}
    assert first["risk"] == 0.81 and first["confidence"] == 0.8 and first["reviewer"] == "ann"
    assert first["span"] == {"start": 15, "end": 21, "side": "mt"} and first["lang_pair"] == "fr-en"
    assert list(store.review_labels(run_id=run_id + 1)) == []


def test_flag_and_segment_stats(store, run_id):
    s2 = by_seg_id(store, run_id, "s2")
    store.save_review(s2.id, reviewer="ann", action="confirm", based_on_version=0, flag_id=s2.flags[0].id)
    stats = store.flag_stats()
    assert sum(r["flags"] for r in stats) == 7
    confirmed = [r for r in stats if r["decision"] == "confirmed"]
    assert confirmed == [{"run_id": run_id, "lang_pair": "fr-en", "check": "forced_decoding",
                          "severity": "critical", "category": "Accuracy/Mistranslation",
                          "decision": "confirmed", "flags": 1}]
    bins = {r["bin"]: r["segments"] for r in store.segment_stats(bins=10)}
    assert bins == {8: 1, 9: 1, 5: 1, 0: 1, 4: 1}  # risks .81 .95 .55 .05 .40


def test_iter_segments_reviewed_only(store, run_id):
    s5 = by_seg_id(store, run_id, "s5")
    store.save_review(s5.id, reviewer="ann", action="fix", based_on_version=0, edited_target="Click now")
    assert [r.segment.id for r in store.iter_segments(reviewed_only=True)] == ["s5"]
    assert store.segment(s5.id).segment.mt == XSS_MT
