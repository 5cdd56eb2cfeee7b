"""Dashboard honesty (issue 16): every rate with its n and a Wilson 95% interval, checks with too few
decisions marked, reviewers' agreement from the log, and thresholds a QA lead sets."""

from __future__ import annotations

import math
import re

import pytest
from review_fixtures import results, signature

from tqcheck.errors import UsageError
from tqcheck.model import Summary
from tqcheck.review import dashboard
from tqcheck.review.dashboard import Threshold, wilson
from tqcheck.store import Store

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "review.sqlite") as s:
        rid = s.start_run(signature(), name="caravan", feed="caravan.xlf")
        s.add_results(rid, results())
        s.finish_run(rid, Summary.of(results()))
        yield s


def seg(store: Store, seg_id: str, run_id: int = 1):
    return store.find_segment(run_id, seg_id)


# -- Wilson -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k, n, low, high", [
    # By hand: centre (p + z²/2n) / (1 + z²/n), half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
    (1, 2, 0.0945, 0.9055),  # "precision 50%" from two decisions
    (0, 10, 0.0, 0.2775),
    (8, 10, 0.4902, 0.9433),
    (10, 10, 0.7225, 1.0),
    (50, 100, 0.4038, 0.5962),
])
def test_wilson_against_a_hand_computation(k, n, low, high):
    assert wilson(k, n) == pytest.approx((low, high), abs=1e-4)


def test_wilson_edges():
    assert wilson(0, 0) == (0.0, 1.0)  # nothing measured: anything is possible
    assert wilson(1, 2, z=1.0) == pytest.approx((0.2113, 0.7887), abs=1e-4)  # centre .5, half .433 / 1.5
    with pytest.raises(ValueError, match="not a proportion"):
        wilson(3, 2)


# -- precision per check ------------------------------------------------------------------------------


def test_precision_has_its_n_interval_and_too_few(store):
    s2 = seg(store, "s2")
    store.save_review(s2.id, reviewer="ann", action="confirm", based_on_version=0, flag_id=s2.flags[0].id)
    table = dashboard.precision_frame(dashboard.flag_frame(store)).set_index("check")
    row = table.loc["forced_decoding"]
    assert (row["decided"], row["precision"], row["too_few"]) == (1, 1.0, True)
    assert (row["low"], row["high"]) == pytest.approx(wilson(1, 1))
    assert math.isnan(table.loc["handles", "low"]) and table.loc["handles", "too_few"]
    enough = dashboard.precision_frame(dashboard.flag_frame(store), min_decisions=1).set_index("check")
    assert not enough.loc["forced_decoding", "too_few"]
    empty = dashboard.precision_frame(dashboard.flag_frame(store, run_ids=(99,)))
    assert empty.empty and "too_few" in empty.columns


# -- reviewers ----------------------------------------------------------------------------------------


def test_reviewer_agreement_on_a_hand_made_log(store):
    s3 = seg(store, "s3")
    handle, number, length = (f.id for f in s3.flags)
    v = store.save_review(s3.id, reviewer="ann", action="dismiss", based_on_version=0,
                          flag_ids=[handle, number, length]).version
    v = store.save_review(s3.id, reviewer="bob", action="confirm", based_on_version=v, flag_id=handle).version
    v = store.save_review(s3.id, reviewer="bob", action="dismiss", based_on_version=v, flag_id=number).version
    v = store.save_review(s3.id, reviewer="cy", action="confirm", based_on_version=v, flag_id=handle).version
    v = store.save_review(s3.id, reviewer="cy", action="reopen", based_on_version=v, flag_id=handle).version
    store.save_review(s3.id, reviewer="cy", action="dismiss", based_on_version=v, flag_id=length)
    # Last words: handle ann=dismissed bob=confirmed (cy took hers back); number ann=bob=dismissed;
    # length ann=cy=dismissed.
    frame = dashboard.reviewer_frame(store).set_index("reviewer")
    got = frame[["decisions", "confirmed", "shared", "compared", "agreed"]].to_dict("index")
    assert got == {"ann": {"decisions": 3, "confirmed": 0, "shared": 3, "compared": 3, "agreed": 2},
                   "bob": {"decisions": 2, "confirmed": 1, "shared": 2, "compared": 2, "agreed": 1},
                   "cy": {"decisions": 1, "confirmed": 0, "shared": 1, "compared": 1, "agreed": 1}}
    assert frame.loc["ann", "agreement"] == pytest.approx(2 / 3)
    assert (frame.loc["ann", "agreement_low"], frame.loc["ann", "agreement_high"]) == pytest.approx(wilson(2, 3))
    assert (frame.loc["bob", "confirmed_low"], frame.loc["bob", "confirmed_high"]) == pytest.approx(wilson(1, 2))
    assert frame["too_few"].all()


def test_a_reviewer_alone_has_no_agreement(store):
    s1 = seg(store, "s1")
    store.save_review(s1.id, reviewer="ann", action="dismiss", based_on_version=0, flag_id=s1.flags[0].id)
    row = dashboard.reviewer_frame(store).iloc[0]
    assert (row["reviewer"], row["decisions"], row["compared"]) == ("ann", 1, 0)
    assert math.isnan(row["agreement"])
    assert dashboard.reviewer_frame(store, run_ids=(99,)).empty


# -- rates and thresholds -----------------------------------------------------------------------------


def test_rates_per_run_with_intervals(store):
    by_metric = {r.metric: r for r in dashboard.rates(store)}
    # s1, s2, s3, s5 flagged of five; all four major or worse; s2 critical.
    assert {m: (r.count, r.segments) for m, r in by_metric.items()} == {
        "error_per_100": (4, 5), "major_per_100": (4, 5), "critical_per_100": (1, 5)}
    major = by_metric["major_per_100"]
    assert major.per_100 == 80.0 and major.interval == pytest.approx(tuple(100 * x for x in wilson(4, 5)))
    assert major.status == "no threshold" and major.over is None


def test_thresholds_colour_runs_and_feeds_most_specific_first(store):
    later = store.start_run(signature("2025-03-01T09:00:00+00:00"), name="march", feed=XSS_SCRIPT)
    store.add_results(later, results()[3:])  # s4 (clean) and s5 (major)
    saved = dashboard.save_thresholds(store, [
        Threshold("major_per_100", 5.0),
        Threshold("error_per_100", 90.0, feed="caravan.xlf"),
        Threshold("major_per_100", 85.0, feed="caravan.xlf", lang_pair="fr-en"),
        Threshold("major_per_100", 60.0, lang_pair="fr-en"),
    ], by="lead")
    assert dashboard.thresholds(store) == saved
    rows = {(r.run_id, r.metric): r for r in dashboard.rates(store)}
    assert rows[(1, "major_per_100")].threshold.limit == 85.0 and rows[(1, "major_per_100")].status == "under"
    assert rows[(1, "error_per_100")].status == "under"  # 80 <= 90
    assert rows[(1, "critical_per_100")].status == "no threshold"
    assert rows[(later, "major_per_100")].threshold.limit == 60.0  # fr-en beats all feeds
    assert rows[(later, "major_per_100")].status == "under"  # 1 of 2: 50 per 100
    feeds = {(r.feed, r.metric): r for r in dashboard.rates(store, level="feed")}
    assert feeds[("caravan.xlf", "major_per_100")].run_id is None
    assert feeds[(XSS_SCRIPT, "error_per_100")].segments == 2
    line = rows[(1, "major_per_100")].describe()
    assert line == "run 1, fr-en: major_per_100 80.0 (95% CI 37.6-96.4, n=5) <= 85: under"
    frame = dashboard.rate_frame(store, level="feed")
    assert set(frame["status"]) == {"under", "no threshold"}
    assert frame[(frame["feed"] == "caravan.xlf") & (frame["metric"] == "major_per_100")]["limit"].item() == 85.0


def test_a_lower_threshold_puts_a_run_over(store):
    dashboard.save_thresholds(store, [Threshold("critical_per_100", 10.0)], by="lead")
    [critical] = [r for r in dashboard.rates(store) if r.metric == "critical_per_100"]
    assert critical.per_100 == 20.0 and critical.over and critical.status == "over"
    assert critical.describe().endswith("> 10: over")


@pytest.mark.parametrize("kwargs, message", [
    ({"metric": "speed", "limit": 1.0}, "unknown rate"),
    ({"metric": "major_per_100", "limit": -1.0}, "segments per 100"),
    ({"metric": "major_per_100", "limit": float("nan")}, "segments per 100"),
])
def test_bad_thresholds_are_refused(kwargs, message):
    with pytest.raises(UsageError, match=message):
        Threshold(**kwargs)


def test_saving_thresholds_keeps_one_per_scope(store):
    kept = dashboard.save_thresholds(store, [Threshold("major_per_100", 5.0),
                                             Threshold("major_per_100", 7.0)], by="lead")
    assert kept == (Threshold("major_per_100", 7.0),)
    assert store.settings()["thresholds"] == [
        {"metric": "major_per_100", "limit": 7.0, "feed": None, "lang_pair": None}]


# -- the dashboard page (AppTest) -----------------------------------------------------------------------


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A store with decisions by three reviewers, two with names that are markup, and a feed that is."""
    path = tmp_path / "app.sqlite"
    with Store.open(path) as s:
        rid = s.start_run(signature(), name="caravan", feed=XSS_SCRIPT)
        s.add_results(rid, results())
        s3 = s.find_segment(rid, "s3")
        v = s.save_review(s3.id, reviewer=XSS_ATTR, action="dismiss", based_on_version=0,
                          flag_ids=[f.id for f in s3.flags]).version
        s.save_review(s3.id, reviewer=XSS_SCRIPT, action="confirm", based_on_version=v, flag_id=s3.flags[0].id)
        s2 = s.find_segment(rid, "s2")
        s.save_review(s2.id, reviewer="ann", action="confirm", based_on_version=0, flag_id=s2.flags[0].id)
    monkeypatch.setenv("TQCHECK_DB", str(path))
    return path


def _dashboard(name: str | None = "lead"):
    pytest.importorskip("streamlit")
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parent.parent
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60).run()
    if name:
        at.sidebar.text_input(key="reviewer_input").input(name).run()
    at.switch_page("tqcheck/ui/views/dashboard.py").run()
    assert not at.exception, at.exception
    return at


def _markdown_bodies(at) -> list[str]:
    return [e.value for kind in ("markdown", "caption", "info", "success", "error", "warning")
            for e in at.get(kind)]


def _raw_markup(body: str) -> bool:
    """A '<' markdown would pass on as HTML: one not escaped with a backslash."""
    return re.search(r"(?<!\\)<", body) is not None


def test_dashboard_page_shows_n_intervals_reviewers_and_escapes_names(app_db):
    at = _dashboard()
    precision = at.dataframe[0].value.set_index("check")
    assert {"decided", "low", "high", "too_few"} <= set(precision.columns)
    # The handle flag was dismissed, then confirmed: one flag, confirmed now.
    assert precision.loc["handles", "decided"] == 1 and precision.loc["handles", "too_few"]
    assert precision.loc["handles", "low"] == pytest.approx(wilson(1, 1)[0])
    assert precision.loc["numbers", "precision"] == 0.0
    caption = " ".join(_markdown_bodies(at))
    assert "95% interval" in caption and "too few to act on" in caption
    people = next(f.value for f in at.dataframe if "reviewer" in f.value.columns)
    assert set(people["reviewer"]) == {XSS_ATTR, XSS_SCRIPT, "ann"}  # values, never markup
    handle = people.set_index("reviewer").loc[XSS_SCRIPT]
    assert (handle["decisions"], handle["compared"], handle["agreed"]) == (1, 1, 0)
    rates = next(f.value for f in at.dataframe if "per_100" in f.value.columns)
    assert set(rates["feed"]) == {XSS_SCRIPT} and set(rates["status"]) == {"no threshold"}
    assert not any(_raw_markup(body) for body in _markdown_bodies(at))
    assert {b.key for b in at.get("download_button")} >= {"d_dl_precision", "d_dl_reviewers", "d_dl_rates"}


def test_a_qa_lead_sets_and_removes_a_threshold(app_db):
    at = _dashboard()
    at.selectbox(key="d_t_metric").set_value("major_per_100")
    at.selectbox(key="d_t_feed").set_value(XSS_SCRIPT)
    at.number_input(key="d_t_limit").set_value(10.0)
    at.button(key="d_t_save").click().run()
    assert not at.exception, at.exception
    saved = [b for b in _markdown_bodies(at) if "Threshold saved" in b]
    assert saved and "script" in saved[0] and not _raw_markup(saved[0])  # the feed's name, escaped
    with Store.open(app_db) as s:
        assert dashboard.thresholds(s) == (Threshold("major_per_100", 10.0, feed=XSS_SCRIPT),)
        assert s.settings()["thresholds"]
    at.radio(key="d_rate_metric").set_value("major_per_100").run()
    rates = next(f.value for f in at.dataframe if "per_100" in f.value.columns)
    assert rates["status"].tolist() == ["over"] and rates["limit"].tolist() == [10.0]
    assert not any(_raw_markup(body) for body in _markdown_bodies(at))
    at.multiselect(key="d_t_remove").set_value([0]).run()
    at.button(key="d_t_delete").click().run()
    assert not at.exception, at.exception
    with Store.open(app_db) as s:
        assert dashboard.thresholds(s) == ()


def test_thresholds_need_a_name(app_db):
    at = _dashboard(name=None)
    assert at.button(key="d_t_save").disabled


def test_the_export_page_carries_the_thresholds(app_db):
    with Store.open(app_db) as s:
        dashboard.save_thresholds(s, [Threshold("major_per_100", 10.0)], by="lead")
    at = _dashboard()
    at.switch_page("tqcheck/ui/views/export.py").run()
    assert not at.exception, at.exception
    table = next(f.value for f in at.dataframe if "status" in f.value.columns)
    assert table[["level", "feed", "status"]].values.tolist() == [["run", XSS_SCRIPT, "over"],
                                                                 ["feed", XSS_SCRIPT, "over"]]
    assert any("2 of 2 rates over" in c.value for c in at.caption)
    at.button(key="e_prepare").click().run()
    assert not at.exception, at.exception
    data = at.session_state["export"][1].decode("utf-8-sig")
    assert data.splitlines()[0].endswith(",run_thresholds") and "major_per_100 80.0 > 10 (over)" in data


def test_hints_are_not_dashboard_flags(store):
    from dataclasses import replace

    from tqcheck.model import Category, Flag, Severity

    hinted = results()[3]
    hint = Flag("spelling", Severity.MINOR, Category.SPELLING, "rare word", hint=True)
    rid = store.start_run(signature(), name="hints")
    store.add_results(rid, [replace(hinted, flags=(hint,))])
    assert sum(r["flags"] for r in store.flag_stats((rid,))) == 1
    assert dashboard.flag_frame(store, (rid,)).empty
    assert [(r.metric, r.count) for r in dashboard.rates(store, (rid,))][0] == ("error_per_100", 0)
