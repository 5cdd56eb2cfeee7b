"""Export: reviewed segments as CSV, Excel or JSONL; corrected targets and ITS quality-issue
annotations written back into the XLIFF the run came from (or one uploaded here); or a new XLIFF 2.1.
Where a QA lead set thresholds, the runs and feeds against them, shown here and written into the
tables and JSONL as ``tqcheck export`` does."""

from __future__ import annotations

import streamlit as st

from tqcheck.errors import TqcheckError
from tqcheck.review import dashboard
from tqcheck.review.export import export_bytes, threshold_rows
from tqcheck.ui.common import get_store, max_upload_bytes, md_escape

_MIME = {"csv": "text/csv", "jsonl": "application/x-ndjson", "xliff": "application/xliff+xml",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_SUFFIX = {"csv": "csv", "jsonl": "jsonl", "xliff": "xlf", "xlsx": "xlsx"}

store = get_store()
st.title("Export")

runs = store.runs()
if not runs:
    st.info("No runs yet.")
    st.stop()
labels = {r.id: r.label for r in runs}
run_ids = tuple(st.multiselect("Runs", list(labels), format_func=labels.__getitem__, key="e_runs",
                               placeholder="all runs"))
fmt = st.radio("Format", ["csv", "xlsx", "jsonl", "xliff"], horizontal=True, key="e_format",
               format_func={"csv": "CSV", "xlsx": "Excel", "jsonl": "JSONL",
                            "xliff": "XLIFF"}.__getitem__)
default_scope = "all segments" if fmt == "xliff" else "reviewed segments"
scope = st.radio("Segments", ["reviewed segments", "all segments"], horizontal=True, key=f"e_scope_{fmt}",
                 index=["reviewed segments", "all segments"].index(default_scope))

original: bytes | None = None
annotate = True
state = None
if fmt == "xliff":
    chosen = [r for r in runs if r.id in run_ids] if run_ids else runs
    stored = [(r, f) for r in chosen for f in r.files]
    sources = ["a new XLIFF 2.1 file"]
    if len(chosen) == 1 and stored:
        sources.insert(0, "the XLIFF this run checked")
    sources.append("an XLIFF I upload")
    source = st.radio("Write into", sources, key="e_source")
    if source == "the XLIFF this run checked":
        original = store.run_file(stored[0][1][0])[2]
        st.text(f"Writing into {stored[0][1][1]}")
    elif source == "an XLIFF I upload":
        upload = st.file_uploader("The original XLIFF", type=["xlf", "xliff", "sdlxliff", "mqxliff"],
                                  key="e_upload", max_upload_size=max(1, max_upload_bytes() // 2**20))
        if upload is not None:
            original = upload.getvalue()
    annotate = st.checkbox("Flags as ITS Localization Quality Issue annotations", value=True,
                           key="e_its")
    state = st.selectbox("State of corrected segments", [None, "reviewed", "final", "signed-off"],
                         key="e_state", format_func=lambda s: "leave as is" if s is None else s)

limits = dashboard.thresholds(store)
rates = dashboard.rates(store, run_ids, limits=limits) if limits else []
if limits:
    table = threshold_rows([*rates, *dashboard.rates(store, run_ids, level="feed", limits=limits)])
    over = sum(row["status"] == "over" for row in table)
    st.caption(f"Thresholds: {over} of {len(table)} rates over (tables and JSONL get a run_thresholds "
               "column; Excel a thresholds sheet).")
    st.dataframe(table, hide_index=True, key="e_thresholds")

if st.button("Prepare export", key="e_prepare", type="primary",
             disabled=fmt == "xliff" and source == "an XLIFF I upload" and original is None):
    records = store.iter_segments(run_ids=run_ids, reviewed_only=scope == "reviewed segments")
    try:
        data, summary = export_bytes(records, fmt, original_xliff=original, annotate=annotate,
                                     state=state, rates=rates)
    except TqcheckError as exc:
        st.error(md_escape(str(exc)))
    else:
        st.session_state["export"] = (fmt, data, summary)

prepared = st.session_state.get("export")
if prepared and prepared[0] == fmt:
    fmt_ready, data, summary = prepared
    st.success(md_escape(f"Ready: {summary}"))
    st.download_button(f"Download {fmt_ready.upper()}", data, key="e_download",
                       file_name=f"tqcheck-reviewed.{_SUFFIX[fmt_ready]}", mime=_MIME[fmt_ready])
