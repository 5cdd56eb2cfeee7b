"""Reading the review store: runs, the review queue and its walk, segments with their flags and
reviews, documents and context, the open flags a bulk action would take."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, true

from tqcheck.errors import StoreError
from tqcheck.model import Severity
from tqcheck.store._base import (
    EVERYTHING_FLAGGED,
    FILE,
    FLAG,
    IN_CHUNK,
    REVIEW,
    RUN,
    SEG,
    SEVERITY_BY_RANK,
    StoreBase,
    chunks,
    flag_record,
    flag_where,
    live_holder,
    queue_order,
    review_record,
    run_record,
    same_doc,
    segment_record,
    utcnow,
)
from tqcheck.store.records import (
    BulkSelection,
    DocumentSummary,
    FlagRecord,
    QueueFilter,
    QueueRow,
    ReviewRecord,
    ReviewStatus,
    RunRecord,
    SegmentRecord,
)


class StoreReader(StoreBase):
    """The store's reads, which every writing part builds on."""

    # -- runs --------------------------------------------------------------------------------------

    def runs(self) -> list[RunRecord]:
        """All runs, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(RUN).order_by(RUN.c.created_at.desc(), RUN.c.id.desc())).all()
            files = conn.execute(select(FILE.c.id, FILE.c.run_id, FILE.c.name)).all()
        by_run: dict[int, list[tuple[int, str]]] = {}
        for f in files:
            by_run.setdefault(f.run_id, []).append((f.id, f.name))
        return [run_record(row, tuple(by_run.get(row.id, ()))) for row in rows]

    def run(self, run_id: int) -> RunRecord:
        for record in self.runs():
            if record.id == run_id:
                return record
        raise StoreError(f"no run {run_id} in the review store", where=self.url,
                         fix="list the runs with the Queue page or tqcheck export --help")

    # -- the queue ---------------------------------------------------------------------------------

    def facets(self, run_ids: Sequence[int] = ()) -> dict[str, list[str]]:
        """The values the queue can filter on, for filter widgets."""
        seg_where = SEG.c.run_id.in_(run_ids) if run_ids else true()
        of_runs = FLAG.c.run_id.in_(run_ids) if run_ids else true()
        with self.engine.connect() as conn:
            pairs = conn.execute(select(SEG.c.lang_pair).where(seg_where).distinct()).scalars().all()
            cats = conn.execute(select(FLAG.c.category).where(of_runs).distinct()).scalars().all()
            checks = conn.execute(select(FLAG.c.check).where(of_runs).distinct()).scalars().all()
        return {
            "lang_pairs": sorted(pairs),
            "categories": sorted(cats),
            "checks": sorted(checks),
            "severities": [s.value for s in Severity],
            "statuses": [s.value for s in ReviewStatus],
        }

    def _queue_where(self, f: QueueFilter) -> list[Any]:
        where: list[Any] = []
        if f.run_ids:
            where.append(SEG.c.run_id.in_(f.run_ids))
        if f.doc_ids:
            where.append(SEG.c.doc_id.in_(f.doc_ids))
        if f.assigned_to:
            where.append(SEG.c.assigned_to.in_(f.assigned_to))
        if f.lang_pairs:
            where.append(SEG.c.lang_pair.in_(f.lang_pairs))
        if f.statuses:
            where.append(SEG.c.status.in_([ReviewStatus(s).value for s in f.statuses]))
        if f.flagged_only:
            where.append((SEG.c.n_flags + SEG.c.n_hints > 0) if f.include_hints else (SEG.c.n_flags > 0))
        if f.severities or f.categories or f.checks:
            where.append(exists().where(and_(FLAG.c.segment_id == SEG.c.id, *flag_where(f))))
        text = f.text.strip()
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            # SQLite's LIKE already ignores ASCII case (and its lower() folds no more than that):
            # plain LIKE spares a lower() of every text; elsewhere ILIKE (or lower() LIKE lower()).
            sqlite = self.engine.dialect.name == "sqlite"
            where.append(or_(*(
                (column.like(pattern, escape="\\") if sqlite else column.ilike(pattern, escape="\\"))
                for column in (SEG.c.mt, SEG.c.source, SEG.c.edited_target, SEG.c.seg_id))))
        return where

    def queue(self, queue_filter: QueueFilter = EVERYTHING_FLAGGED, *, limit: int = 50,
              offset: int = 0) -> list[QueueRow]:
        """The segments a reviewer should look at: riskiest first, or in article order."""
        stmt = (
            select(SEG.c.id, SEG.c.run_id, SEG.c.seg_id, SEG.c.lang_pair, SEG.c.mt, SEG.c.risk,
                   SEG.c.priority, SEG.c.worst_severity, SEG.c.n_flags, SEG.c.status,
                   SEG.c.edited_target.is_not(None).label("edited"), SEG.c.doc_id, SEG.c.position,
                   SEG.c.version, SEG.c.assigned_to, SEG.c.claimed_by, SEG.c.claimed_until)
            .where(*self._queue_where(queue_filter))
            .order_by(*queue_order(queue_filter))
            .limit(limit).offset(offset)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        now = utcnow()
        return [
            QueueRow(id=r.id, run_id=r.run_id, seg_id=r.seg_id, lang_pair=r.lang_pair, mt=r.mt,
                     risk=r.risk, priority=r.priority,
                     worst_severity=SEVERITY_BY_RANK.get(r.worst_severity),
                     n_flags=r.n_flags, status=ReviewStatus(r.status), edited=bool(r.edited),
                     doc_id=r.doc_id, position=r.position, version=r.version, assigned_to=r.assigned_to,
                     claimed_by=live_holder(r.claimed_by, r.claimed_until, now))
            for r in rows
        ]

    def queue_count(self, queue_filter: QueueFilter = EVERYTHING_FLAGGED) -> int:
        stmt = select(func.count()).select_from(SEG).where(*self._queue_where(queue_filter))
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def neighbours(self, queue_filter: QueueFilter, segment_id: int) -> tuple[int | None, int | None]:
        """The previous and next segment of the queue around ``segment_id`` (keyset, so cheap).

        Works even when the segment itself no longer matches the filter (it was just reviewed and
        the queue shows unreviewed segments): its place in the sort order is still known.
        """
        with self.engine.connect() as conn:
            where = self._queue_where(queue_filter)
            after = self._walk(conn, queue_filter, where, segment_id, limit=1)
            before = self._walk(conn, queue_filter, where, segment_id, limit=1, backwards=True)
        if after is None:
            return None, None
        return (before[0] if before else None), (after[0] if after else None)

    def _walk(self, conn: Any, f: QueueFilter, where: Sequence[Any], anchor: int | None, *, limit: int,
              backwards: bool = False) -> list[int] | None:
        """Up to ``limit`` ids of the queue after (or before) the segment ``anchor`` in the queue's
        order, from the start when ``anchor`` is None; None when the anchor does not exist.

        Each side is two plain range queries (the anchor's ties, then the rest): an OR of both would
        keep the database from walking the index.
        """
        if anchor is None:
            stmt = select(SEG.c.id).where(*where).order_by(*queue_order(f)).limit(limit)
            return list(conn.execute(stmt).scalars())
        if f.order == "article":
            key = conn.execute(select(SEG.c.run_id, SEG.c.position).where(SEG.c.id == anchor)).first()
            if key is None:
                return None
            near: list[Any] = [SEG.c.run_id == key.run_id,
                               (SEG.c.position < key.position) if backwards else (SEG.c.position > key.position)]
            far: list[Any] = [(SEG.c.run_id < key.run_id) if backwards else (SEG.c.run_id > key.run_id)]
            near_order: list[Any] = [SEG.c.position.desc() if backwards else SEG.c.position.asc()]
            far_order: list[Any] = ([SEG.c.run_id.desc(), SEG.c.position.desc()] if backwards
                                    else [SEG.c.run_id.asc(), SEG.c.position.asc()])
        else:
            priority = conn.execute(select(SEG.c.priority).where(SEG.c.id == anchor)).scalar()
            if priority is None:
                return None
            near = [SEG.c.priority == priority, (SEG.c.id < anchor) if backwards else (SEG.c.id > anchor)]
            far = [(SEG.c.priority > priority) if backwards else (SEG.c.priority < priority)]
            near_order = [SEG.c.id.desc() if backwards else SEG.c.id.asc()]
            far_order = ([SEG.c.priority.asc(), SEG.c.id.desc()] if backwards
                         else [SEG.c.priority.desc(), SEG.c.id.asc()])
        ids = list(conn.execute(select(SEG.c.id).where(*where, *near).order_by(*near_order)
                                .limit(limit)).scalars())
        if len(ids) < limit:
            ids += conn.execute(select(SEG.c.id).where(*where, *far).order_by(*far_order)
                                .limit(limit - len(ids))).scalars()
        return ids

    # -- one segment -------------------------------------------------------------------------------

    def segment(self, segment_id: int) -> SegmentRecord:
        """A segment with its flags, decisions and review log."""
        records = self._records([segment_id])
        if not records:
            raise StoreError(f"no segment {segment_id} in the review store", where=self.url,
                             fix="it may belong to a deleted run; reopen the queue")
        return records[0]

    def find_segment(self, run_id: int, seg_id: str) -> SegmentRecord:
        """A segment by its run and its own id (``Segment.id``)."""
        with self.engine.connect() as conn:
            pk = conn.execute(select(SEG.c.id).where(SEG.c.run_id == run_id, SEG.c.seg_id == seg_id)
                              .order_by(SEG.c.position).limit(1)).scalar()
        if pk is None:
            raise StoreError(f"no segment {seg_id!r} in run {run_id}", where=self.url)
        return self.segment(pk)

    def _records(self, segment_ids: Sequence[int], conn: Any = None) -> list[SegmentRecord]:
        """The segments' records, read on ``conn`` (inside its transaction) or a new connection."""
        if not segment_ids:
            return []
        if conn is None:
            with self.engine.connect() as own:
                return self._records(segment_ids, own)
        segs = conn.execute(select(SEG).where(SEG.c.id.in_(segment_ids))).all()
        flags = conn.execute(select(FLAG).where(FLAG.c.segment_id.in_(segment_ids))
                             .order_by(FLAG.c.segment_id, FLAG.c.position)).all()
        reviews = conn.execute(select(REVIEW).where(REVIEW.c.segment_id.in_(segment_ids))
                               .order_by(REVIEW.c.segment_id, REVIEW.c.id)).all()
        flags_by: dict[int, list[FlagRecord]] = {}
        for row in flags:
            flags_by.setdefault(row.segment_id, []).append(flag_record(row))
        reviews_by: dict[int, list[ReviewRecord]] = {}
        for row in reviews:
            reviews_by.setdefault(row.segment_id, []).append(review_record(row))
        order = {sid: i for i, sid in enumerate(segment_ids)}
        records = [segment_record(row, flags_by.get(row.id, ()), reviews_by.get(row.id, ()))
                   for row in segs]
        records.sort(key=lambda r: order[r.id])
        return records

    def iter_segments(self, *, run_ids: Sequence[int] = (), reviewed_only: bool = False,
                      chunk: int = 500) -> Iterator[SegmentRecord]:
        """Stream stored segments in run and input order (exports, re-summaries)."""
        where: list[Any] = []
        if reviewed_only:
            where.append(or_(SEG.c.status != ReviewStatus.UNREVIEWED.value,
                             SEG.c.edited_target.is_not(None)))
        with self.engine.connect() as conn:
            runs = conn.execute(select(RUN.c.id).order_by(RUN.c.id)).scalars().all()
        for run in (r for r in runs if not run_ids or r in run_ids):
            last = -1
            while True:  # keyset pages along (run, position): each one an index range
                stmt = (select(SEG.c.id, SEG.c.position)
                        .where(SEG.c.run_id == run, SEG.c.position > last, *where)
                        .order_by(SEG.c.position).limit(chunk))
                with self.engine.connect() as conn:
                    rows = conn.execute(stmt).all()
                if not rows:
                    break
                yield from self._records([r.id for r in rows])
                last = rows[-1].position

    # -- documents and context ---------------------------------------------------------------------

    def documents(self, run_ids: Sequence[int] = ()) -> list[DocumentSummary]:
        """The runs' documents, each run's in input order, with how much of each is left to review."""
        flagged = case((SEG.c.n_flags > 0, 1), else_=0)
        open_ = case((and_(SEG.c.n_flags > 0, SEG.c.status != ReviewStatus.REVIEWED.value), 1), else_=0)
        stmt = (
            select(SEG.c.run_id, SEG.c.doc_id, func.count().label("segments"),
                   func.sum(flagged).label("flagged"), func.sum(open_).label("to_review"),
                   func.min(SEG.c.position).label("first"))
            .group_by(SEG.c.run_id, SEG.c.doc_id)
            .order_by(SEG.c.run_id, func.min(SEG.c.position))
        )
        if run_ids:
            stmt = stmt.where(SEG.c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [DocumentSummary(run_id=r.run_id, doc_id=r.doc_id, segments=int(r.segments),
                                flagged=int(r.flagged or 0), to_review=int(r.to_review or 0))
                for r in rows]

    def article(self, run_id: int, doc_id: str | None) -> list[SegmentRecord]:
        """A document's segments in input order (``doc_id`` None: the run's segments without one)."""
        with self.engine.connect() as conn:
            ids = conn.execute(select(SEG.c.id).where(SEG.c.run_id == run_id, same_doc(doc_id))
                               .order_by(SEG.c.position)).scalars().all()
            return [record for chunk in chunks(ids) for record in self._records(chunk, conn)]

    def context(self, segment_id: int, *, before: int = 1,
                after: int = 1) -> tuple[list[SegmentRecord], list[SegmentRecord]]:
        """The sentences around a segment in its document (same run, same ``doc_id``), in input
        order: up to ``before`` preceding and ``after`` following segments, with their flags.
        A sentence such as "Mexico! Mexico!" cannot be judged without the one before it."""
        with self.engine.connect() as conn:
            key = conn.execute(select(SEG.c.run_id, SEG.c.doc_id, SEG.c.position)
                               .where(SEG.c.id == segment_id)).first()
            if key is None:
                raise StoreError(f"no segment {segment_id} in the review store", where=self.url)
            same = [SEG.c.run_id == key.run_id, same_doc(key.doc_id)]
            prev_ids = conn.execute(select(SEG.c.id).where(*same, SEG.c.position < key.position)
                                    .order_by(SEG.c.position.desc()).limit(max(before, 0))).scalars().all()
            next_ids = conn.execute(select(SEG.c.id).where(*same, SEG.c.position > key.position)
                                    .order_by(SEG.c.position.asc()).limit(max(after, 0))).scalars().all()
            return self._records(list(reversed(prev_ids)), conn), self._records(list(next_ids), conn)

    # -- what a bulk action would take -------------------------------------------------------------

    def select_open_flags(self, queue_filter: QueueFilter = EVERYTHING_FLAGGED, *,
                          segment_ids: Sequence[int] | None = None) -> BulkSelection:
        """Every undecided flag the filter's flag conditions (check, category, severity; hints only
        with ``include_hints``) match, on the segments the filter matches (``segment_ids``: only
        those rows), in queue order, each segment with its current version: what a bulk action
        is about, picked before the reviewer says yes."""
        # The flag conditions go on the joined flags themselves, not through the queue's EXISTS.
        segments_only = replace(queue_filter, severities=(), categories=(), checks=())
        where = [*self._queue_where(segments_only), FLAG.c.decision.is_(None), *flag_where(queue_filter)]
        stmt = (select(SEG.c.id.label("segment_id"), FLAG.c.id.label("flag_id"), SEG.c.version)
                .join(FLAG, FLAG.c.segment_id == SEG.c.id)
                .order_by(*queue_order(queue_filter), FLAG.c.position))
        rows: list[Any] = []
        with self.engine.connect() as conn:
            if segment_ids is None:
                rows = list(conn.execute(stmt.where(*where)))
            else:
                wanted = list(dict.fromkeys(segment_ids))
                for chunk in chunks(wanted):
                    rows += conn.execute(stmt.where(*where, SEG.c.id.in_(chunk)))
                if len(wanted) > IN_CHUNK:  # each chunk came in queue order; keep the caller's rows'
                    place = {sid: i for i, sid in enumerate(wanted)}
                    rows.sort(key=lambda r: place[r.segment_id])
        return BulkSelection(flags=tuple((r.segment_id, r.flag_id) for r in rows),
                             versions={r.segment_id: r.version for r in rows})
