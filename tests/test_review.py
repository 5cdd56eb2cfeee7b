"""The reviewer workflow, the escaped HTML of the segment view, and the dashboard numbers."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from review_fixtures import XSS_MT, results, signature

from tqcheck.errors import UsageError
from tqcheck.model import Category, Flag, Severity, Side, Span
from tqcheck.review import dashboard, workflow
from tqcheck.review.render import (
    Mark,
    diff_html,
    flag_marks,
    highlight_html,
    missing_words,
    sentence_html,
    tracked_changes,
    tracked_html,
    word_diff,
)
from tqcheck.store import Decision, FlagRecord, QueueFilter, SegmentConflict, Store


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "r.sqlite") as s:
        rid = s.start_run(signature(), name="caravan", feed="caravan")
        s.add_results(rid, results())
        yield s


def seg(store: Store, seg_id: str):
    return store.find_segment(store.runs()[0].id, seg_id)


class _Tags(HTMLParser):
    """Collects the elements and attributes a browser would build from an HTML string."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    return parser


# -- workflow ---------------------------------------------------------------------------------------


def test_each_action_saves_at_once_and_returns_the_new_version(store):
    s3 = seg(store, "s3")
    r = workflow.confirm(store, s3, s3.flags[0].id, reviewer="ann")
    assert r.version == 1 and r.flags[0].decision is Decision.CONFIRMED
    r = workflow.dismiss(store, r, r.flags[1].id, reviewer="ann", comment="Anglo format is fine here")
    assert r.flags[1].decision is Decision.DISMISSED and r.comments[0].comment.startswith("Anglo")
    r = workflow.reopen(store, r, r.flags[1].id, reviewer="ann")
    assert r.flags[1].decision is None
    r = workflow.fix(store, r, "Follow @LaurentRaphael1 for 3 000 updates.", reviewer="ann")
    assert r.target == "Follow @LaurentRaphael1 for 3 000 updates."
    r = workflow.comment(store, r, "handle restored", reviewer="bob", flag_id=r.flags[0].id)
    assert r.version == 5 and store.segment(r.id).version == 5
    assert [x.action.value for x in r.reviews] == ["confirm", "dismiss", "reopen", "fix", "comment"]


def test_fix_with_the_same_text_saves_nothing_and_empty_text_is_refused(store):
    s1 = seg(store, "s1")
    assert workflow.fix(store, s1, s1.segment.mt, reviewer="ann") is s1
    assert store.segment(s1.id).version == 0
    with pytest.raises(UsageError, match="empty"):
        workflow.fix(store, s1, "   ", reviewer="ann")


def test_next_undecided_walks_the_flags(store):
    s2 = seg(store, "s2")
    first, second = (f.id for f in s2.flags)
    assert workflow.next_undecided(s2) == first
    s2 = workflow.confirm(store, s2, first, reviewer="ann")
    assert workflow.next_undecided(s2) == second
    s2 = workflow.dismiss(store, s2, second, reviewer="ann")
    assert workflow.next_undecided(s2) is None


def test_conflict_keep_theirs_or_apply_mine(store):
    stale = seg(store, "s1")
    workflow.fix(store, stale, "He walked every morning.", reviewer="bob")
    with pytest.raises(SegmentConflict) as err:
        workflow.fix(store, stale, "He went on foot each morning.", reviewer="ann")
    assert workflow.keep_theirs(err.value).target == "He walked every morning."
    saved = workflow.apply_mine(store, err.value)
    assert saved.target == "He went on foot each morning." and saved.version == 2
    assert [r.reviewer for r in saved.reviews] == ["bob", "ann"]


def test_queue_position_and_first(store):
    todo = QueueFilter(statuses=("unreviewed",))
    first = workflow.first(store, todo)
    assert store.segment(first).segment.id == "s2"
    position = workflow.position(store, todo, first)
    assert position.previous is None and store.segment(position.next).segment.id == "s1"
    assert workflow.first(store, QueueFilter(text="no such words")) is None


def test_dismiss_all_decides_every_open_flag_in_one_save_and_reopen_takes_it_back(store):
    s3 = seg(store, "s3")
    r = workflow.confirm(store, s3, s3.flags[0].id, reviewer="ann")
    assert workflow.open_flag_ids(r) == (r.flags[1].id, r.flags[2].id)
    before = r
    r = workflow.dismiss_all(store, r, reviewer="ann")
    assert r.version == 2 and workflow.all_decided(r) and r.status.value == "reviewed"
    assert workflow.finished_by(before, r) and not workflow.finished_by(r, r)
    assert [f.decision for f in r.flags] == [Decision.CONFIRMED, Decision.DISMISSED, Decision.DISMISSED]
    assert workflow.last_decided(r) == (r.flags[1].id, r.flags[2].id)
    assert workflow.dismiss_all(store, r, reviewer="ann") is r  # nothing open: nothing saved
    r = workflow.reopen_last(store, r, reviewer="ann")  # the whole "dismiss all", not just one flag
    assert [f.decision for f in r.flags] == [Decision.CONFIRMED, None, None] and r.version == 3
    r = workflow.reopen_last(store, r, reviewer="ann")
    assert workflow.open_flag_ids(r) == tuple(f.id for f in r.flags)
    assert workflow.reopen_last(store, r, reviewer="ann") is r
    r = workflow.confirm_all(store, r, reviewer="bob")
    assert {f.decision for f in r.flags} == {Decision.CONFIRMED} and {f.decided_by for f in r.flags} == {"bob"}


def test_a_refused_dismiss_all_can_still_be_applied(store):
    stale = seg(store, "s2")
    workflow.comment(store, stale, "looking", reviewer="bob")
    with pytest.raises(SegmentConflict) as err:
        workflow.dismiss_all(store, stale, reviewer="ann")
    saved = workflow.apply_mine(store, err.value)
    assert {f.decision for f in saved.flags} == {Decision.DISMISSED}


def test_next_to_review_never_hands_two_reviewers_the_same_segment(store):
    todo = QueueFilter(statuses=("unreviewed", "partial"))
    ann = workflow.next_to_review(store, todo, "ann")
    bob = workflow.next_to_review(store, todo, "bob")
    assert store.segment(ann).segment.id == "s2" and store.segment(bob).segment.id == "s1"
    # ann decides everything on s2 and moves on: s1 is bob's, so she gets s3
    s2 = workflow.dismiss_all(store, store.segment(ann), reviewer="ann")
    nxt = workflow.next_to_review(store, todo, "ann", after=s2.id)
    assert store.segment(nxt).segment.id == "s3"
    in_article = QueueFilter(statuses=("unreviewed", "partial"), order="article")
    assert store.segment(workflow.next_to_review(store, in_article, "cat")).segment.id == "s5"


def test_bulk_dismiss_one_check_in_one_document_and_undo(store):
    caravan = QueueFilter(doc_ids=("caravan",), checks=("punctuation",))
    selection = workflow.select_flags(store, caravan)
    assert len(selection) == 1
    result = workflow.bulk_decide(store, selection, reviewer="ann", action="dismiss")
    assert workflow.bulk_message(result) == "Dismissed 1 flag in 1 segment."
    s2 = seg(store, "s2")
    assert [f.decision for f in s2.flags] == [None, Decision.DISMISSED]
    undone = workflow.undo_last_bulk(store, reviewer="ann")
    assert workflow.bulk_message(undone) == "Reopened 1 flag in 1 segment."
    assert [f.decision for f in seg(store, "s2").flags] == [None, None]
    with pytest.raises(UsageError, match="no open flag"):
        workflow.bulk_decide(store, workflow.select_flags(store, QueueFilter(checks=("nothing",))),
                             reviewer="ann", action="dismiss")


def test_bulk_message_lists_what_was_left_alone(store):
    everything = workflow.select_flags(store, QueueFilter())
    s1 = seg(store, "s1")
    workflow.comment(store, s1, "mine", reviewer="bob")  # saved after the selection was made
    result = workflow.bulk_decide(store, everything, reviewer="ann", action="confirm")
    message = workflow.bulk_message(result)
    assert message.startswith("Confirmed 6 flags in 3 segments. Left alone (1): s1: saved by bob")


def test_assign_gives_segments_to_a_reviewer(store):
    ids = [seg(store, "s1").id, seg(store, "s2").id]
    assert workflow.assign(store, ids, "bob", by="ann") == 2
    mine = store.queue(QueueFilter(assigned_to=("bob",)))
    assert {r.seg_id for r in mine} == {"s1", "s2"}
    assert workflow.assign(store, ids, "  ", by="ann") == 2
    assert store.queue(QueueFilter(assigned_to=("bob",))) == []
    with pytest.raises(UsageError, match="no segment"):
        workflow.assign(store, [], "bob", by="ann")


# -- the HTML of the segment view -------------------------------------------------------------------


def test_markup_in_the_mt_is_text_not_elements(store):
    s5 = seg(store, "s5")
    markup = highlight_html(s5.segment.mt, flag_marks(s5.flags))
    parsed = parse(markup)
    assert {t for t, _ in parsed.tags} <= {"div", "mark", "sup"}
    shown = parse(re.sub(r"<sup[^>]*>.*?</sup>", "", markup)).text
    assert "".join(shown) == XSS_MT  # the browser shows exactly the MT, as text
    assert "<script" not in markup and "<img" not in markup
    # The tooltip carries the evidence, which holds markup too: escaped inside the attribute.
    title = next(a["title"] for t, a in parsed.tags if t == "mark")
    assert "<b onmouseover=alert(2)>evidence</b>" in title
    assert 'onmouseover=alert(2)>' not in markup.replace("&lt;b onmouseover=alert(2)&gt;", "")


def test_quotes_cannot_break_out_of_attributes():
    flag = Flag("c", Severity.MAJOR, Category.OTHER, 'x" onmouseover="alert(1)', Span(0, 3))
    markup = highlight_html("abc", flag_marks([FlagRecord(1, 0, flag)]))
    tags = parse(markup).tags
    mark = next(a for t, a in tags if t == "mark")
    assert set(mark) == {"class", "data-flags", "title", "style"}
    assert 'onmouseover="alert(1)' in mark["title"]


def test_spans_highlight_the_right_text_and_overlaps_split():
    text = "Follow @ LaurentRaphael1 for 3,000 updates."
    marks = [Mark(7, 24, Severity.MAJOR, "handle", 1), Mark(20, 34, Severity.MINOR, "overlap", 2),
             Mark(29, 34, Severity.CRITICAL, "number", 3)]
    markup = highlight_html(text, marks)
    mark = r'<mark class="tq-flag sev-(\w+)(?: multi)?" title="[^"]*" data-flags="([\d,]+)"[^>]*>([^<]*)</mark>'
    pieces = re.findall(mark, markup)
    assert pieces == [("major", "1", "@ LaurentRaph"), ("major", "1,2", "ael1"), ("minor", "2", " for "),
                      ("critical", "2,3", "3,000")]
    assert html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<sup[^>]*>.*?</sup>", "", markup))) == text


def test_dismissed_flags_are_struck_through_and_confirmed_underlined():
    text = "market day"
    dismissed = highlight_html(text, [Mark(0, 6, Severity.MAJOR, "t", 1, Decision.DISMISSED.value)])
    confirmed = highlight_html(text, [Mark(0, 6, Severity.MAJOR, "t", 1, Decision.CONFIRMED.value)])
    assert "line-through" in dismissed and "border-bottom" not in dismissed
    assert "border-bottom" in confirmed and "line-through" not in confirmed


def test_flag_marks_take_one_side_and_number_flags_in_order():
    flags = [FlagRecord(10, 0, Flag("a", Severity.MINOR, Category.OTHER, "m", None)),
             FlagRecord(11, 1, Flag("b", Severity.MAJOR, Category.OMISSION, "m", Span(0, 2, Side.SOURCE))),
             FlagRecord(12, 2, Flag("c", Severity.MAJOR, Category.OTHER, "m", Span(1, 2)))]
    assert [m.number for m in flag_marks(flags, Side.MT)] == [3]
    assert [m.number for m in flag_marks(flags, Side.SOURCE)] == [2]


def test_word_diff_aligns_a_lost_word_of_the_round_trip():
    source = "Il partait en marche chaque matin."
    back = "Il allait au marché chaque matin."
    chunks = word_diff(source, back)
    assert [c.kind for c in chunks] == ["equal", "replace", "equal"]
    assert chunks[1].a == "partait en marche" and chunks[1].b == "allait au marché"
    assert missing_words(source, back) == ["partait", "en", "marche"]
    assert missing_words("He said: yes.", "he said : yes .") == []  # case and spacing do not count
    assert missing_words("a b c", "a c") == ["b"]


def test_diff_html_escapes_both_texts_and_keeps_them_whole():
    source, back = 'Cliquez <script>alert("x")</script> ici', "Click <img src=x onerror=alert(1)> ici"
    markup = diff_html("Source", source, "Back", back)
    tags = {t for t, _ in parse(markup).tags}
    assert tags <= {"div", "span"}
    assert "<script" not in markup and "<img" not in markup

    # Shared words are written once; each side is the shared words plus its own stacked part.
    class Sides(HTMLParser):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.where = [], [], []

        def handle_starttag(self, tag, attrs):
            self.where.append(dict(attrs).get("class", ""))

        def handle_endtag(self, tag):
            if self.where:
                self.where.pop()

        def handle_data(self, data):
            kind = self.where[-1] if self.where else ""
            if kind == "tq-same":
                self.a.append(data), self.b.append(data)
            elif kind == "tq-diff-a":
                self.a.append(data)
            elif kind == "tq-diff-b":
                self.b.append(data)

    sides = Sides()
    sides.feed(markup.split("</div>", 1)[1])  # after the legend
    assert re.sub(r"\s", "", "".join(sides.a)) == re.sub(r"\s", "", source)
    assert re.sub(r"\s", "", "".join(sides.b)) == re.sub(r"\s", "", back)
    assert '<span class="tq-same">ici</span>' in markup and "tq-diff-pair" in markup


def _reading(markup: str, *, skip: str) -> str:
    """The text a browser shows for a tracked-changes block, leaving out the ``skip`` elements
    (white space collapsed, as HTML shows it)."""
    body = markup.split("</div>", 1)[1]  # after the legend
    body = re.sub(rf"<{skip}[^>]*>.*?</{skip}>", "", body)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())


@pytest.mark.parametrize(("base", "other", "expected"), [
    ("Il partait en marche chaque matin.", "Il allait au marché chaque matin.",
     [("same", "Il "), ("del", "partait en marche "), ("ins", "allait au marché "), ("same", "chaque "),
      ("same", "matin"), ("same", ".")]),
    ("Send them back in return.", "Send them back in return.",
     [("same", "Send "), ("same", "them "), ("same", "back "), ("same", "in "), ("same", "return"),
      ("same", ".")]),
    ("a b c", "a c", [("same", "a "), ("del", "b "), ("same", "c")]),
    ("a c", "A b c", [("same", "A "), ("ins", "b "), ("same", "c")]),  # case does not count; other's spelling
    ("", "New words", [("ins", "New words")]),
    ("Old words", "", [("del", "Old words")]),
])
def test_tracked_changes_reads_other_as_an_edit_of_base(base, other, expected):
    assert tracked_changes(base, other) == expected


def test_tracked_html_reads_as_the_engine_sentence_with_the_base_struck_through():
    source = "Il partait en marche chaque matin."
    back = "Il allait au marché chaque matin."
    markup = tracked_html("Back-translation", source, back, base_label="source")
    assert _reading(markup, skip="del") == back  # without the struck words: the back-translation
    assert _reading(markup, skip="ins") == source  # without the inserted ones: the source
    assert "1 difference from the source" in markup
    assert '<del class="tq-del"' in markup and '<ins class="tq-ins"' in markup
    same = tracked_html("Reference model", "He walked.", "He walked.", base_label="MT")
    assert "the same words as the MT" in same and "tq-del" not in same and "tq-ins" not in same


def test_tracked_html_never_glues_a_change_to_the_word_before_or_after():
    mt = "They marched through Mexico on Wednesday, towards the market."
    ref = "They marched through Mexico, towards the march."
    markup = tracked_html("Reference model", mt, ref, base_label="MT")
    everything = html.unescape(re.sub(r"<[^>]+>", "", markup.split("</div>", 1)[1]))
    assert everything == "They marched through Mexico on Wednesday, towards the market march."
    assert _reading(markup, skip="del") == ref and _reading(markup, skip="ins") == mt


def test_tracked_html_escapes_text_and_labels():
    base = 'Cliquez <script>alert(1)</script> ici'
    other = 'Click "><img src=x onerror=alert(1)> here'
    markup = tracked_html('"><img src=x onerror=alert(1)>', base, other, base_label="<script>alert(1)</script>")
    tags = {t for t, _ in parse(markup).tags}
    assert tags <= {"div", "b", "del", "ins"}
    assert "<script" not in markup and "<img" not in markup
    assert _reading(markup, skip="del") == other and _reading(markup, skip="ins") == base


def test_sentence_html_shows_a_neighbour_escaped_with_its_flags(store):
    s5 = seg(store, "s5")
    markup = sentence_html(s5, caption='Sentence before "><img src=x onerror=alert(1)>')
    assert "<script" not in markup and "<img" not in markup
    tags = {t for t, _ in parse(markup).tags}
    assert tags <= {"div", "mark", "sup"}
    text = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<sup[^>]*>.*?</sup>", "", markup)))
    assert XSS_MT in text and s5.segment.source in text and "1 flag" in text
    s4 = seg(store, "s4")
    plain = sentence_html(s4, caption="Sentence after", muted=True)
    assert "no flags" in plain and "<mark" not in plain and "opacity" in plain
    s1 = workflow.fix(store, seg(store, "s1"), "He walked every morning.", reviewer="ann")
    fixed = sentence_html(s1, caption="x")
    assert "He walked every morning." in fixed and "corrected" in fixed and "<mark" not in fixed


# -- dashboard numbers ------------------------------------------------------------------------------


def test_precision_in_practice_per_check(store):
    s2, s1 = seg(store, "s2"), seg(store, "s1")
    workflow.confirm(store, s2, s2.flags[0].id, reviewer="ann")
    s2 = seg(store, "s2")
    workflow.dismiss(store, s2, s2.flags[1].id, reviewer="ann")
    workflow.dismiss(store, s1, s1.flags[0].id, reviewer="ann")
    flags = dashboard.flag_frame(store)
    table = dashboard.precision_frame(flags).set_index("check")
    assert table.loc["forced_decoding", ["confirmed", "dismissed", "precision"]].tolist() == [1, 0, 1.0]
    assert table.loc["punctuation", ["confirmed", "dismissed", "precision"]].tolist() == [0, 1, 0.0]
    assert table.loc["roundtrip", "precision"] == 0.0
    assert table.loc["handles", "undecided"] == 1 and table["precision"].isna()["handles"]


def test_flags_over_time_and_by_dimension(store):
    later = store.start_run(signature("2025-03-01T09:00:00+00:00"), name="march", feed="other feed")
    store.add_results(later, results()[:2])
    flags = dashboard.flag_frame(store)
    by_date = dashboard.over_time(flags, "severity")
    assert by_date[by_date["date"] == "2025-03-01"].set_index("severity")["flags"].to_dict() == {
        "critical": 1, "major": 1, "minor": 1}
    by_feed = dashboard.by_dimension(flags, "feed").groupby("feed")["flags"].sum().to_dict()
    assert by_feed == {"caravan": 7, "other feed": 3}
    by_engine = dashboard.by_dimension(flags, "engine", "category")
    assert set(by_engine["engines"]) == {"back_translator=apertium"}
    assert dashboard.csv_bytes(by_date).startswith(b"date,severity,flags\n")


def test_risk_distribution(store):
    risk = dashboard.risk_frame(store, bins=10)
    assert risk["segments"].sum() == 5
    assert risk.set_index("risk_low")["segments"].to_dict() == pytest.approx(
        {0.0: 1, 0.4: 1, 0.5: 1, 0.8: 1, 0.9: 1})
