"""Queue: what needs a reviewer, most likely errors first (expected error: the segment risk and the
measured precision of its flags) or in article order, filtered by run, document, language pair,
severity, category, check, review status, free text and "my queue" (assigned to me). Hints (findings
below the display floor) are left out unless asked for. Keys: O opens the next segment to review,
J / K page through.

Bulk actions decide every open flag the filters match (say, every spelling flag in one document),
or those of the rows picked in the table, in one go; assign segments to a reviewer; and undo the
reviewer's last bulk action. What they did is said in a sentence, with each segment left alone and
why (someone saved it since, or has it open). The bulk panel reads the flags only while it is open:
the queue's own rerun stays two small queries.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import partial

import streamlit as st

from tqcheck.review import workflow
from tqcheck.store import QueueFilter
from tqcheck.store.records import QUEUE_ORDERS, BulkResult
from tqcheck.ui.common import (
    DEFAULT_STATUSES,
    get_store,
    guarded,
    md_escape,
    notice,
    open_article,
    open_segment,
    reviewer,
    show_notice,
)

PAGE_SIZE = 50

store = get_store()
st.title("Queue")
show_notice()

runs = store.runs()
if not runs:
    st.info("The store is empty. Import a report (`tqcheck import report.jsonl`) or check a file "
            "on the *Check a file* page.")
    st.stop()

labels = {r.id: r.label for r in runs}


@st.cache_data(ttl=60, show_spinner=False)
def facets(url: str, run_ids: tuple[int, ...]) -> dict[str, list[str]]:
    # The filter choices change only when runs arrive: a minute's cache spares a scan of the flags.
    found = store.facets(run_ids)
    found["documents"] = sorted({d.doc_id for d in store.documents(run_ids) if d.doc_id is not None})
    return found


current: QueueFilter = st.session_state["queue_filter"]
name = reviewer()

with st.container(border=True):
    c1, c2, c3 = st.columns([2, 1, 1])
    run_ids = c1.multiselect("Runs", options=list(labels), format_func=labels.__getitem__,
                             default=[r for r in current.run_ids if r in labels], key="q_runs",
                             placeholder="all runs")
    choices = facets(store.url, tuple(run_ids))
    lang_pairs = c2.multiselect("Language pair", choices["lang_pairs"], key="q_pairs",
                                default=[p for p in current.lang_pairs if p in choices["lang_pairs"]],
                                placeholder="all")
    statuses = c3.multiselect("Review status", choices["statuses"], key="q_status",
                              default=list(current.statuses), placeholder="all")
    c4, c5, c6 = st.columns([1, 2, 1])
    severities = c4.multiselect("Severity", choices["severities"], key="q_sev",
                                default=list(current.severities), placeholder="all")
    categories = c5.multiselect("Category", choices["categories"], key="q_cat",
                                default=[c for c in current.categories if c in choices["categories"]],
                                placeholder="all")
    checks = c6.multiselect("Check", choices["checks"], key="q_checks",
                            default=[c for c in current.checks if c in choices["checks"]],
                            placeholder="all")
    c10, c11, c12 = st.columns([2, 1, 1])
    doc_ids = c10.multiselect("Document", choices["documents"], key="q_docs",
                              default=[d for d in current.doc_ids if d in choices["documents"]],
                              placeholder="all documents")
    order = c11.radio("Order", QUEUE_ORDERS, index=QUEUE_ORDERS.index(current.order), key="q_order",
                      horizontal=True, format_func={"priority": "likely errors first",
                                                    "article": "article order"}.__getitem__,
                      help="Article order: each run's segments as they came in, so that a document "
                           "reads top to bottom")
    mine = c12.checkbox("My queue", value=bool(name) and current.assigned_to == (name,), key="q_mine",
                        disabled=not name, help="Only the segments assigned to you")
    c7, c8, c9 = st.columns([3, 1, 1])
    text = c7.text_input("Search source, MT and corrections", value=current.text, key="q_text")
    flagged_only = c8.checkbox("Flagged segments only", value=current.flagged_only, key="q_flagged")
    include_hints = c9.checkbox("Show hints", value=current.include_hints, key="q_hints",
                                help="Hints are findings that are right less often than not on human labels: "
                                     "kept, but out of the default queue.")

chosen = QueueFilter(run_ids=tuple(run_ids), lang_pairs=tuple(lang_pairs),
                     severities=tuple(severities), categories=tuple(categories), checks=tuple(checks),
                     statuses=tuple(statuses), text=text, flagged_only=flagged_only,
                     include_hints=include_hints, doc_ids=tuple(doc_ids),
                     assigned_to=(name,) if mine and name else (), order=order)
if chosen != current:
    st.session_state["queue_filter"] = chosen
    st.session_state["queue_offset"] = 0

total = store.queue_count(chosen)
offset = min(st.session_state["queue_offset"], max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE))
rows = store.queue(chosen, limit=PAGE_SIZE, offset=offset)

if chosen.statuses == DEFAULT_STATUSES and total == 0:
    st.success("Nothing left to review with these filters.")


def _page(to: int) -> None:
    """Callback of J / K: the page of rows to show, set before the script runs (one run a key)."""
    st.session_state["queue_offset"] = to


nav = st.columns([1, 1, 1, 1, 2])
if nav[0].button("Review", key="q_start", shortcut="O", disabled=not rows, type="primary",
                 help="Open the first segment of the queue still to review that nobody else has "
                      "open, and move on from there (O)"):
    # A page switch cannot be a callback: callbacks run before st.navigation has registered the pages.
    target = workflow.next_to_review(store, chosen, name) if name else None
    open_segment(target if target is not None else rows[0].id)
nav[1].button("Previous 50", key="q_prev", shortcut="K", disabled=offset == 0, on_click=_page,
              args=(max(0, offset - PAGE_SIZE),))
nav[2].button("Next 50", key="q_next", shortcut="J", disabled=offset + PAGE_SIZE >= total, on_click=_page,
              args=(offset + PAGE_SIZE,))
order_words = "most likely errors first" if chosen.order == "priority" else "in article order"
nav[4].caption(f"{total} segments; showing {offset + 1 if rows else 0}–{offset + len(rows)}, {order_words}")

picked_ids: list[int] = []
if rows:
    import pandas as pd

    table = pd.DataFrame([{
        "segment": r.seg_id, "document": r.doc_id or "", "run": r.run_id, "pair": r.lang_pair,
        "expected error": r.priority, "risk": r.risk, "worst": r.worst_severity or "", "flags": r.n_flags,
        "status": r.status.value, "assigned": r.assigned_to or "", "open by": r.claimed_by or "",
        "edited": r.edited, "MT": r.mt,
    } for r in rows])
    # Picked rows are positions in this page of this filter: a key of its own per page and filter,
    # so that a pick never carries over to other rows (and a bulk action to segments nobody picked).
    table_key = f"q_table_{zlib.crc32(repr((chosen, offset)).encode()):08x}"
    event = st.dataframe(
        table, key=table_key, hide_index=True, on_select="rerun", selection_mode="multi-row",
        width="stretch",
        column_config={"expected error": st.column_config.ProgressColumn(
                           "expected error", min_value=0.0, max_value=1.0, format="%.2f",
                           help="The queue's order: the segment risk and its flags' measured precision"),
                       "risk": st.column_config.NumberColumn("risk", format="%.2f",
                                                             help="Chance of a major error in the sentence"),
                       "MT": st.column_config.TextColumn("MT", width="large")},
    )
    selected = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    picked_ids = [rows[i].id for i in selected if 0 <= i < len(rows)]
    first_pick = next((r for r in rows if r.id in picked_ids), rows[0])
    if nav[3].button("Article", key="q_article",
                     help="The document of the first picked row (or of the first row), every "
                          "sentence in order"):
        open_article(first_pick.run_id, first_pick.doc_id)
    pick_col, open_col = st.columns([5, 1], vertical_alignment="bottom")
    picked = pick_col.selectbox("Open a segment", options=[r.id for r in rows], key="q_pick",
                                format_func=lambda i: next(f"{r.seg_id} · {r.mt[:80]}" for r in rows if r.id == i))
    if open_col.button("Open", key="q_open"):
        open_segment(picked)

# -- bulk actions ---------------------------------------------------------------------------------------


def _bulk(action: Callable[[], BulkResult]) -> None:
    """Callback of a bulk button: it runs with the selection the reviewer was shown (bound when the
    button was drawn), so that a segment saved since is reported as left alone, not decided over."""
    result = guarded(action)
    if result is not None:
        notice(workflow.bulk_message(result), "warning" if result.conflicts else "success")


def _assign(queue_filter: QueueFilter, picked: list[int] | None, count: int, by: str) -> None:
    """Callback of the assign button: the picked rows, or every segment the filters show (read
    here, on the click, not on every rerun of the page)."""
    to = str(st.session_state.get("q_assign_to") or "")
    ids = picked if picked is not None else [r.id for r in store.queue(queue_filter, limit=max(count, 1))]
    changed = guarded(lambda: workflow.assign(store, ids, to, by=by))
    if changed is not None:
        notice(f"{changed} segment(s) assigned to {to.strip() or 'nobody'}.")


if st.toggle("Bulk actions", key="q_bulk",
             help="Decide or assign many flags at once: every open flag the filters match, or the rows "
                  "picked in the table"):
    with st.container(border=True):
        scope = st.radio("Apply to", ["filters", "rows"], key="q_bulk_scope", horizontal=True,
                         format_func={"filters": "every open flag the filters match (check, category, "
                                                 "severity, document, ...)",
                                      "rows": f"the {len(picked_ids)} row(s) picked in the table"}.__getitem__)
        by_rows = scope == "rows"
        selection = workflow.select_flags(store, chosen, picked_ids if by_rows else None)
        st.markdown(f"**{len(selection)} open flag(s) in {len(selection.segment_ids)} segment(s)** selected.")
        b1, b2, b3 = st.columns(3)
        b1.button(f"Dismiss {len(selection)} flag(s)", key="q_bulk_dismiss", disabled=not selection or not name,
                  help="Every selected flag is a false alarm", on_click=_bulk,
                  args=(partial(workflow.bulk_decide, store, selection, reviewer=name, action="dismiss"),))
        b2.button(f"Confirm {len(selection)} flag(s)", key="q_bulk_confirm", disabled=not selection or not name,
                  help="Every selected flag is a real error", on_click=_bulk,
                  args=(partial(workflow.bulk_decide, store, selection, reviewer=name, action="confirm"),))
        last = store.bulk_actions(reviewer=name, limit=1) if name else []
        b3.button("Undo last bulk action", key="q_bulk_undo", disabled=not last or last[0].undone,
                  help="Reopen the flags your last bulk action decided", on_click=_bulk,
                  args=(partial(workflow.undo_last_bulk, store, reviewer=name),))
        if last:
            done = last[0]
            st.caption(md_escape(f"Your last bulk action: {done.action.value} of {done.flags} flag(s) in "
                                 f"{done.segments} segment(s) at {done.created_at:%H:%M} UTC"
                                 + (" (undone)" if done.undone else "")))
        a1, a2 = st.columns([3, 1], vertical_alignment="bottom")
        a1.text_input("Assign to", key="q_assign_to", placeholder="a reviewer's name (empty: nobody)")
        # Assignment is about segments, not open flags: the picked rows, or all the filters show.
        count = len(picked_ids) if by_rows else total
        a2.button(f"Assign {count} segment(s)", key="q_assign", disabled=not name or not count,
                  help="Give these segments to a reviewer: they find them under My queue",
                  on_click=_assign, args=(chosen, picked_ids if by_rows else None, total, name))
        if not name:
            st.caption("Enter your name in the sidebar: bulk actions are saved with it.")
