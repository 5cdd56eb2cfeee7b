"""Queue: what needs a reviewer, most likely errors first (expected error: the segment risk and the
measured precision of its flags), filtered by run, language pair, severity, category, review status
and free text. Hints (findings below the display floor) are left out unless asked for. Keys: O opens
the selected (or first) segment, J / K page through."""

from __future__ import annotations

import streamlit as st

from tqcheck.store import QueueFilter
from tqcheck.ui.common import DEFAULT_STATUSES, get_store, open_segment, show_notice

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
    return store.facets(run_ids)


current: QueueFilter = st.session_state["queue_filter"]

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
    c7, c8, c9 = st.columns([3, 1, 1])
    text = c7.text_input("Search source, MT and corrections", value=current.text, key="q_text")
    flagged_only = c8.checkbox("Flagged segments only", value=current.flagged_only, key="q_flagged")
    include_hints = c9.checkbox("Show hints", value=current.include_hints, key="q_hints",
                                help="Hints are findings that are right less often than not on human labels: "
                                     "kept, but out of the default queue.")

chosen = QueueFilter(run_ids=tuple(run_ids), lang_pairs=tuple(lang_pairs),
                     severities=tuple(severities), categories=tuple(categories), checks=tuple(checks),
                     statuses=tuple(statuses), text=text, flagged_only=flagged_only,
                     include_hints=include_hints)
if chosen != current:
    st.session_state["queue_filter"] = chosen
    st.session_state["queue_offset"] = 0

total = store.queue_count(chosen)
offset = min(st.session_state["queue_offset"], max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE))
rows = store.queue(chosen, limit=PAGE_SIZE, offset=offset)

if chosen.statuses == DEFAULT_STATUSES and total == 0:
    st.success("Nothing left to review with these filters.")

nav = st.columns([1, 1, 1, 3])
if nav[0].button("Review first", key="q_start", shortcut="O", disabled=not rows, type="primary",
                 help="Open the first segment of the queue, the most likely error (O)"):
    open_segment(rows[0].id)
if nav[1].button("Previous 50", key="q_prev", shortcut="K", disabled=offset == 0):
    st.session_state["queue_offset"] = max(0, offset - PAGE_SIZE)
    st.rerun()
if nav[2].button("Next 50", key="q_next", shortcut="J", disabled=offset + PAGE_SIZE >= total):
    st.session_state["queue_offset"] = offset + PAGE_SIZE
    st.rerun()
nav[3].caption(f"{total} segments; showing {offset + 1 if rows else 0}–{offset + len(rows)}, "
               "most likely errors first")

if rows:
    import pandas as pd

    table = pd.DataFrame([{
        "segment": r.seg_id, "run": r.run_id, "pair": r.lang_pair,
        "expected error": r.priority, "risk": r.risk, "worst": r.worst_severity or "", "flags": r.n_flags,
        "status": r.status.value, "edited": r.edited, "MT": r.mt,
    } for r in rows])
    event = st.dataframe(
        table, key="q_table", hide_index=True, on_select="rerun", selection_mode="single-row",
        width="stretch",
        column_config={"expected error": st.column_config.ProgressColumn(
                           "expected error", min_value=0.0, max_value=1.0, format="%.2f",
                           help="The queue's order: the segment risk and its flags' measured precision"),
                       "risk": st.column_config.NumberColumn("risk", format="%.2f",
                                                             help="Chance of a major error in the sentence"),
                       "MT": st.column_config.TextColumn("MT", width="large")},
    )
    selected = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if selected:
        open_segment(rows[selected[0]].id)
    picked = st.selectbox("Open a segment", options=[r.id for r in rows], key="q_pick",
                          format_func=lambda i: next(f"{r.seg_id} · {r.mt[:80]}" for r in rows if r.id == i))
    if st.button("Open", key="q_open"):
        open_segment(picked)
