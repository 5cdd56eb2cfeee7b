"""Entry script of the reviewer UI: ``streamlit run tqcheck/ui/app.py`` (``tqcheck review`` does it).

The top-level ``app.py`` of the repository calls ``main()`` too, so ``streamlit run app.py`` works
from a checkout; this file is the one an installed package runs.
"""

from __future__ import annotations

import streamlit as st

from tqcheck.ui.common import PAGE_FILES, get_store, init_session, reviewer_box


def main() -> None:
    st.set_page_config(page_title="tqcheck review", page_icon=":mag:", layout="wide")
    init_session()
    # Widgets made before st.navigation belong to the entry script and keep their state on every
    # page; made after it, they would belong to the page and be reset by a page switch.
    reviewer_box()
    pages = {
        "Review": [
            st.Page(PAGE_FILES["queue"], title="Queue", icon=":material/list:", default=True),
            st.Page(PAGE_FILES["segment"], title="Segment", icon=":material/edit_note:",
                    url_path="segment"),
            st.Page(PAGE_FILES["article"], title="Article", icon=":material/article:",
                    url_path="article"),
        ],
        "Runs": [
            st.Page(PAGE_FILES["dashboard"], title="Dashboard", icon=":material/monitoring:",
                    url_path="dashboard"),
            st.Page(PAGE_FILES["check"], title="Check a file", icon=":material/upload_file:",
                    url_path="check"),
            st.Page(PAGE_FILES["export"], title="Export", icon=":material/download:",
                    url_path="export"),
        ],
    }
    page = st.navigation(pages)
    store = get_store()
    st.sidebar.text(f"Store: {store.url}")
    page.run()


if __name__ == "__main__":
    main()
