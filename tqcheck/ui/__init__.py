"""The Streamlit reviewer UI (``tqcheck review``): pages over the review store.

This is the only part of tqcheck that imports streamlit; the library never imports it. The pages
stay thin: the workflow, the HTML rendering, the dashboard numbers and the exports are plain
functions in ``tqcheck.review``, tested without a browser.
"""
