"""Dashboard: flags over time by severity and category, by feed / language pair / engine; the
distribution of risk; each check's precision in practice (confirmed / decided). Every chart's
numbers can be downloaded as CSV."""

from __future__ import annotations

import altair as alt
import streamlit as st

from tqcheck.review import dashboard
from tqcheck.ui.common import get_store

store = get_store()
st.title("Dashboard")


@st.cache_data(ttl=30, show_spinner=False)
def _frames(url: str, run_ids: tuple[int, ...]):
    # Keyed on the store URL and the runs; a short TTL so that new decisions show up soon.
    return (dashboard.flag_frame(store, run_ids), dashboard.risk_frame(store, run_ids),
            dashboard.status_frame(store, run_ids))


runs = store.runs()
if not runs:
    st.info("No runs yet: import a report or check a file first.")
    st.stop()
labels = {r.id: r.label for r in runs}
run_ids = tuple(st.multiselect("Runs", list(labels), format_func=labels.__getitem__, key="d_runs",
                               placeholder="all runs"))
if st.button("Refresh", key="d_refresh", help="Recompute now (figures are cached for 30 s)"):
    _frames.clear()
flags, risk, status = _frames(store.url, run_ids)


SEVERITY_SCALE = alt.Scale(domain=["minor", "major", "critical"], range=["#fcc419", "#fd7e14", "#e03131"])


def colour(by: str) -> alt.Color:
    """Severities in the segment page's colours (minor yellow ... critical red), in MQM order."""
    if by == "severity":
        return alt.Color("severity:N", title="severity", scale=SEVERITY_SCALE,
                         sort=["minor", "major", "critical"])
    return alt.Color(f"{by}:N", title=by)


def download(frame, name: str, key: str) -> None:
    st.download_button(f"Download {name} (CSV)", dashboard.csv_bytes(frame), file_name=f"{name}.csv",
                       mime="text/csv", key=key)


totals = st.columns(4)
totals[0].metric("Flags", int(flags["flags"].sum()) if len(flags) else 0)
decided = flags[flags["decision"] != "undecided"]["flags"].sum() if len(flags) else 0
confirmed = flags[flags["decision"] == "confirmed"]["flags"].sum() if len(flags) else 0
totals[1].metric("Decided", int(decided))
totals[2].metric("Confirmed", int(confirmed))
totals[3].metric("Precision in practice", f"{confirmed / decided:.0%}" if decided else "—")

if flags.empty:
    st.info("No flags in these runs.")
    st.stop()

st.subheader("Flags over time")
left, right = st.columns(2)
for column, by in ((left, "severity"), (right, "category")):
    frame = dashboard.over_time(flags, by)
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("date:N", title="run date"), y=alt.Y("flags:Q", title="flags"),
        color=colour(by), tooltip=["date", by, "flags"])
    column.altair_chart(chart, width="stretch")
    with column:
        download(frame, f"flags_over_time_by_{by}", f"d_dl_time_{by}")

st.subheader("Flags by feed, language pair or engine")
dimension = st.radio("Group by", ["feed", "language pair", "engine", "run", "check"], horizontal=True,
                     key="d_dimension")
colour_by = st.radio("Colour by", ["severity", "category"], horizontal=True, key="d_colour")
grouped = dashboard.by_dimension(flags, dimension, colour_by)
column_name = dashboard.DIMENSIONS[dimension]
st.altair_chart(
    alt.Chart(grouped).mark_bar().encode(
        y=alt.Y(f"{column_name}:N", title=dimension, sort="-x"), x=alt.X("flags:Q", title="flags"),
        color=colour(colour_by), tooltip=[column_name, colour_by, "flags"]),
    width="stretch")
download(grouped, f"flags_by_{column_name}", "d_dl_dimension")

st.subheader("Precision in practice, per check")
precision = dashboard.precision_frame(flags)
decided_checks = precision[precision["decided"] > 0]
if decided_checks.empty:
    st.caption("No decisions yet: confirm or dismiss flags on the Segment page.")
else:
    st.altair_chart(
        alt.Chart(decided_checks).mark_bar().encode(
            y=alt.Y("check:N", sort="-x"), x=alt.X("precision:Q", scale=alt.Scale(domain=[0, 1])),
            tooltip=["check", "confirmed", "dismissed", "undecided", alt.Tooltip("precision:Q", format=".0%")]),
        width="stretch")
st.dataframe(precision, hide_index=True)
download(precision, "precision_by_check", "d_dl_precision")

st.subheader("Risk")
if risk.empty:
    st.caption("No calibrated risk in these runs (rules-only runs rank by MQM penalty instead).")
else:
    st.altair_chart(
        alt.Chart(risk).mark_bar().encode(
            x=alt.X("risk_low:Q", bin="binned", title="risk"), x2="risk_high:Q",
            y=alt.Y("segments:Q"), tooltip=["risk_low", "risk_high", "segments"]),
        width="stretch")
    download(risk, "risk_distribution", "d_dl_risk")

st.subheader("Review progress")
st.dataframe(status, hide_index=True)
download(status, "review_status", "d_dl_status")
