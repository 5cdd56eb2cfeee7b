"""What every page of the reviewer UI shares: the store, the reviewer, the queue filter, navigation.

Only the UI imports this (it imports streamlit). The store is a ``st.cache_resource`` shared by all
sessions (one connection pool); per-session state (who reviews, which filter, which segment) is set
once in ``st.session_state`` by ``init_session``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from tqcheck.errors import TqcheckError
from tqcheck.store import QueueFilter, ReviewStatus, Store

VIEWS = Path(__file__).resolve().parent / "views"
PAGE_FILES = {
    "queue": VIEWS / "queue.py",
    "segment": VIEWS / "segment.py",
    "article": VIEWS / "article.py",
    "dashboard": VIEWS / "dashboard.py",
    "check": VIEWS / "check_file.py",
    "export": VIEWS / "export.py",
}

#: The queue shows what still needs a reviewer unless told otherwise.
DEFAULT_STATUSES = (ReviewStatus.UNREVIEWED.value, ReviewStatus.PARTIAL.value)


def store_target() -> str | None:
    """The store to open: ``--db`` after ``--`` on the streamlit command line, else $TQCHECK_DB."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--db" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--db="):
            return arg.split("=", 1)[1]
    return os.environ.get("TQCHECK_DB")


@st.cache_resource(show_spinner=False)
def _open_store(target: str | None) -> Store:
    return Store.open(target)


def get_store() -> Store:
    """The shared store; a store that cannot be opened stops the page with the reason and the fix."""
    try:
        return _open_store(store_target())
    except TqcheckError as exc:
        st.error(f"Cannot open the review store: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers content


def max_upload_bytes() -> int:
    try:
        mb = int(os.environ.get("TQCHECK_MAX_UPLOAD_MB", "50"))
    except ValueError:
        mb = 50
    return mb * 1024 * 1024


def init_session() -> None:
    """Session defaults, set once per browser session."""
    defaults: dict[str, Any] = {
        "reviewer_name": "",
        "queue_filter": QueueFilter(statuses=DEFAULT_STATUSES),
        "queue_offset": 0,
        "segment_id": None,
        "seen_version": None,
        "conflict": None,
        "notice": None,
        # Move on to the next segment once every flag of this one is decided.
        "auto_advance": True,
        # The segment left by moving on (the B key goes back to it).
        "came_from": None,
        # The document the article page shows: (run id, doc id).
        "article": None,
    }
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value


def logged_in_name() -> str | None:
    """The signed-in user's name when Streamlit authentication is configured, else None."""
    try:
        user = st.user
        if getattr(user, "is_logged_in", False):
            return str(user.get("name") or user.get("email") or "") or None
    except Exception:
        return None
    return None


def reviewer() -> str:
    return logged_in_name() or str(st.session_state.get("reviewer_name") or "").strip()


def reviewer_box() -> None:
    """The sidebar's identity field: every saved decision carries this name."""
    name = logged_in_name()
    if name:
        st.sidebar.markdown("Reviewing as")
        st.sidebar.text(name)
        return
    # The name is kept under its own key as well: a page switch may drop a widget's state, and a
    # reviewer should never have to type their name twice.
    value = st.sidebar.text_input("Your name", value=st.session_state["reviewer_name"],
                                  key="reviewer_input", placeholder="who is reviewing?",
                                  help="Saved with every decision, so that reviewers can see who "
                                       "decided what.")
    st.session_state["reviewer_name"] = value.strip()


def open_segment(segment_id: int) -> None:
    st.session_state["segment_id"] = segment_id
    st.session_state["seen_version"] = None
    st.session_state["conflict"] = None
    st.session_state["came_from"] = None
    st.switch_page(PAGE_FILES["segment"])


def open_article(run_id: int, doc_id: str | None) -> None:
    """The article page on one document (``doc_id`` None: the run's segments without one)."""
    st.session_state["article"] = (run_id, doc_id)
    st.switch_page(PAGE_FILES["article"])


def notice(message: str, kind: str = "success") -> None:
    """A message shown once on the next run (after a save or a page switch)."""
    st.session_state["notice"] = (kind, message)


def md_escape(text: str) -> str:
    """Text for Streamlit's markdown elements (alerts, captions) shown literally: every ASCII
    punctuation mark is backslash-escaped (CommonMark), so file names and messages that quote
    feed text cannot turn into links, markup, colour directives or formulas."""
    return "".join("\\" + ch if ch in _MD_PUNCTUATION else ch for ch in text)


_MD_PUNCTUATION = frozenset("\\`*_{}[]()#+-.!<>|~$:\"'=&%@^,;/?")


def show_notice() -> None:
    pending = st.session_state.get("notice")
    if pending:
        kind, message = pending
        getattr(st, kind, st.info)(md_escape(message))
        st.session_state["notice"] = None


def guarded(action: Callable[[], Any]) -> Any:
    """Run a store action; a tqcheck error becomes a message on the page, not a traceback."""
    try:
        return action()
    except TqcheckError as exc:
        notice(str(exc), "error")
        return None
