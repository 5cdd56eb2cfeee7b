"""The numbers behind the QA dashboard, as pandas frames (the UI only draws them).

The store aggregates in SQL (``flag_stats``, ``segment_stats``), so a dashboard over a million flags
moves a few hundred rows; here they are joined with the runs (date, feed, engines) and shaped for
the charts: flags over time by severity and category, flags by feed / language pair / engine, the
distribution of risk, and each check's precision in practice (how often reviewers confirmed it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tqcheck.store.store import Store

if TYPE_CHECKING:
    import pandas as pd

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
    flags = pd.DataFrame(store.flag_stats(run_ids), columns=columns)
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


def precision_frame(flags: pd.DataFrame) -> pd.DataFrame:
    """Per check: confirmed, dismissed, undecided, and precision = confirmed / decided."""
    import pandas as pd

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
    return table.sort_values(["decided", "check"], ascending=[False, True]).reset_index(drop=True) \
        if len(table) else pd.DataFrame(columns=["check", "confirmed", "dismissed", "undecided",
                                                 "decided", "precision"])


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
