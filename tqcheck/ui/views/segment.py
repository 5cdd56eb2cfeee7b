"""Segment: the source and the MT between the sentences around them, the MT's flagged spans, what
the engines say (as one sentence with the differences marked, the word alignment behind an
expander), the scores; confirm, dismiss, correct and comment, each saved the moment it is made.

Keys: Y confirm and N dismiss the first undecided flag; D every open flag is a false alarm, E every
open flag is an error; U takes the latest decision back (Streamlit keeps C and R for itself); J next,
K previous, B back to the segment left by moving on, A the article, Q the queue. Once every flag is
decided the page moves on to the next segment of the queue nobody else has open (a setting, on by
default).

Why the keys are callbacks (``on_click``): the action runs before the script does, so a key costs
one run of the page; a button tested with ``if st.button(...)`` and followed by ``st.rerun()`` cost
two, and ``st.switch_page`` to this same page a third, with the browser redrawing the page each
time. All feed text is rendered escaped (``tqcheck.review.render``) or as plain text widgets.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import streamlit as st

from tqcheck.errors import TqcheckError
from tqcheck.model import Side
from tqcheck.review import workflow
from tqcheck.review.render import (
    diff_html,
    esc,
    flag_marks,
    highlight_html,
    plain_html,
    sentence_html,
    tracked_html,
)
from tqcheck.store import SegmentConflict, SegmentRecord
from tqcheck.ui.common import (
    PAGE_FILES,
    get_store,
    guarded,
    md_escape,
    notice,
    open_article,
    reviewer,
    show_notice,
)

store = get_store()
queue_filter = st.session_state["queue_filter"]
name = reviewer()

segment_id = st.session_state.get("segment_id")
if segment_id is None:
    segment_id = (workflow.next_to_review(store, queue_filter, name) if name
                  else workflow.first(store, queue_filter))
    st.session_state["segment_id"] = segment_id
if segment_id is None:
    st.title("Segment")
    st.info("No segment to show: the queue is empty with its current filters.")
    if st.button("Back to the queue", key="s_queue_empty"):
        st.switch_page(PAGE_FILES["queue"])
    st.stop()

try:
    record: SegmentRecord = store.segment(segment_id)
except TqcheckError as exc:
    st.session_state["segment_id"] = None
    st.error(str(exc))
    st.stop()

# The version this reviewer has seen: set when the segment is opened and after each of their own
# saves, not on every rerun, so that a save made by someone else in between is a conflict to
# resolve rather than something a rerun silently shows (and a draft silently loses).
seen = st.session_state.get("seen_version")
if not seen or seen[0] != record.id:
    seen = (record.id, record.version)
    st.session_state["seen_version"] = seen
    # Opening a segment holds it for this reviewer, so that "next" hands it to nobody else.
    now = _dt.datetime.now(_dt.UTC)
    if name and record.holder(now) != name:
        guarded(partial(store.claim, record.id, name))
        record = store.segment(record.id)
seen_version = seen[1]


def _saw(saved: SegmentRecord) -> None:
    st.session_state["seen_version"] = (saved.id, saved.version)


def _show(target: int | None, *, came_from: int | None = None) -> None:
    """Callback: show another segment on this page (no page switch, so one run)."""
    if target is None:
        return
    st.session_state["segment_id"] = target
    st.session_state["seen_version"] = None
    st.session_state["conflict"] = None
    st.session_state["came_from"] = came_from


def _advance(saved: SegmentRecord) -> None:
    """Every flag is decided: on to the next segment of the queue that nobody else has open."""
    target = workflow.next_to_review(store, queue_filter, name, after=saved.id)
    if target is None:
        notice(f"Every flag of {saved.segment.id} is decided, and nothing else in this queue is "
               "left to review.")
        return
    _show(target, came_from=saved.id)
    notice(f"Every flag of {saved.segment.id} is decided: on to the next segment (B goes back).")


def save(action: Callable[..., SegmentRecord], *args: Any, **kwargs: Any) -> SegmentRecord | None:
    """Run a workflow action now, based on the version the reviewer saw; keep a conflict."""
    if not name:
        notice("Enter your name in the sidebar first: every decision is saved with it.", "warning")
        return None
    try:
        saved = action(store, replace(record, version=seen_version), *args, reviewer=name, **kwargs)
    except SegmentConflict as conflict:
        st.session_state["conflict"] = conflict
        return None
    except TqcheckError as exc:
        notice(str(exc), "error")
        return None
    _saw(saved)
    return saved


def undo(action: Callable[..., SegmentRecord], *args: Any) -> None:
    """Callback of a reopen key: save, and stay (taking a decision back never moves on)."""
    save(action, *args)


def decide(action: Callable[..., SegmentRecord], *args: Any) -> None:
    """Callback of a decision key: save; move on if this save decided the last open flag."""
    saved = save(action, *args)
    if saved is not None and st.session_state.get("auto_advance", True) and workflow.finished_by(record, saved):
        _advance(saved)


# -- header and navigation ----------------------------------------------------------------------------

segment = record.segment
risk = f"risk {record.risk:.2f}" if record.risk is not None else "no calibrated risk"
st.html(f'<h2 style="margin-bottom:0;">Segment {esc(segment.id)}</h2>'
        f'<div style="color:#868e96;">run {record.run_id} · '
        f'document {esc(segment.doc_id if segment.doc_id is not None else "—")} · '
        f'{esc(segment.language_pair)} · {risk} · status: {esc(record.status.value)} · version {record.version}'
        + (f" · assigned to {esc(record.assigned_to)}" if record.assigned_to else "")
        + (f" · last saved by {esc(record.updated_by)}" if record.updated_by else "") + "</div>")
show_notice()
holder = record.holder(_dt.datetime.now(_dt.UTC))
if holder and holder != name:
    st.info(md_escape(f"{holder} has this segment open (until {record.claimed_until:%H:%M} UTC): "
                      "your saves may conflict with theirs."))

position = workflow.position(store, queue_filter, record.id)
came_from = st.session_state.get("came_from")
nav = st.columns([1, 1, 1, 1, 1, 2])
nav[0].button("Previous", key="s_prev", shortcut="K", disabled=position.previous is None,
              icon=":material/arrow_back:", help="Previous segment of the queue (K)",
              on_click=_show, args=(position.previous,))
nav[1].button("Next", key="s_next", shortcut="J", disabled=position.next is None,
              icon=":material/arrow_forward:", help="Next segment of the queue (J)",
              on_click=_show, args=(position.next,))
nav[2].button("Back", key="s_back", shortcut="B", disabled=came_from is None, icon=":material/undo:",
              help="Back to the segment you just finished (B)", on_click=_show, args=(came_from,))
if nav[3].button("Article", key="s_article", shortcut="A",
                 help="This segment's document, every sentence in order (A)"):
    open_article(record.run_id, segment.doc_id)
if nav[4].button("Queue", key="s_queue", shortcut="Q", help="Back to the queue (Q)"):
    st.switch_page(PAGE_FILES["queue"])
if not name:
    nav[5].warning("Enter your name in the sidebar to save decisions.")

# -- a conflict with another reviewer -----------------------------------------------------------------

conflict: SegmentConflict | None = st.session_state.get("conflict")
if conflict is not None and conflict.theirs.id == record.id:
    with st.container(border=True):
        st.warning("Not saved: another reviewer saved this segment after you opened it. "
                   "Look at both changes and choose.")
        st.text(str(conflict))
        left, right = st.columns(2)
        with left:
            st.markdown("**Their changes**")
            for change in conflict.their_changes:
                st.text(f"{change.reviewer} · {change.action.value} · {change.created_at:%H:%M:%S}"
                        + (f"\ncomment: {change.comment}" if change.comment else "")
                        + (f"\ntarget: {change.edited_target}" if change.edited_target else ""))
        with right:
            mine = conflict.yours
            st.markdown("**Yours (not saved)**")
            st.text(f"{mine.reviewer} · {mine.action.value}"
                    + (f"\ncomment: {mine.comment}" if mine.comment else "")
                    + (f"\ntarget: {mine.edited_target}" if mine.edited_target else ""))
        b1, b2 = st.columns(2)
        if b1.button("Keep theirs", key="s_keep_theirs"):
            _saw(workflow.keep_theirs(conflict))
            st.session_state["conflict"] = None
            st.rerun()
        if b2.button("Save mine over theirs", key="s_apply_mine", type="primary"):
            saved = guarded(partial(workflow.apply_mine, store, conflict))
            if saved is not None:
                _saw(saved)
                notice("Saved your change over theirs.")
            st.session_state["conflict"] = None
            st.rerun()
elif record.version != seen_version:
    st.info(md_escape(f"Saved by {record.updated_by or 'another reviewer'} since you opened it "
                      "(shown below); your next save will ask you to choose."))

# -- the texts, between their neighbours ----------------------------------------------------------------

hints = [f for f in record.flags if f.flag.hint]
show_hints = bool(hints) and st.toggle(f"Show {len(hints)} hint(s)", key=f"s_hints_{record.id}",
                                       value=st.session_state["queue_filter"].include_hints,
                                       help="Hints are findings right less often than not on human labels")
visible = [f for f in record.flags if show_hints or not f.flag.hint]
before, after = store.context(record.id, before=1, after=1)

for neighbour in before:
    st.html(sentence_html(neighbour, caption="Sentence before", muted=True))

st.subheader("Source")
if segment.source is not None:
    st.html(highlight_html(segment.source, flag_marks(visible, Side.SOURCE)))
else:
    st.caption("No source (target-only check).")

st.subheader("Machine translation")
st.html(highlight_html(segment.mt, flag_marks(visible, Side.MT)))
if record.edited_target is not None:
    st.markdown("**Corrected target**")
    st.html(highlight_html(record.edited_target, []))

for neighbour in after:
    st.html(sentence_html(neighbour, caption="Sentence after", muted=True))
if not before and not after:
    st.caption("No other sentence of this document in the store.")

back = record.artifacts.get("back_translation")
round_trip = record.artifacts.get("round_trip_target")  # target only: MT -> source language -> MT
pseudo = record.artifacts.get("pseudo_reference")
if back or pseudo or segment.reference:
    st.subheader("What the engines say")
    # Each engine's wording as one sentence, marked against what it should match, like track
    # changes; the word-by-word alignment is the detail, one click away.
    if back and segment.source is not None:
        st.html(tracked_html("Back-translation", segment.source, back, base_label="source"))
    elif back:
        st.html(plain_html("Back-translation (into the source language)", back))
        if round_trip:
            st.html(tracked_html("Round trip (MT, into the source language and back)", segment.mt,
                                 round_trip, base_label="MT"))
    if pseudo:
        st.html(tracked_html("Reference model", segment.mt, pseudo, base_label="MT"))
    if segment.reference:
        st.html(tracked_html("Human reference", segment.mt, segment.reference, base_label="MT"))
    with st.expander("Word by word"):
        if back and segment.source is not None:
            st.html(diff_html("Source", segment.source, "Back-translation", back))
        elif back and round_trip:
            st.html(diff_html("MT", segment.mt, "Round trip", round_trip))
        if pseudo:
            st.html(diff_html("MT", segment.mt, "Reference model", pseudo))
        if segment.reference:
            st.html(diff_html("MT", segment.mt, "Human reference", segment.reference))

# -- flags and decisions ------------------------------------------------------------------------------

shown_count = len(record.flags) - len(hints)
st.subheader(f"Flags ({shown_count})" + (f" and {len(hints)} hint(s)" if show_hints else ""))
open_now = workflow.open_flag_ids(record)
bar = st.columns([1, 1, 1, 2])
bar[0].button("All false alarms", key="s_dismiss_all", shortcut="D", disabled=not open_now,
              type="primary", icon=":material/done_all:",
              help=f"Dismiss the {len(open_now)} open flag(s) of this segment in one save (D)",
              on_click=decide, args=(workflow.dismiss_all,))
bar[1].button("All errors", key="s_confirm_all", shortcut="E", disabled=not open_now,
              icon=":material/report:",
              help=f"Confirm the {len(open_now)} open flag(s) of this segment in one save (E)",
              on_click=decide, args=(workflow.confirm_all,))
bar[2].button("Reopen last", key="s_reopen_last", shortcut="U", disabled=not workflow.last_decided(record),
              icon=":material/history:", help="Take back the latest decision on this segment (U)",
              on_click=undo, args=(workflow.reopen_last,))
auto = bar[3].toggle("Move on when every flag is decided", key="s_auto",
                     value=st.session_state["auto_advance"],
                     help="Open the next segment of the queue that nobody else has open as soon as "
                          "this one's last flag is decided")
st.session_state["auto_advance"] = auto

next_flag = workflow.next_undecided(record)
for number, flag_record in enumerate(record.flags, start=1):
    flag = flag_record.flag
    if flag.hint and not show_hints:
        continue
    with st.container(border=True):
        head, buttons = st.columns([3, 2])
        decision = flag_record.decision.value if flag_record.decision else "undecided"
        where = f" · “{flag.span.text_in(segment)}”" if flag.span else " · whole segment"
        label = "hint" if flag.hint else flag.severity.value
        head.html(
            f'<div><b>{number}. {esc(label)}</b> · {esc(flag.category.value)} · '
            f'<code>{esc(flag.check)}</code>{esc(where)}<br>{esc(flag.message)}'
            f'<br><span style="color:#868e96;">{esc(workflow.likelihood(flag))} · {esc(decision)}'
            + (f" by {esc(flag_record.decided_by)}" if flag_record.decided_by else "") + "</span></div>")
        b1, b2, b3 = buttons.columns(3)
        is_next = flag_record.id == next_flag
        b1.button("Confirm", key=f"s_confirm_{flag_record.id}", shortcut="Y" if is_next else None,
                  disabled=decision == "confirmed", help="A real error" + (" (Y)" if is_next else ""),
                  on_click=decide, args=(workflow.confirm, flag_record.id))
        b2.button("Dismiss", key=f"s_dismiss_{flag_record.id}", shortcut="N" if is_next else None,
                  disabled=decision == "dismissed", help="A false alarm" + (" (N)" if is_next else ""),
                  on_click=decide, args=(workflow.dismiss, flag_record.id))
        b3.button("Reopen", key=f"s_reopen_{flag_record.id}", disabled=flag_record.decision is None,
                  help="Take the decision back", on_click=undo, args=(workflow.reopen, flag_record.id))
        if flag.evidence.get("reads_better"):  # the homograph test: the sentence it reads better as
            st.html(tracked_html("Reads better as", segment.mt, str(flag.evidence["reads_better"]),
                                 base_label="MT"))
        if flag.evidence:
            with st.expander("Evidence"):
                st.json(dict(flag.evidence))

# -- correction and comments --------------------------------------------------------------------------

st.subheader("Correct the target")
edited = st.text_area("Target", value=record.target, key=f"s_edit_{record.id}_{seen_version}",
                      height=100, label_visibility="collapsed")
if st.button("Save correction", key="s_save_fix", type="primary",
             help="Save the corrected target; the MT stays as it was, for the record"):
    save(workflow.fix, edited)
    st.rerun()

comment_text = st.text_input("Comment", key=f"s_comment_{record.id}_{seen_version}",
                             placeholder="a note for the next reader")
if st.button("Add comment", key="s_add_comment"):
    save(workflow.comment, comment_text)
    st.rerun()

if record.scores:
    st.subheader("Scores")
    st.dataframe([{"score": k, "value": v} for k, v in sorted(record.scores.items())],
                 hide_index=True)

if record.reviews:
    st.subheader("History")
    st.dataframe([{
        "when": r.created_at.strftime("%Y-%m-%d %H:%M:%S"), "who": r.reviewer,
        "action": r.action.value,
        "flag": next((i for i, f in enumerate(record.flags, 1) if f.id == r.flag_id), None),
        "comment": r.comment or "", "target": r.edited_target or "", "version": r.segment_version,
    } for r in record.reviews], hide_index=True)

st.text(f"origin: {segment.origin or '—'} · document: {segment.doc_id or '—'}")
