"""Dashboard: flags over time by severity and category, by feed / language pair / engine; each
check's precision in practice and each reviewer's decisions and agreement, every rate with its n and
95% interval (greyed out below ``MIN_DECISIONS``); rates against the thresholds a QA lead sets here;
the distribution of risk. Every chart's numbers can be downloaded as CSV."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from tqcheck.review import dashboard
from tqcheck.review.dashboard import MIN_DECISIONS, RATE_METRICS, Threshold
from tqcheck.ui.common import get_store, guarded, md_escape, notice, reviewer, show_notice

store = get_store()
st.title("Dashboard")
show_notice()


@st.cache_data(ttl=30, show_spinner=False)
def _frames(url: str, run_ids: tuple[int, ...]):
    # Keyed on the store URL and the runs; a short TTL so that new decisions show up soon.
    return (dashboard.flag_frame(store, run_ids), dashboard.risk_frame(store, run_ids),
            dashboard.status_frame(store, run_ids), dashboard.reviewer_frame(store, run_ids))


runs = store.runs()
if not runs:
    st.info("No runs yet: import a report or check a file first.")
    st.stop()
labels = {r.id: r.label for r in runs}
run_ids = tuple(st.multiselect("Runs", list(labels), format_func=labels.__getitem__, key="d_runs",
                               placeholder="all runs"))
if st.button("Refresh", key="d_refresh", help="Recompute now (figures are cached for 30 s)"):
    _frames.clear()
flags, risk, status, reviewers = _frames(store.url, run_ids)


SEVERITY_SCALE = alt.Scale(domain=["minor", "major", "critical"], range=["#fcc419", "#fd7e14", "#e03131"])
STATUS_SCALE = alt.Scale(domain=["over", "under", "no threshold"], range=["#e03131", "#2f9e44", "#adb5bd"])
GREY = "#adb5bd"


def colour(by: str) -> alt.Color:
    """Severities in the segment page's colours (minor yellow ... critical red), in MQM order."""
    if by == "severity":
        return alt.Color("severity:N", title="severity", scale=SEVERITY_SCALE,
                         sort=["minor", "major", "critical"])
    return alt.Color(f"{by}:N", title=by)


def download(frame, name: str, key: str) -> None:
    st.download_button(f"Download {name} (CSV)", dashboard.csv_bytes(frame), file_name=f"{name}.csv",
                       mime="text/csv", key=key)


def greyed(frame: pd.DataFrame, percent: tuple[str, ...] = ()) -> Any:
    """The table with its too-few rows in grey and its shares as percentages: a rate from three
    decisions is shown, but not as loud as one from three hundred."""
    def row_style(row: pd.Series) -> list[str]:
        return [f"color: {GREY}" if row.get("too_few") else ""] * len(row)
    return frame.style.apply(row_style, axis=1).format({c: "{:.0%}" for c in percent}, na_rep="—")


def interval_chart(frame: pd.DataFrame, *, y: str, value: str, low: str, high: str,
                   title: str, tooltip: list[Any], domain: tuple[float, float] | None = (0, 1),
                   color: Any = None) -> alt.LayerChart | alt.FacetChart:
    """Bars with their 95% interval as an error rule; grey where ``too_few``."""
    x_scale = alt.Scale(domain=list(domain)) if domain else alt.Undefined
    if color is None:
        color = alt.condition("datum.too_few", alt.value(GREY), alt.value("#4c6ef5"))
    base = alt.Chart(frame).encode(y=alt.Y(f"{y}:N", sort="-x", title=None))
    bars = base.mark_bar().encode(x=alt.X(f"{value}:Q", title=title, scale=x_scale), color=color,
                                  tooltip=tooltip)
    rule = base.mark_rule(color="#212529").encode(x=f"{low}:Q", x2=f"{high}:Q")
    return alt.layer(bars, rule)


# -- totals ------------------------------------------------------------------------------------------

totals = st.columns(4)
totals[0].metric("Flags", int(flags["flags"].sum()) if len(flags) else 0)
decided = int(flags[flags["decision"] != "undecided"]["flags"].sum()) if len(flags) else 0
confirmed = int(flags[flags["decision"] == "confirmed"]["flags"].sum()) if len(flags) else 0
low, high = dashboard.wilson(confirmed, decided)
totals[1].metric("Decided", decided)
totals[2].metric("Confirmed", confirmed)
totals[3].metric("Precision in practice", f"{confirmed / decided:.0%}" if decided else "—",
                 help="Confirmed flags / decided flags, with its 95% (Wilson) interval below.")
if decided:
    st.caption(md_escape(
        f"Precision in practice: {confirmed} of {decided} decided flags confirmed, 95% interval "
        f"{low:.0%}–{high:.0%}" + (f" (fewer than {MIN_DECISIONS} decisions: too few to act on)."
                                   if decided < MIN_DECISIONS else ".")))

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

# -- precision per check ---------------------------------------------------------------------------------

st.subheader("Precision in practice, per check")
precision = dashboard.precision_frame(flags)
decided_checks = precision[precision["decided"] > 0]
if decided_checks.empty:
    st.caption("No decisions yet: confirm or dismiss flags on the Segment page.")
else:
    st.altair_chart(interval_chart(
        decided_checks, y="check", value="precision", low="low", high="high", title="precision (95% interval)",
        tooltip=["check", "confirmed", "dismissed", "undecided", alt.Tooltip("decided:Q", title="n"),
                 alt.Tooltip("precision:Q", format=".0%"), alt.Tooltip("low:Q", format=".0%"),
                 alt.Tooltip("high:Q", format=".0%")]), width="stretch")
    st.caption(f"Grey: fewer than {MIN_DECISIONS} decisions, too few to trust the rate; the black line "
               "is its 95% interval (Wilson).")
st.dataframe(greyed(precision, ("precision", "low", "high")), hide_index=True)
download(precision, "precision_by_check", "d_dl_precision")

# -- reviewers --------------------------------------------------------------------------------------------

st.subheader("Reviewers")
if reviewers.empty:
    st.caption("No decisions yet.")
else:
    st.dataframe(greyed(reviewers, ("confirmed_share", "confirmed_low", "confirmed_high", "agreement",
                                    "agreement_low", "agreement_high")),
                 hide_index=True, key="d_reviewers",
                 column_config={"decisions": "flags decided", "shared": "also decided by others",
                                "compared": "pairs compared (n)", "agreed": "pairs agreeing"})
    st.caption("Each reviewer's last word on each flag. Agreement: of the flags another reviewer "
               f"decided too, how often both said the same; grey with fewer than {MIN_DECISIONS} pairs.")
    download(reviewers, "reviewers", "d_dl_reviewers")

# -- rates and thresholds ---------------------------------------------------------------------------------

st.subheader("Rates against thresholds")
limits = dashboard.thresholds(store)
level = st.radio("Per", ["run", "feed"], horizontal=True, key="d_rate_level")
held = [m for m in RATE_METRICS if any(t.metric == m for t in limits)]  # open on a rate with a threshold
metric = st.radio("Rate", list(RATE_METRICS), horizontal=True, key="d_rate_metric",
                  index=list(RATE_METRICS).index(held[0]) if held else 0,
                  format_func=lambda m: RATE_METRICS[m][1] + " per 100")
rates = dashboard.rate_frame(store, run_ids, level=level, limits=limits)
shown = rates[rates["metric"] == metric].copy()
shown["where"] = (shown["run"] if level == "run" else shown["feed"]) + " · " + shown["lang_pair"]
shown["too_few"] = False
st.altair_chart(interval_chart(
    shown, y="where", value="per_100", low="low", high="high", domain=(0, 100),
    title=f"{RATE_METRICS[metric][1]} per 100 segments (95% interval)",
    color=alt.Color("status:N", scale=STATUS_SCALE, title="threshold"),
    tooltip=["where", "count", alt.Tooltip("segments:Q", title="n"),
             alt.Tooltip("per_100:Q", format=".1f"), alt.Tooltip("low:Q", format=".1f"),
             alt.Tooltip("high:Q", format=".1f"), "limit", "status"]), width="stretch")
st.dataframe(rates[rates["metric"] == metric].drop(columns=["run_id"]).style.format(
    {"per_100": "{:.1f}", "low": "{:.1f}", "high": "{:.1f}", "limit": "{:g}"}, na_rep="—"),
    hide_index=True, key="d_rates")
download(rates, f"rates_by_{level}", "d_dl_rates")

with st.expander("Thresholds (QA lead)", expanded=not limits):
    st.caption("A threshold is the most segments per 100 a run or feed may have before it shows as "
               "over, for all feeds, one feed, one language pair or both; the most specific one "
               "applies. Saved in the store for everyone, and reported by tqcheck export.")
    if limits:
        st.dataframe(pd.DataFrame([{"rate": RATE_METRICS[t.metric][1] + " per 100", "scope": t.scope,
                                    "limit": t.limit} for t in limits]),
                     hide_index=True, key="d_thresholds")
    feeds = sorted({r.feed for r in runs if r.feed})
    pairs = sorted({p for r in runs for p in r.language_pairs})
    cols = st.columns(4)
    new_metric = cols[0].selectbox("Rate", list(RATE_METRICS), key="d_t_metric",
                                   format_func=lambda m: RATE_METRICS[m][1])
    new_feed = cols[1].selectbox("Feed", [None, *feeds], key="d_t_feed",
                                 format_func=lambda f: "all feeds" if f is None else f)
    new_pair = cols[2].selectbox("Language pair", [None, *pairs], key="d_t_pair",
                                 format_func=lambda p: "all pairs" if p is None else p)
    new_limit = cols[3].number_input("Per 100 segments", min_value=0.0, max_value=100.0, value=5.0,
                                     step=0.5, key="d_t_limit")
    name = reviewer()
    if not name:
        st.caption("Enter your name in the sidebar to set thresholds.")

    def _save() -> None:
        threshold = Threshold(new_metric, float(new_limit), feed=new_feed, lang_pair=new_pair)
        dashboard.save_thresholds(store, [*limits, threshold], by=name)
        notice(f"Threshold saved: {threshold.metric} at most {threshold.limit:g} per 100 ({threshold.scope})")

    if st.button("Save threshold", key="d_t_save", type="primary", disabled=not name):
        guarded(_save)
        st.rerun()
    if limits:
        remove = st.multiselect("Remove", list(range(len(limits))), key="d_t_remove",
                                format_func=lambda i: f"{limits[i].metric} ≤ {limits[i].limit:g} ({limits[i].scope})")
        def _remove() -> None:
            dashboard.save_thresholds(store, [t for i, t in enumerate(limits) if i not in remove], by=name)
            notice(f"{len(remove)} threshold(s) removed")

        if st.button("Remove thresholds", key="d_t_delete", disabled=not (name and remove)):
            guarded(_remove)
            st.rerun()

# -- risk and progress ---------------------------------------------------------------------------------

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
