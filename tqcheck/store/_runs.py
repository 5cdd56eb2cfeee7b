"""Writing runs into the review store: a run's signature, its results in batches, its summary, the
files it was checked from; importing a report; deleting a run."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from tqcheck.errors import StoreError
from tqcheck.model import RunSignature, SegmentResult, Summary
from tqcheck.store._base import (
    FILE,
    FLAG,
    INSERT_BATCH,
    REVIEW,
    RUN,
    SEG,
    bulk_insert,
    engines_label,
    parse_time,
    utcnow,
)
from tqcheck.store._read import StoreReader
from tqcheck.store.records import ReviewStatus


class RunWriter(StoreReader):
    """Runs in, batch by batch (``start_run`` / ``add_results`` / ``finish_run``)."""

    def start_run(self, signature: RunSignature, *, name: str, feed: str | None = None,
                  created_at: _dt.datetime | None = None) -> int:
        """Record a new run and return its id; results follow with ``add_results``."""
        created = created_at or parse_time(signature.created_at) or utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(insert(RUN).values(
                name=name,
                feed=feed,
                created_at=created,
                finished_at=None,
                tqcheck_version=signature.tqcheck_version,
                config_hash=signature.config_hash,
                engines=engines_label(signature),
                language_pairs=",".join(signature.language_pairs),
                signature=signature.to_dict(),
                summary=None,
                segment_count=0,
                flagged_count=0,
            ))
            return int(result.inserted_primary_key[0])  # type: ignore[index]  # an INSERT's key is known

    def add_results(self, run_id: int, results: Iterable[SegmentResult]) -> int:
        """Append results to a run, in order, in batched inserts; returns how many were added.

        One transaction per call: readers (the UI) see the whole call's segments or none of them.
        """
        added = flagged = 0
        with self.engine.begin() as conn:
            if conn.execute(select(RUN.c.id).where(RUN.c.id == run_id)).first() is None:
                raise StoreError(f"no run {run_id} in the review store", where=self.url)
            position = conn.execute(
                select(func.coalesce(func.max(SEG.c.position), -1)).where(SEG.c.run_id == run_id)
            ).scalar_one() + 1
            batch: list[SegmentResult] = []
            for result in results:
                batch.append(result)
                if len(batch) >= INSERT_BATCH:
                    flagged += self._insert_batch(conn, run_id, position + added, batch)
                    added += len(batch)
                    batch = []
            if batch:
                flagged += self._insert_batch(conn, run_id, position + added, batch)
                added += len(batch)
            if added:
                conn.execute(update(RUN).where(RUN.c.id == run_id).values(
                    segment_count=RUN.c.segment_count + added,
                    flagged_count=RUN.c.flagged_count + flagged,
                ))
        if added and self.engine.dialect.name == "sqlite":
            self._analyze()
        return added

    def _analyze(self) -> None:
        """Refresh SQLite's planner statistics when the segments table has grown by half.

        Without them SQLite answers the queue by sorting every matching segment (0.2 s at 100,000)
        instead of walking the priority index and stopping after a page (under 1 ms). A full
        ANALYZE costs about 0.25 s at 100,000 segments; growing by half between two keeps the
        total a small multiple of one. PostgreSQL's autovacuum keeps its own statistics.
        """
        with self.engine.begin() as conn:
            now = conn.execute(select(func.count()).select_from(SEG)).scalar_one()
            then = 0
            if conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE name='sqlite_stat1'").first() is not None:
                stat = conn.exec_driver_sql(
                    "SELECT stat FROM sqlite_stat1 WHERE idx='ix_tq_segments_priority'").scalar()
                then = int(stat.split()[0]) if stat else 0
            if now >= 1.5 * then + 100:
                conn.exec_driver_sql("PRAGMA analysis_limit=0")
                conn.exec_driver_sql("ANALYZE")

    def _insert_batch(self, conn: Any, run_id: int, start: int, batch: Sequence[SegmentResult]) -> int:
        rows = []
        for offset, result in enumerate(batch):
            seg = result.segment
            worst = result.worst_severity
            rows.append({
                "run_id": run_id,
                "position": start + offset,
                "seg_id": seg.id,
                "source": seg.source,
                "mt": seg.mt,
                "reference": seg.reference,
                "source_lang": seg.source_lang,
                "target_lang": seg.target_lang,
                "lang_pair": seg.language_pair,
                "doc_id": seg.doc_id,
                "origin": seg.origin,
                "metadata": dict(seg.metadata),
                "scores": dict(result.scores),
                "artifacts": dict(result.artifacts),
                "risk": result.risk,
                "priority": result.priority,
                "worst_severity": worst.rank if worst else 0,
                "n_flags": len(result.shown_flags),
                "n_hints": len(result.hints),
                "status": ReviewStatus.UNREVIEWED.value,
                "edited_target": None,
                "version": 0,
                "updated_at": None,
                "updated_by": None,
            })
        bulk_insert(conn, SEG, rows)
        # The new rows' ids, by position ((run, position) is unique): one indexed query, where
        # RETURNING in parameter order would make SQLite insert row by row.
        ids = conn.execute(
            select(SEG.c.id)
            .where(SEG.c.run_id == run_id, SEG.c.position >= start,
                   SEG.c.position < start + len(rows))
            .order_by(SEG.c.position)
        ).scalars().all()
        flag_rows = [
            {
                "segment_id": segment_id,
                "run_id": run_id,
                "position": i,
                "check": flag.check,
                "severity": flag.severity.value,
                "severity_rank": flag.severity.rank,
                "category": flag.category.value,
                "message": flag.message,
                "span_start": flag.span.start if flag.span else None,
                "span_end": flag.span.end if flag.span else None,
                "span_side": flag.span.side.value if flag.span else None,
                "evidence": dict(flag.evidence),
                "confidence": flag.confidence,
                "p_error": flag.p_error,
                "p_major": flag.p_major,
                "hint": flag.hint,
                "decision": None,
                "decided_by": None,
                "decided_at": None,
            }
            for segment_id, result in zip(ids, batch)
            for i, flag in enumerate(result.flags)
        ]
        if flag_rows:
            bulk_insert(conn, FLAG, flag_rows)
        return sum(1 for r in batch if r.shown_flags)

    def finish_run(self, run_id: int, summary: Summary, *,
                   signature: RunSignature | None = None) -> None:
        """Close a run with its summary; ``signature``, if given, replaces the one from the start
        (engines picked by ``auto`` are only known once the run has gone)."""
        values: dict[str, Any] = {"summary": summary.to_dict(), "finished_at": utcnow()}
        if signature is not None:
            values.update(signature=signature.to_dict(), engines=engines_label(signature),
                          language_pairs=",".join(signature.language_pairs),
                          config_hash=signature.config_hash,
                          tqcheck_version=signature.tqcheck_version)
        with self.engine.begin() as conn:
            conn.execute(update(RUN).where(RUN.c.id == run_id).values(**values))

    def import_report(self, signature: RunSignature, results: Iterable[SegmentResult],
                      summary: Summary | None, *, name: str, feed: str | None = None) -> int:
        """A whole report in one call (``tqcheck import``); returns the run id."""
        run_id = self.start_run(signature, name=name, feed=feed)
        try:
            self.add_results(run_id, results)
        except BaseException:
            self.delete_run(run_id)  # never leave half a run behind
            raise
        if summary is None:
            summary = Summary.of(r.to_result() for r in self.iter_segments(run_ids=(run_id,)))
        self.finish_run(run_id, summary)
        return run_id

    def attach_file(self, run_id: int, name: str, content: bytes, *, format: str | None = None) -> int:
        """Keep the input file of a run (an XLIFF) so that corrections can be written back into it."""
        with self.engine.begin() as conn:
            result = conn.execute(insert(FILE).values(run_id=run_id, name=name, format=format,
                                                       content=content))
            return int(result.inserted_primary_key[0])  # type: ignore[index]  # an INSERT's key is known

    def run_file(self, file_id: int) -> tuple[str, str | None, bytes]:
        with self.engine.connect() as conn:
            row = conn.execute(select(FILE.c.name, FILE.c.format, FILE.c.content)
                               .where(FILE.c.id == file_id)).first()
        if row is None:
            raise StoreError(f"no stored file {file_id}", where=self.url)
        return row.name, row.format, bytes(row.content)

    def delete_run(self, run_id: int) -> None:
        """Remove a run with everything in it (reviews included)."""
        with self.engine.begin() as conn:
            segment_ids = select(SEG.c.id).where(SEG.c.run_id == run_id)
            conn.execute(delete(REVIEW).where(REVIEW.c.segment_id.in_(segment_ids)))
            conn.execute(delete(FLAG).where(FLAG.c.run_id == run_id))
            conn.execute(delete(SEG).where(SEG.c.run_id == run_id))
            conn.execute(delete(FILE).where(FILE.c.run_id == run_id))
            conn.execute(delete(RUN).where(RUN.c.id == run_id))
