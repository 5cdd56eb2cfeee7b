"""Article: one document's sentences in input order, the flagged ones highlighted, each opening the
segment page; from here a reviewer works through the article in order, or hands it to someone.

Why: a sentence such as "Mexico! Mexico!" or "Dirty work" cannot be judged without the ones around
it, and an editor reads an article top to bottom, not by risk. Keys: O reviews the article in
order (the next undecided segment nobody else has open), Q goes to the queue. All feed text
(sentences, document ids, reviewer names) is rendered escaped (``tqcheck.review.render``).
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from tqcheck.review import workflow
from tqcheck.review.render import sentence_html
from tqcheck.store.records import DocumentSummary
from tqcheck.ui.common import (
    DEFAULT_STATUSES,
    PAGE_FILES,
    get_store,
    guarded,
    md_escape,
    notice,
    open_segment,
    reviewer,
    show_notice,
)

#: Sentences drawn at once: an article is tens of sentences; a run without documents may be thousands.
LIMIT = 200

store = get_store()
name = reviewer()
st.title("Article")
show_notice()


@st.cache_data(ttl=10, show_spinner=False)
def documents(url: str) -> list[DocumentSummary]:
    # The list changes only when runs arrive or reviews land: ten seconds spare a group-by per rerun.
    return store.documents()


docs = documents(store.url)
if not docs:
    st.info("The store is empty. Import a report (`tqcheck import report.jsonl`) or check a file "
            "on the *Check a file* page.")
    st.stop()

keys = [(d.run_id, d.doc_id) for d in docs]
by_key = dict(zip(keys, docs))
current = st.session_state.get("article")
if current not in by_key:
    current = next((k for k, d in by_key.items() if d.to_review), keys[0])


def _label(key: tuple[int, str | None]) -> str:
    d = by_key[key]
    return f"{d.label} · {d.segments} sentences, {d.flagged} flagged, {d.to_review} to review"


chosen = st.selectbox("Document", keys, index=keys.index(current), format_func=_label, key="a_doc")
st.session_state["article"] = chosen
run_id, doc_id = chosen
summary = by_key[chosen]

in_order = replace(st.session_state["queue_filter"], run_ids=(run_id,),
                   doc_ids=(doc_id,) if doc_id is not None else (), order="article",
                   statuses=DEFAULT_STATUSES, assigned_to=())

# Read fresh (the document list is cached for seconds): whether anything is left to review now.
records = store.article(run_id, doc_id)
to_review = sum(1 for r in records if r.open_flags())

top = st.columns([1, 1, 2])
if top[0].button("Review in order", key="a_review", shortcut="O", type="primary", disabled=not to_review,
                 help="Open this article's first segment still to review, and move on in article "
                      "order as each is decided (O)"):
    st.session_state["queue_filter"] = in_order
    target = (workflow.next_to_review(store, in_order, name) if name
              else workflow.first(store, in_order))
    if target is None:
        notice("Nothing in this article is left to review.")
        st.rerun()
    open_segment(target)
if top[1].button("In the queue", key="a_queue", shortcut="Q",
                 help="The queue, filtered to this article, in article order (Q)"):
    st.session_state["queue_filter"] = in_order
    st.session_state["queue_offset"] = 0
    st.switch_page(PAGE_FILES["queue"])

with top[2].popover("Assign this article", icon=":material/person_add:"):
    to = st.text_input("Reviewer", key="a_assign_to", placeholder="a reviewer's name (empty: nobody)")
    if st.button("Assign", key="a_assign"):
        if not name:
            notice("Enter your name in the sidebar first: an assignment says who made it.", "warning")
        else:
            changed = guarded(lambda: workflow.assign(store, [r.id for r in records], to, by=name))
            if changed is not None:
                notice(f"{changed} sentences of {summary.label} assigned to {to.strip() or 'nobody'}.")
        st.rerun()

assigned = sorted({r.assigned_to for r in records if r.assigned_to})
if assigned:
    st.caption(md_escape("Assigned to " + ", ".join(assigned)))

flagged_only = st.toggle("Flagged sentences only", key="a_flagged", value=False)
shown = [r for r in records if not flagged_only or any(not f.flag.hint for f in r.flags)]
if len(shown) > LIMIT:
    st.caption(f"The first {LIMIT} of {len(shown)} sentences; filter the queue by this document for the rest.")

last_opened = st.session_state.get("segment_id")
number = {r.id: i for i, r in enumerate(records, start=1)}  # the sentence's place in its document
for record in shown[:LIMIT]:
    text, action = st.columns([10, 1], vertical_alignment="center")
    caption = f"{number[record.id]}." + (" · last opened" if record.id == last_opened else "")
    text.html(sentence_html(record, caption=caption))
    if action.button("Open", key=f"a_open_{record.id}", help="Open this sentence on the segment page"):
        st.session_state["queue_filter"] = in_order
        open_segment(record.id)
