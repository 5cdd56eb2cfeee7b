"""The copy editor's day through streamlit's AppTest (issue 16): one key for every flag of a segment,
moving on by itself, the sentences around a segment, the article view, bulk actions with their undo,
assignment and "my queue", and markup in every new field rendered as text.

Each test drives widgets by key on a temporary store and checks the store changed as the reviewer
meant (or, where it must not, did not).
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import pytest
from review_fixtures import XSS_MT, results, signature

from tqcheck.model import Summary
from tqcheck.store import Decision, QueueFilter, Store

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
VIEWS = "tqcheck/ui/views"
XSS_DOC = '"><img src=x onerror=alert(1)>'
XSS_NAME = "<script>alert(1)</script>"


def article_results():
    """The fixture's five segments as one article (doc "caravan") in input order, plus a second
    document whose id carries markup."""
    items = results()
    docs = ["caravan", "caravan", "caravan", "caravan", XSS_DOC]
    return [replace(r, segment=replace(r.segment, doc_id=doc)) for r, doc in zip(items, docs)]


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "review.sqlite"
    items = article_results()
    with Store.open(path) as store:
        rid = store.start_run(signature(), name="caravan", feed="caravan.xlf")
        store.add_results(rid, items)
        store.finish_run(rid, Summary.of(items))
    monkeypatch.setenv("TQCHECK_DB", str(path))
    return path


@pytest.fixture
def store(db):
    with Store.open(db) as s:
        yield s


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def start(name: str | None = "ann") -> AppTest:
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run())
    if name:
        ok(at.sidebar.text_input(key="reviewer_input").input(name).run())
    return at


def seg(store: Store, seg_id: str):
    return store.find_segment(1, seg_id)


def shown(at: AppTest, store: Store) -> str:
    """The id of the segment the segment page shows."""
    return store.segment(at.session_state["segment_id"]).segment.id


def open_on(at: AppTest, store: Store, seg_id: str) -> AppTest:
    at.session_state["segment_id"] = seg(store, seg_id).id
    return ok(at.switch_page(f"{VIEWS}/segment.py").run())


def to_article(at: AppTest) -> AppTest:
    """The article page the way a reviewer gets there: the queue's Article button (the first row's
    document). AppTest.switch_page would pin the page for every later run, and the page switches
    the app makes itself would then be lost."""
    ok(at.button(key="q_article").click().run())
    assert [t.value for t in at.title] == ["Article"]
    return at


def bodies(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.html)


def reading(at: AppTest) -> str:
    """What a reader sees of the page's HTML blocks: tags and flag numbers left out, text unescaped."""
    text = re.sub(r"<sup[^>]*>.*?</sup>", "", bodies(at))
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def assert_no_live_markup(text: str) -> None:
    assert "<script" not in text and "<img" not in text, text


# -- one key per segment, moving on --------------------------------------------------------------------


def test_dismiss_all_decides_every_flag_in_one_save_and_moves_on(db, store):
    at = open_on(start(), store, "s3")
    ok(at.button(key="s_dismiss_all").click().run())
    s3 = seg(store, "s3")
    assert [f.decision for f in s3.flags] == [Decision.DISMISSED] * 3 and s3.version == 1
    assert shown(at, store) == "s5"  # the next of the queue, riskiest first: s2, s1, s3, s5
    assert any("Every flag of s3 is decided" in s.value for s in at.success)
    ok(at.button(key="s_back").click().run())
    assert shown(at, store) == "s3"


def test_confirm_all_and_reopen_last_without_moving_on(db, store):
    at = open_on(start(), store, "s2")
    ok(at.toggle(key="s_auto").set_value(False).run())
    ok(at.button(key="s_confirm_all").click().run())
    assert shown(at, store) == "s2"  # the setting is off: the page stays
    assert {f.decision for f in seg(store, "s2").flags} == {Decision.CONFIRMED}
    ok(at.button(key="s_reopen_last").click().run())
    s2 = seg(store, "s2")
    assert [f.decision for f in s2.flags] == [None, None] and s2.version == 2
    assert [r.action.value for r in s2.reviews] == ["confirm", "confirm", "reopen", "reopen"]
    # the setting holds across pages
    ok(at.switch_page(f"{VIEWS}/queue.py").run())
    ok(at.button(key="q_start").click().run())
    assert at.toggle(key="s_auto").value is False


def test_the_last_single_decision_moves_on_too(db, store):
    at = open_on(start(), store, "s1")
    ok(at.button(key=f"s_dismiss_{seg(store, 's1').flags[0].id}").click().run())
    assert shown(at, store) == "s3"  # s2 came before s1 in the queue; after s1 comes s3


def test_a_segment_another_reviewer_has_open_is_not_handed_out(db, store):
    store.claim(seg(store, "s2").id, "bob")
    at = start()
    ok(at.button(key="q_start").click().run())
    assert shown(at, store) == "s1"  # s2 is bob's for now
    ok(at.button(key="s_dismiss_all").click().run())
    assert shown(at, store) == "s3"
    at = open_on(at, store, "s2")  # opened on purpose: shown, with a warning
    assert any("bob has this segment open" in i.value for i in at.info)


def test_clearing_the_article_in_article_order_from_the_article_page(db, store):
    at = to_article(start())
    assert at.selectbox(key="a_doc").value == (1, "caravan")
    ok(at.button(key="a_review").click().run())
    order = []
    for _ in range(3):
        order.append(shown(at, store))
        ok(at.button(key="s_dismiss_all").click().run())
    assert order == ["s1", "s2", "s3"]  # input order, unflagged s4 skipped
    assert any("nothing else in this queue is left to review" in s.value for s in at.success)
    for seg_id in ("s1", "s2", "s3"):
        assert {f.decision for f in seg(store, seg_id).flags} == {Decision.DISMISSED}
    assert seg(store, "s5").flags[0].decision is None  # another document


# -- what the segment page shows ------------------------------------------------------------------------


def test_the_sentences_around_the_segment_are_shown(db, store):
    at = open_on(start(), store, "s2")
    text = reading(at)
    assert "Sentence before" in text and "He went to the market every morning." in text
    assert "Sentence after" in text and "Follow @ LaurentRaphael1 for 3,000 updates." in text
    assert text.index("Sentence before") < text.index("Send them back in return.") < text.index("Sentence after")
    at = open_on(at, store, "s5")  # alone in its document
    assert any("No other sentence of this document" in c.value for c in at.caption)


def test_engine_wording_reads_as_one_sentence_with_changes_marked(db, store):
    at = open_on(start(), store, "s1")
    html = bodies(at)
    assert '<del class="tq-del"' in html and '<ins class="tq-ins"' in html
    assert "Reference model" in html and "difference" in html
    expander = next(e for e in at.expander if e.label == "Word by word")
    assert any("tq-diff-pair" in h.proto.body for h in expander.html)


def test_markup_in_doc_ids_names_and_text_stays_text_on_the_segment_page(db, store):
    s5 = seg(store, "s5")
    store.assign([s5.id], XSS_NAME, by="lead")
    store.save_review(s5.id, reviewer=XSS_NAME, action="comment", based_on_version=0, comment="x")
    store.claim(s5.id, XSS_NAME)
    at = open_on(start(), store, "s5")
    html = bodies(at)
    assert_no_live_markup(html)
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html  # the document id, escaped
    assert "assigned to &lt;script&gt;alert(1)&lt;/script&gt;" in html
    holder = next(i.value for i in at.info if "has this segment open" in i.value)
    # markdown-escaped: every < and > is a literal character, never the start of a tag
    assert holder.startswith("\\<script\\>alert\\(1\\)\\<\\/script\\>")
    assert not re.search(r"(?<!\\)[<>]", holder)


# -- the article page --------------------------------------------------------------------------------


def test_the_article_page_shows_a_document_in_order_and_opens_a_sentence(db, store):
    at = to_article(start())
    ok(at.selectbox(key="a_doc").set_value((1, "caravan")).run())
    text = reading(at)
    places = [text.index(r.segment.mt) for r in store.article(1, "caravan")]
    assert places == sorted(places)  # in input order
    assert bodies(at).count('class="tq-flag') >= 4 and "no flags" in text  # flagged highlighted, s4 plain
    ok(at.toggle(key="a_flagged").set_value(True).run())
    assert "The caravan stopped at dusk." not in bodies(at)
    ok(at.button(key=f"a_open_{seg(store, 's2').id}").click().run())
    assert shown(at, store) == "s2"
    ok(at.button(key="s_article").click().run())  # and back to the article (A)
    assert [t.value for t in at.title] == ["Article"]
    assert "2. · last opened · s2" in reading(at)


def test_from_the_article_to_the_queue_filtered_to_it(db, store):
    at = to_article(start())
    ok(at.button(key="a_queue").click().run())
    assert [t.value for t in at.title] == ["Queue"]
    assert at.dataframe[0].value["segment"].tolist() == ["s1", "s2", "s3"]  # this article, in its order
    assert at.multiselect(key="q_docs").value == ["caravan"] and at.radio(key="q_order").value == "article"


def test_assign_an_article_and_find_it_in_my_queue(db, store):
    at = start()
    ok(at.switch_page(f"{VIEWS}/article.py").run())
    ok(at.selectbox(key="a_doc").set_value((1, "caravan")).run())
    ok(at.text_input(key="a_assign_to").input("bob").run())
    ok(at.button(key="a_assign").click().run())
    assert {r.assigned_to for r in store.article(1, "caravan")} == {"bob"}
    bob = start("bob")
    ok(bob.checkbox(key="q_mine").check().run())
    assert bob.dataframe[0].value["segment"].tolist() == ["s2", "s1", "s3"]
    assert set(bob.dataframe[0].value["assigned"]) == {"bob"}


def test_markup_in_a_document_id_stays_text_on_the_article_page(db, store):
    at = start()
    ok(at.switch_page(f"{VIEWS}/article.py").run())
    ok(at.selectbox(key="a_doc").set_value((1, XSS_DOC)).run())
    assert_no_live_markup(bodies(at))
    assert XSS_MT in reading(at)  # the segment's MT, shown as text
    assert "1. · s5" in reading(at)  # numbered in its document, not in the run
    # the selectbox shows the id as an option's text, never as markup
    assert any(XSS_DOC in option for option in at.selectbox(key="a_doc").options)


# -- the queue: documents, order, bulk actions ------------------------------------------------------


def test_queue_by_document_in_article_order(db, store):
    at = start()
    ok(at.multiselect(key="q_docs").set_value(["caravan"]).run())
    assert at.dataframe[0].value["segment"].tolist() == ["s2", "s1", "s3"]
    ok(at.radio(key="q_order").set_value("article").run())
    assert at.dataframe[0].value["segment"].tolist() == ["s1", "s2", "s3"]
    ok(at.button(key="q_start").click().run())
    assert shown(at, store) == "s1"
    ok(at.button(key="s_next").click().run())
    assert shown(at, store) == "s2"


def test_bulk_dismiss_one_check_in_one_document_and_undo(db, store):
    at = start()
    ok(at.multiselect(key="q_docs").set_value(["caravan"]).run())
    ok(at.multiselect(key="q_checks").set_value(["punctuation", "numbers"]).run())
    ok(at.toggle(key="q_bulk").set_value(True).run())
    assert any("2 open flag(s) in 2 segment(s)" in m.value for m in at.markdown)
    ok(at.button(key="q_bulk_dismiss").click().run())
    assert any("Dismissed 2 flags in 2 segments." in s.value.replace("\\", "") for s in at.success)
    s2, s3 = seg(store, "s2"), seg(store, "s3")
    assert [f.decision for f in s2.flags] == [None, Decision.DISMISSED]
    assert [f.decision for f in s3.flags] == [None, Decision.DISMISSED, None]
    ok(at.button(key="q_bulk_undo").click().run())
    assert any("Reopened 2 flags in 2 segments." in s.value.replace("\\", "") for s in at.success)
    assert all(f.decision is None for s in ("s2", "s3") for f in seg(store, s).flags)
    assert at.button(key="q_bulk_undo").disabled  # nothing left to undo


def test_bulk_lists_the_segments_it_left_alone(db, store):
    at = start()
    ok(at.multiselect(key="q_docs").set_value(["caravan"]).run())
    ok(at.toggle(key="q_bulk").set_value(True).run())
    s1 = seg(store, "s1")
    store.save_review(s1.id, reviewer="bob", action="comment", based_on_version=0, comment="mine")
    ok(at.button(key="q_bulk_confirm").click().run())
    warning = " ".join(w.value.replace("\\", "") for w in at.warning)
    assert "Confirmed 5 flags in 2 segments." in warning and "Left alone (1): s1: saved by bob" in warning
    assert seg(store, "s1").flags[0].decision is None


def test_bulk_on_picked_rows_and_assign_them(db, store):
    at = start()
    ok(at.toggle(key="q_bulk").set_value(True).run())
    ok(at.radio(key="q_bulk_scope").set_value("rows").run())
    table = at.dataframe[0].key  # one key per page and filter: a pick never moves to other rows
    at.session_state[table] = {"selection": {"rows": [0, 2], "columns": [], "cells": []}}
    ok(at.run())
    assert any("5 open flag(s) in 2 segment(s)" in m.value for m in at.markdown)  # s2 and s3
    ok(at.text_input(key="q_assign_to").input("bob").run())
    ok(at.button(key="q_assign").click().run())
    assert [r.seg_id for r in store.queue(QueueFilter(assigned_to=("bob",)))] == ["s2", "s3"]
    ok(at.button(key="q_bulk_dismiss").click().run())
    assert {f.decision for f in seg(store, "s2").flags} == {Decision.DISMISSED}
    assert seg(store, "s1").flags[0].decision is None
    ok(at.multiselect(key="q_sev").set_value(["major"]).run())  # other rows: nothing is picked in them
    assert at.dataframe[0].key != table
    assert any("0 open flag(s) in 0 segment(s)" in m.value for m in at.markdown)


def test_markup_in_a_reviewer_name_stays_text_in_bulk_messages(db, store):
    at = start(XSS_NAME)
    ok(at.multiselect(key="q_checks").set_value(["tags"]).run())
    ok(at.toggle(key="q_bulk").set_value(True).run())
    ok(at.button(key="q_bulk_dismiss").click().run())
    assert seg(store, "s5").flags[0].decided_by == XSS_NAME
    for element in [*at.caption, *at.success, *at.markdown]:
        assert "<script" not in element.value and "<img" not in element.value
    at = open_on(at, store, "s5")
    html = bodies(at)
    assert_no_live_markup(html)
    assert "dismissed by &lt;script&gt;alert(1)&lt;/script&gt;" in html
