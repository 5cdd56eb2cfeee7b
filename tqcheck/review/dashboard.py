"""The numbers behind the QA dashboard, as pandas frames (the UI only draws them).

The store aggregates in SQL (``flag_stats``, ``segment_stats``, ``severity_stats``), so a dashboard over
a million flags moves a few hundred rows; here they are joined with the runs (date, feed, engines) and
shaped for the charts: flags over time by severity and category, flags by feed / language pair /
engine, the distribution of risk, each check's precision in practice (how often reviewers confirmed
it), each reviewer's decisions and agreement with the others, and the rates a QA lead sets
thresholds on.

Every rate comes with its n and a Wilson 95% interval: "precision 50%" from two decisions says
almost nothing, and the interval (9%-91%) says so. Rates from fewer than ``MIN_DECISIONS`` are
marked ``too_few`` for the UI to grey out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tqcheck.errors import StoreError, UsageError
from tqcheck.store.store import Store

if TYPE_CHECKING:
    import pandas as pd

#: Below this many decisions a rate is shown greyed out (``too_few``): its interval is too wide to
#: act on.
MIN_DECISIONS = 10


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n`` (95% with the default ``z``).

    Unlike the normal approximation it stays inside [0, 1] and is honest at k = 0, k = n and small
    n; with no trials at all it is the whole of [0, 1].
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"not a proportion: {k} of {n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


#: The dimensions "flags by ..." can be grouped by, and their column in ``flag_frame``.
DIMENSIONS = {"feed": "feed", "language pair": "lang_pair", "engine": "engines", "run": "run",
              "check": "check", "category": "category", "severity": "severity"}


def run_frame(store: Store) -> pd.DataFrame:
    import pandas as pd

    rows = [{"run_id": r.id, "run": r.label, "date": r.created_at.date().isoformat(),
             "created_at": r.created_at, "feed": r.feed or "(none)", "engines": r.engines,
             "segments": r.segment_count, "flagged": r.flagged_count} for r in store.runs()]
    return pd.DataFrame(rows, columns=["run_id", "run", "date", "created_at", "feed", "engines",
                                       "segments", "flagged"])


def flag_frame(store: Store, run_ids: Sequence[int] = ()) -> pd.DataFrame:
    """One row per (run, language pair, check, severity, category, decision) with a flag count."""
    import pandas as pd

    columns = ["run_id", "lang_pair", "check", "severity", "category", "decision", "flags"]
    # Hints wait for nobody's decision and are out of the default view: they are not "flags" here.
    flags = pd.DataFrame(store.flag_stats(run_ids, include_hints=False), columns=columns)
    flags["decision"] = flags["decision"].fillna("undecided")
    runs = run_frame(store)[["run_id", "run", "date", "feed", "engines"]]
    return flags.merge(runs, on="run_id", how="left")


def over_time(flags: pd.DataFrame, by: str) -> pd.DataFrame:
    """Flags per run date and ``by`` (severity or category)."""
    # as_index=False: the sums are a DataFrame, which pandas-stubs cannot tell (it says Series)
    return (flags.groupby(["date", by], as_index=False)["flags"].sum()
            .sort_values(["date", by]).reset_index(drop=True))  # type: ignore[call-overload]


def by_dimension(flags: pd.DataFrame, dimension: str, colour: str = "severity") -> pd.DataFrame:
    column = DIMENSIONS.get(dimension, dimension)
    return (flags.groupby([column, colour], as_index=False)["flags"].sum()
            .sort_values([column, colour]).reset_index(drop=True))  # type: ignore[call-overload]  # as above


def precision_frame(flags: pd.DataFrame, *, min_decisions: int = MIN_DECISIONS) -> pd.DataFrame:
    """Per check: confirmed, dismissed, undecided, and precision = confirmed / decided with its
    Wilson 95% interval (``low``, ``high``); ``too_few`` when fewer than ``min_decisions`` flags of
    the check were decided."""
    import pandas as pd

    columns = ["check", "confirmed", "dismissed", "undecided", "decided", "precision", "low", "high",
               "too_few"]
    if flags.empty:
        return pd.DataFrame(columns=columns)
    table = flags.pivot_table(index="check", columns="decision", values="flags", aggfunc="sum",
                              fill_value=0)
    for column in ("confirmed", "dismissed", "undecided"):
        if column not in table.columns:
            table[column] = 0
    table = table[["confirmed", "dismissed", "undecided"]].reset_index()
    table.columns.name = None
    decided = table["confirmed"] + table["dismissed"]
    table["decided"] = decided
    table["precision"] = (table["confirmed"] / decided).where(decided > 0)
    bounds = [wilson(int(k), int(n)) if n else (math.nan, math.nan)
              for k, n in zip(table["confirmed"], decided)]
    table["low"] = [b[0] for b in bounds]
    table["high"] = [b[1] for b in bounds]
    table["too_few"] = decided < min_decisions
    return table.sort_values(["decided", "check"], ascending=[False, True]).reset_index(drop=True)[columns]


def reviewer_frame(store: Store, run_ids: Sequence[int] = (), *,
                   min_decisions: int = MIN_DECISIONS) -> pd.DataFrame:
    """Per reviewer: flags decided, the share confirmed (with its Wilson interval), and agreement
    with the other reviewers where two or more decided the same flag.

    Read from the review log, each reviewer's last word on each flag (``Store.reviewer_decisions``):
    a flag ann dismissed and bob later confirmed counts for both, and as a disagreement.
    ``shared`` is how many of the reviewer's flags another reviewer decided too; ``compared`` the
    pairs (reviewer, other reviewer, flag) behind ``agreement``; ``too_few`` marks an agreement
    from fewer than ``min_decisions`` pairs.
    """
    import pandas as pd

    columns = ["reviewer", "decisions", "confirmed", "confirmed_share", "confirmed_low",
               "confirmed_high", "shared", "compared", "agreed", "agreement", "agreement_low",
               "agreement_high", "too_few"]
    by_flag: dict[int, dict[str, str]] = {}
    for row in store.reviewer_decisions(run_ids):
        by_flag.setdefault(row["flag_id"], {})[row["reviewer"]] = row["decision"]
    totals: dict[str, dict[str, int]] = {}
    for decisions in by_flag.values():
        for reviewer, decision in decisions.items():
            t = totals.setdefault(reviewer, dict.fromkeys(("decisions", "confirmed", "shared", "compared",
                                                           "agreed"), 0))
            t["decisions"] += 1
            t["confirmed"] += decision == "confirmed"
            others = [d for r, d in decisions.items() if r != reviewer]
            t["shared"] += bool(others)
            t["compared"] += len(others)
            t["agreed"] += sum(d == decision for d in others)
    rows = []
    for reviewer in sorted(totals):
        t = totals[reviewer]
        c_low, c_high = wilson(t["confirmed"], t["decisions"])
        a_low, a_high = wilson(t["agreed"], t["compared"]) if t["compared"] else (math.nan, math.nan)
        rows.append({"reviewer": reviewer, **t,
                     "confirmed_share": t["confirmed"] / t["decisions"], "confirmed_low": c_low,
                     "confirmed_high": c_high,
                     "agreement": t["agreed"] / t["compared"] if t["compared"] else math.nan,
                     "agreement_low": a_low, "agreement_high": a_high,
                     "too_few": t["compared"] < min_decisions})
    return pd.DataFrame(rows, columns=columns)


# -- rates and thresholds -------------------------------------------------------------------------------

#: The rates a QA lead can set a threshold on: segments per 100 with ... (the ``severity_stats`` count).
RATE_METRICS: dict[str, tuple[str, str]] = {
    "error_per_100": ("flagged", "segments with a shown flag"),
    "major_per_100": ("major", "segments with a major or critical flag"),
    "critical_per_100": ("critical", "segments with a critical flag"),
}
#: The store setting that holds the thresholds (a list of ``Threshold.to_dict()``).
THRESHOLDS_SETTING = "thresholds"


@dataclass(frozen=True)
class Threshold:
    """The most a rate may reach (per 100 segments) before a feed or run is "over": for one feed,
    one language pair, both, or everything (None: any). The most specific one that applies wins."""

    metric: str
    limit: float
    feed: str | None = None
    lang_pair: str | None = None

    def __post_init__(self) -> None:
        if self.metric not in RATE_METRICS:
            raise UsageError(f"unknown rate {self.metric!r} for a threshold",
                             fix="one of: " + ", ".join(RATE_METRICS))
        if not (isinstance(self.limit, int | float) and math.isfinite(self.limit) and 0 <= self.limit <= 100):
            raise UsageError(f"a threshold is a number of segments per 100, not {self.limit!r}",
                             fix="give a number from 0 to 100")

    @property
    def scope(self) -> str:
        parts = [f"feed {self.feed}" if self.feed else "", self.lang_pair or ""]
        return ", ".join(p for p in parts if p) or "all feeds"

    def applies(self, feed: str | None, lang_pair: str | None) -> bool:
        return (self.feed is None or self.feed == feed) and (self.lang_pair is None or self.lang_pair == lang_pair)

    @property
    def specificity(self) -> int:
        return 2 * (self.feed is not None) + (self.lang_pair is not None)

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "limit": self.limit, "feed": self.feed, "lang_pair": self.lang_pair}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Threshold:
        return cls(metric=str(data["metric"]), limit=float(data["limit"]),
                   feed=data.get("feed") or None, lang_pair=data.get("lang_pair") or None)


def thresholds(store: Store) -> tuple[Threshold, ...]:
    """The thresholds the QA lead saved in the store."""
    raw = store.settings().get(THRESHOLDS_SETTING, [])
    try:
        return tuple(Threshold.from_dict(item) for item in raw)
    except (KeyError, TypeError, ValueError, UsageError) as exc:
        raise StoreError(f"the stored thresholds cannot be read: {exc}", where=store.url,
                         fix="set them again on the Dashboard page") from exc


def save_thresholds(store: Store, items: Iterable[Threshold], *, by: str) -> tuple[Threshold, ...]:
    """Replace the stored thresholds (one per rate and scope: a later one of the same scope wins)."""
    unique: dict[tuple[str, str | None, str | None], Threshold] = {}
    for item in items:
        unique[(item.metric, item.feed, item.lang_pair)] = item
    kept = tuple(unique.values())
    store.set_setting(THRESHOLDS_SETTING, [t.to_dict() for t in kept], by=by)
    return kept


def threshold_for(items: Iterable[Threshold], metric: str, feed: str | None,
                  lang_pair: str | None) -> Threshold | None:
    """The threshold on ``metric`` for this feed and language pair: the most specific that applies."""
    fitting = [t for t in items if t.metric == metric and t.applies(feed, lang_pair)]
    return max(fitting, key=lambda t: t.specificity, default=None)


@dataclass(frozen=True)
class Rate:
    """One rate of one run (or feed) and language pair: ``count`` of ``segments`` per 100, with its
    Wilson interval, and the threshold it is held to (if any)."""

    metric: str
    count: int
    segments: int
    feed: str | None
    lang_pair: str
    run_id: int | None = None
    threshold: Threshold | None = None

    @property
    def per_100(self) -> float:
        return 100 * self.count / self.segments if self.segments else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        low, high = wilson(self.count, self.segments)
        return 100 * low, 100 * high

    @property
    def over(self) -> bool | None:
        """Above its threshold (the measured rate, not the interval); None without a threshold."""
        return None if self.threshold is None else self.per_100 > self.threshold.limit

    @property
    def status(self) -> str:
        return {None: "no threshold", True: "over", False: "under"}[self.over]

    @property
    def where(self) -> str:
        run = f"run {self.run_id}" if self.run_id is not None else f"feed {self.feed or '(none)'}"
        return f"{run}, {self.lang_pair}"

    def describe(self) -> str:
        """One line for a log or a summary: the rate, its interval and n, the threshold."""
        low, high = self.interval
        line = (f"{self.where}: {self.metric} {self.per_100:.1f} (95% CI {low:.1f}-{high:.1f}, "
                f"n={self.segments})")
        if self.threshold is not None:
            line += f" {'>' if self.over else '<='} {self.threshold.limit:g}: {self.status}"
        return line


def rates(store: Store, run_ids: Sequence[int] = (), *, level: str = "run",
          limits: Sequence[Threshold] | None = None) -> list[Rate]:
    """Every rate of ``RATE_METRICS`` per run (``level="run"``) or per feed (``"feed"``: the runs of
    a feed together) and language pair, each held to its threshold (``limits``; None: the stored
    ones)."""
    if level not in ("run", "feed"):
        raise ValueError(f"level is 'run' or 'feed', not {level!r}")
    limits = thresholds(store) if limits is None else limits
    feeds = {r.id: r.feed for r in store.runs()}
    totals: dict[tuple[int | None, str | None, str], dict[str, int]] = {}
    for row in store.severity_stats(run_ids):
        feed = feeds.get(row["run_id"])
        key = (row["run_id"] if level == "run" else None, feed, row["lang_pair"])
        t = totals.setdefault(key, {"segments": 0, "flagged": 0, "major": 0, "critical": 0})
        for name in t:
            t[name] += row[name]
    return [Rate(metric=metric, count=t[column], segments=t["segments"], feed=feed, lang_pair=pair,
                 run_id=run_id, threshold=threshold_for(limits, metric, feed, pair))
            for (run_id, feed, pair), t in totals.items() for metric, (column, _) in RATE_METRICS.items()]


def rate_frame(store: Store, run_ids: Sequence[int] = (), *, level: str = "run",
               limits: Sequence[Threshold] | None = None) -> pd.DataFrame:
    """``rates`` as a table, one row per run (or feed), language pair and rate, with the interval
    (``low``, ``high``, per 100), the threshold (``limit``) and ``status`` (over / under / no
    threshold)."""
    import pandas as pd

    labels = {r.id: r.label for r in store.runs()}
    columns = ["run_id", "run", "feed", "lang_pair", "metric", "count", "segments", "per_100", "low",
               "high", "limit", "status"]
    rows = [{"run_id": r.run_id, "run": labels.get(r.run_id, "") if r.run_id is not None else "",
             "feed": r.feed or "(none)", "lang_pair": r.lang_pair, "metric": r.metric, "count": r.count,
             "segments": r.segments, "per_100": r.per_100, "low": r.interval[0], "high": r.interval[1],
             "limit": r.threshold.limit if r.threshold else math.nan, "status": r.status}
            for r in rates(store, run_ids, level=level, limits=limits)]
    return pd.DataFrame(rows, columns=columns)


def risk_frame(store: Store, run_ids: Sequence[int] = (), *, bins: int = 20) -> pd.DataFrame:
    """Segments per risk bin (segments without a calibrated risk are left out)."""
    import pandas as pd

    rows = [r for r in store.segment_stats(run_ids, bins=bins) if r["bin"] is not None]
    frame = pd.DataFrame(rows, columns=["run_id", "lang_pair", "status", "bin", "segments", "flags",
                                        "risk_low", "risk_high"])
    return (frame.groupby(["risk_low", "risk_high"], as_index=False)["segments"].sum()
            .sort_values("risk_low").reset_index(drop=True))  # type: ignore[call-overload]  # as in over_time


def status_frame(store: Store, run_ids: Sequence[int] = ()) -> pd.DataFrame:
    """Segments and their flags per review status."""
    import pandas as pd

    rows = store.segment_stats(run_ids)
    frame = pd.DataFrame(rows, columns=["run_id", "lang_pair", "status", "bin", "segments", "flags",
                                        "risk_low", "risk_high"])
    return frame.groupby("status", as_index=False)[["segments", "flags"]].sum()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")
