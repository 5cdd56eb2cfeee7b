"""The reviewer's workflow over the review store, with no UI in it.

``workflow``: confirm, dismiss, reopen, fix, comment, conflicts, moving through the queue;
``render``: escaped HTML for highlighted spans and aligned differences; ``dashboard``: the numbers
behind the QA charts; ``export``: CSV, Excel, JSONL and XLIFF out of the store. The Streamlit app
(``tqcheck.ui``) calls these; nothing here imports streamlit.
"""
