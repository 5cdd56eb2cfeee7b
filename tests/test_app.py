"""Every page and action of the reviewer UI through streamlit's AppTest, on a temporary store.

Widgets are driven by key; each test checks that the page ran without an exception and that the
store changed (or, where it must not, did not).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from review_fixtures import XSS_MT, results, signature

from tqcheck.model import Segment, SegmentResult, Summary
from tqcheck.store import Decision, Store

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
VIEWS = "tqcheck/ui/views"


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "review.sqlite"
    with Store.open(path) as store:
        rid = store.start_run(signature(), name="caravan", feed="caravan.xlf")
        store.add_results(rid, results())
        store.finish_run(rid, Summary.of(results()))
    monkeypatch.setenv("TQCHECK_DB", str(path))
    return path


@pytest.fixture
def store(db):
    with Store.open(db) as s:
        yield s


def start(name: str | None = "ann") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    if name:
        at.sidebar.text_input(key="reviewer_input").input(name).run()
    return at


def open_segment(at: AppTest, store: Store, seg_id: str) -> AppTest:
    at.session_state["segment_id"] = store.find_segment(store.runs()[0].id, seg_id).id
    at.switch_page(f"{VIEWS}/segment.py").run()
    assert not at.exception, at.exception
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


# -- queue ------------------------------------------------------------------------------------------


def test_queue_lists_flagged_segments_riskiest_first(db):
    at = start()
    assert [t.value for t in at.title] == ["Queue"]
    table = at.dataframe[0].value
    assert table["segment"].tolist() == ["s2", "s1", "s3", "s5"]
    assert XSS_MT in table["MT"].tolist()  # shown as a cell value, not as markup


def test_queue_filters(db):
    at = start()
    ok(at.multiselect(key="q_sev").set_value(["critical"]).run())
    assert at.dataframe[0].value["segment"].tolist() == ["s2"]
    ok(at.multiselect(key="q_sev").set_value([]).run())
    ok(at.text_input(key="q_text").input("market").run())
    assert at.dataframe[0].value["segment"].tolist() == ["s1"]
    ok(at.text_input(key="q_text").input("").run())
    ok(at.multiselect(key="q_cat").set_value(["Markup"]).run())
    assert at.dataframe[0].value["segment"].tolist() == ["s5"]
    ok(at.multiselect(key="q_cat").set_value([]).run())
    ok(at.checkbox(key="q_flagged").uncheck().run())
    assert len(at.dataframe[0].value) == 5
    ok(at.multiselect(key="q_status").set_value(["reviewed"]).run())
    assert not at.dataframe and any("0 segments" in c.value for c in at.caption)


def test_queue_pages_through_fifty_at_a_time(db, store):
    rid = store.start_run(signature(), name="big")
    store.add_results(rid, [SegmentResult(Segment(f"b{i}", mt=f"line {i}"), results()[0].flags, risk=0.6 + i / 200)
                            for i in range(60)])
    at = start()
    ok(at.multiselect(key="q_runs").set_value([rid]).run())
    assert len(at.dataframe[0].value) == 50 and at.dataframe[0].value["segment"].iloc[0] == "b59"
    ok(at.button(key="q_next").click().run())
    assert at.dataframe[0].value["segment"].tolist() == [f"b{i}" for i in range(9, -1, -1)]
    ok(at.button(key="q_prev").click().run())
    assert len(at.dataframe[0].value) == 50


def test_review_first_opens_the_riskiest_segment(db):
    at = start()
    ok(at.button(key="q_start").click().run())
    assert [h for h in at.html if "Segment s2" in h.proto.body]


def test_an_empty_store_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TQCHECK_DB", str(tmp_path / "empty.sqlite"))
    at = start()
    assert "tqcheck import" in at.info[0].value


def test_a_store_of_another_version_is_an_error_on_the_page(db):
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE tq_meta SET value='99' WHERE key='schema_version'")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "schema version 99" in at.error[0].value


# -- segment ----------------------------------------------------------------------------------------


def test_confirm_dismiss_reopen_are_saved_at_once(db, store):
    at = open_segment(start(), store, "s2")
    s2 = store.find_segment(1, "s2")
    first, second = (f.id for f in s2.flags)
    ok(at.button(key=f"s_confirm_{first}").click().run())
    assert store.segment(s2.id).flag(first).decision is Decision.CONFIRMED
    ok(at.button(key=f"s_dismiss_{second}").click().run())
    saved = store.segment(s2.id)
    assert saved.flag(second).decision is Decision.DISMISSED and saved.status.value == "reviewed"
    assert saved.flag(second).decided_by == "ann"
    # every flag decided: the page moved on to the next segment of the queue; B goes back
    assert store.segment(at.session_state["segment_id"]).segment.id == "s1"
    ok(at.button(key="s_back").click().run())
    assert at.session_state["segment_id"] == s2.id
    ok(at.button(key=f"s_reopen_{first}").click().run())
    assert store.segment(s2.id).flag(first).decision is None
    assert [r.action.value for r in store.segment(s2.id).reviews] == ["confirm", "dismiss", "reopen"]


def test_edit_the_target_and_comment(db, store):
    at = open_segment(start(), store, "s1")
    s1 = store.find_segment(1, "s1")
    area = at.text_area(key=f"s_edit_{s1.id}_0")
    assert area.value == "He went to the market every morning."
    ok(area.input("He walked every morning.").run())
    ok(at.button(key="s_save_fix").click().run())
    assert store.segment(s1.id).target == "He walked every morning."
    ok(at.text_input(key=f"s_comment_{s1.id}_1").input("marche = walk, not market").run())
    ok(at.button(key="s_add_comment").click().run())
    saved = store.segment(s1.id)
    assert saved.comments[0].comment == "marche = walk, not market" and saved.version == 2
    assert any("Corrected target" in m.value for m in at.markdown)


def test_without_a_name_nothing_is_saved(db, store):
    at = open_segment(start(name=None), store, "s2")
    s2 = store.find_segment(1, "s2")
    ok(at.button(key=f"s_confirm_{s2.flags[0].id}").click().run())
    assert store.segment(s2.id).version == 0
    assert any("Enter your name" in w.value for w in at.warning)


def test_next_and_previous_follow_the_queue(db, store):
    at = open_segment(start(), store, "s2")
    ok(at.button(key="s_next").click().run())
    assert store.segment(at.session_state["segment_id"]).segment.id == "s1"
    ok(at.button(key="s_next").click().run())
    assert store.segment(at.session_state["segment_id"]).segment.id == "s3"
    ok(at.button(key="s_prev").click().run())
    assert store.segment(at.session_state["segment_id"]).segment.id == "s1"
    ok(at.button(key="s_queue").click().run())
    assert [t.value for t in at.title] == ["Queue"]


def test_a_conflict_is_shown_and_the_reviewer_chooses(db, store):
    at = open_segment(start(), store, "s1")
    s1 = store.find_segment(1, "s1")
    # bob saves the same segment while ann has it open
    store.save_review(s1.id, reviewer="bob", action="fix", based_on_version=0,
                      edited_target="He walked every morning.")
    ok(at.text_area(key=f"s_edit_{s1.id}_0").input("He went on foot every morning.").run())
    ok(at.button(key="s_save_fix").click().run())
    assert any("another reviewer saved this segment" in w.value for w in at.warning)
    assert any("He walked every morning." in t.value for t in at.text)  # theirs
    assert any("He went on foot every morning." in t.value for t in at.text)  # yours
    assert store.segment(s1.id).target == "He walked every morning."  # nothing overwritten
    ok(at.button(key="s_apply_mine").click().run())
    saved = store.segment(s1.id)
    assert saved.target == "He went on foot every morning." and saved.version == 2
    assert not any("another reviewer" in w.value for w in at.warning)


def test_keep_theirs_drops_the_refused_save(db, store):
    at = open_segment(start(), store, "s3")
    s3 = store.find_segment(1, "s3")
    store.save_review(s3.id, reviewer="bob", action="comment", based_on_version=0, comment="mine")
    ok(at.button(key=f"s_confirm_{s3.flags[0].id}").click().run())
    ok(at.button(key="s_keep_theirs").click().run())
    saved = store.segment(s3.id)
    assert saved.version == 1 and saved.flags[0].decision is None
    assert not any("another reviewer" in w.value for w in at.warning)


def test_markup_from_the_feed_is_rendered_as_text(db, store):
    at = open_segment(start(), store, "s5")
    bodies = [h.proto.body for h in at.html]
    assert any("&lt;img src=x onerror=alert(1)&gt;" in b for b in bodies)
    for body in bodies:
        assert "<script" not in body and "<img" not in body and "<b " not in body
    assert any("Back-translation" in b for b in bodies)


def test_evidence_and_scores_are_shown(db, store):
    at = open_segment(start(), store, "s1")
    assert at.json[0].value and "missing_source_words" in at.json[0].value
    scores = at.dataframe[0].value
    assert dict(zip(scores["score"], scores["value"])) == {"reference.chrf": 55.0, "roundtrip.chrf": 41.5}


# -- dashboard, check a file, export --------------------------------------------------------------------


def test_dashboard_shows_the_numbers_and_offers_them(db, store):
    s2 = store.find_segment(1, "s2")
    store.save_review(s2.id, reviewer="ann", action="confirm", based_on_version=0, flag_id=s2.flags[0].id)
    at = start()
    ok(at.switch_page(f"{VIEWS}/dashboard.py").run())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Flags": "7", "Decided": "1", "Confirmed": "1", "Precision in practice": "100%"}
    precision = at.dataframe[0].value.set_index("check")  # display tables carry no key
    assert precision.loc["forced_decoding", "confirmed"] == 1
    assert {b.key for b in at.get("download_button")} >= {
        "d_dl_time_severity", "d_dl_time_category", "d_dl_dimension", "d_dl_precision", "d_dl_risk"}
    ok(at.radio(key="d_dimension").set_value("language pair").run())


def test_check_a_file_lands_in_the_queue(db, store, tmp_path):
    at = start()
    ok(at.switch_page(f"{VIEWS}/check_file.py").run())
    feed = (b"id,source,mt\n"
            b"a,Ils sont 7 000.,There are 700 of them.\n"
            b"b,Suivez @LaurentRaphael1,Follow @ LaurentRaphael1\n")
    at.file_uploader(key="c_file").upload("feed.csv", feed, "text/csv")
    at.toggle(key="c_rules_only").set_value(True)
    at.text_input(key="c_src").input("fr")
    at.text_input(key="c_tgt").input("en")
    ok(at.run())
    ok(at.button(key="c_run").click().run())
    runs = store.runs()
    new = next(r for r in runs if r.feed == "feed.csv")
    assert new.segment_count == 2 and new.summary is not None
    assert new.engines == "rules only"
    assert [t.value for t in at.title] == ["Queue"]
    assert at.session_state["queue_filter"].run_ids == (new.id,)


def test_check_a_file_refuses_a_file_over_the_limit(db, monkeypatch):
    monkeypatch.setenv("TQCHECK_MAX_UPLOAD_MB", "1")
    at = start()
    ok(at.switch_page(f"{VIEWS}/check_file.py").run())
    at.file_uploader(key="c_file").upload("big.csv", b"id,mt\n" + b"x" * (1024 * 1024 + 10), "text/csv")
    ok(at.run())
    assert any("the limit is" in e.value for e in at.error)
    assert all(b.key != "c_run" for b in at.button)  # the Check button is not offered


def test_export_prepares_a_download(db, store):
    s1 = store.find_segment(1, "s1")
    store.save_review(s1.id, reviewer="ann", action="fix", based_on_version=0, edited_target="He walked.")
    at = start()
    ok(at.switch_page(f"{VIEWS}/export.py").run())
    ok(at.button(key="e_prepare").click().run())
    assert any("1 segments" in s.value for s in at.success)
    assert at.get("download_button")
    ok(at.radio(key="e_format").set_value("xliff").run())
    ok(at.button(key="e_prepare").click().run())
    assert any("5 segments" in s.value for s in at.success)


def test_a_target_only_segment_shows_its_round_trip_and_the_homograph_reading(db, store):
    from review_fixtures import span_of

    from tqcheck.model import Category, Flag, Severity

    seg = Segment("t1", mt="They hoped to reach it after twelve hours of market.", source=None,
                  source_lang="fr", target_lang="en")
    reads = "They hoped to reach it after twelve hours of march."
    flag = Flag("homograph", Severity.MAJOR, Category.MISTRANSLATION, "“market” may be a misreading",
                span_of(seg.mt, "market"), evidence={"kind": "near_homograph_reading", "reads_better": reads})
    result = SegmentResult(seg, flags=(flag,), risk=0.59, artifacts={
        "back_translation": "Ils espéraient l'atteindre après douze heures de marché.",
        "round_trip_target": "They expected to attain it after twelve hours of market."})
    rid = store.start_run(signature(), name="mt only", feed="mt.txt")
    store.add_results(rid, [result])
    store.finish_run(rid, Summary.of([result]))
    at = start()
    at.session_state["segment_id"] = store.find_segment(rid, "t1").id
    at.switch_page(f"{VIEWS}/segment.py").run()
    ok(at)
    bodies = " ".join(h.proto.body for h in at.html)
    assert "Round trip" in bodies and "attain" in bodies
    assert "Reads better as" in bodies and "march" in bodies
