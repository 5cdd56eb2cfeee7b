"""What calibration and the QA dashboard read from the review store: reviewer labels and aggregates
by check, severity, reviewer and risk."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func, select

from tqcheck.model import Severity
from tqcheck.store._base import DECIDING, FLAG, REVIEW, SEG, StoreBase, aware
from tqcheck.store.records import Action, Decision


class StoreStats(StoreBase):
    """Aggregates for calibration and the dashboard (reads only)."""

    def review_labels(self, run_id: int | None = None) -> Iterator[dict[str, Any]]:
        """Every decided flag as a label: the flag, its segment's scores and risk, the decision.

        ``tqcheck calibrate --from-db`` fits the fusion on these: a confirmed flag is a true
        positive of its check, a dismissed one a false alarm.
        """
        stmt = (
            select(FLAG.c.id, FLAG.c.check, FLAG.c.severity, FLAG.c.category, FLAG.c.confidence,
                   FLAG.c.decision, FLAG.c.decided_by, FLAG.c.decided_at, FLAG.c.span_start,
                   FLAG.c.span_end, FLAG.c.span_side, FLAG.c.run_id,
                   SEG.c.seg_id, SEG.c.lang_pair, SEG.c.scores, SEG.c.risk,
                   SEG.c.edited_target.is_not(None).label("fixed"))
            .join(SEG, SEG.c.id == FLAG.c.segment_id)
            .where(FLAG.c.decision.is_not(None))
            .order_by(FLAG.c.id)
        )
        if run_id is not None:
            stmt = stmt.where(FLAG.c.run_id == run_id)
        with self.engine.connect() as conn:
            for row in conn.execute(stmt):
                yield {
                    "flag_id": row.id,
                    "run_id": row.run_id,
                    "segment_id": row.seg_id,
                    "lang_pair": row.lang_pair,
                    "check": row.check,
                    "severity": row.severity,
                    "category": row.category,
                    "confidence": row.confidence,
                    "span": (None if row.span_start is None else
                             {"start": row.span_start, "end": row.span_end, "side": row.span_side}),
                    "scores": dict(row.scores or {}),
                    "risk": row.risk,
                    "decision": row.decision,
                    "confirmed": row.decision == Decision.CONFIRMED.value,
                    "segment_fixed": bool(row.fixed),
                    "reviewer": row.decided_by,
                    "decided_at": aware(row.decided_at),
                }

    def flag_stats(self, run_ids: Sequence[int] = (), *, include_hints: bool = True) -> list[dict[str, Any]]:
        """Flag counts by run, language pair, check, severity, category and decision (without the
        hints, which no reviewer is asked about, unless ``include_hints``)."""
        stmt = (
            select(FLAG.c.run_id, SEG.c.lang_pair, FLAG.c.check, FLAG.c.severity,
                   FLAG.c.category, FLAG.c.decision, func.count().label("flags"))
            .join(SEG, SEG.c.id == FLAG.c.segment_id)
            .group_by(FLAG.c.run_id, SEG.c.lang_pair, FLAG.c.check, FLAG.c.severity,
                      FLAG.c.category, FLAG.c.decision)
        )
        if run_ids:
            stmt = stmt.where(FLAG.c.run_id.in_(run_ids))
        if not include_hints:
            stmt = stmt.where(FLAG.c.hint.is_(False))
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]

    def severity_stats(self, run_ids: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Per run and language pair: segments, and how many have a shown flag, a major-or-worse one,
        a critical one (the rates a QA lead sets thresholds on)."""
        def at_least(rank: int) -> Any:
            return func.sum(case((SEG.c.worst_severity >= rank, 1), else_=0))

        stmt = (select(SEG.c.run_id, SEG.c.lang_pair, func.count().label("segments"),
                       func.sum(case((SEG.c.n_flags > 0, 1), else_=0)).label("flagged"),
                       at_least(Severity.MAJOR.rank).label("major"),
                       at_least(Severity.CRITICAL.rank).label("critical"))
                .group_by(SEG.c.run_id, SEG.c.lang_pair).order_by(SEG.c.run_id, SEG.c.lang_pair))
        if run_ids:
            stmt = stmt.where(SEG.c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
            return [{"run_id": r.run_id, "lang_pair": r.lang_pair, "segments": int(r.segments),
                     "flagged": int(r.flagged or 0), "major": int(r.major or 0),
                     "critical": int(r.critical or 0)} for r in conn.execute(stmt)]

    def reviewer_decisions(self, run_ids: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Each reviewer's last word on each flag they decided, from the review log: one row per
        (flag, reviewer) with ``decision`` confirmed or dismissed (a flag the reviewer last reopened
        is left out). Where two reviewers decided one flag, both rows are here: what agreement
        between reviewers is measured on."""
        last = (select(func.max(REVIEW.c.id).label("id"))
                .where(REVIEW.c.flag_id.is_not(None),
                       REVIEW.c.action.in_([a.value for a in (Action.CONFIRM, Action.DISMISS, Action.REOPEN)]))
                .group_by(REVIEW.c.flag_id, REVIEW.c.reviewer))
        if run_ids:
            last = last.where(REVIEW.c.run_id.in_(run_ids))
        stmt = (select(REVIEW.c.flag_id, REVIEW.c.reviewer, REVIEW.c.action, REVIEW.c.run_id,
                       FLAG.c.check)
                .join(FLAG, FLAG.c.id == REVIEW.c.flag_id)
                .where(REVIEW.c.id.in_(last.scalar_subquery()), REVIEW.c.action != Action.REOPEN.value)
                .order_by(REVIEW.c.flag_id, REVIEW.c.reviewer))
        decided = {a.value: d for a, d in DECIDING.items()}
        with self.engine.connect() as conn:
            return [{"flag_id": r.flag_id, "reviewer": r.reviewer, "decision": decided[r.action],
                     "run_id": r.run_id, "check": r.check} for r in conn.execute(stmt)]

    def segment_stats(self, run_ids: Sequence[int] = (), *, bins: int = 20) -> list[dict[str, Any]]:
        """Segment counts by run, language pair, review status and risk bin (``None``: no risk)."""
        if self.engine.dialect.name == "sqlite":
            # SQLite's floor() exists only in builds with the math functions; a cast truncates,
            # which is floor for risks >= 0. PostgreSQL's cast rounds, so it gets floor().
            bucket: ColumnElement[Any] = cast(SEG.c.risk * bins, Integer)
        else:
            bucket = func.floor(SEG.c.risk * bins)
        stmt = (
            select(SEG.c.run_id, SEG.c.lang_pair, SEG.c.status, bucket.label("bin"),
                   func.count().label("segments"), func.sum(SEG.c.n_flags).label("flags"))
            .group_by(SEG.c.run_id, SEG.c.lang_pair, SEG.c.status, bucket)
        )
        if run_ids:
            stmt = stmt.where(SEG.c.run_id.in_(run_ids))
        out = []
        with self.engine.connect() as conn:
            for row in conn.execute(stmt):
                item = dict(row._mapping)
                if item["bin"] is not None:
                    b = min(int(item["bin"]), bins - 1)
                    item["risk_low"], item["risk_high"] = b / bins, (b + 1) / bins
                else:
                    item["risk_low"] = item["risk_high"] = None
                item["bin"] = None if item["bin"] is None else min(int(item["bin"]), bins - 1)
                out.append(item)
        return out
