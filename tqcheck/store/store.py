"""The review store: runs, segments, flags and reviewer decisions in one SQL database.

SQLite (in WAL mode, so that the UI reads while a run writes) is the embedded default; any SQLAlchemy
URL works, PostgreSQL included, so that a team can share one store. Every reviewer action is saved the
moment it is made, in one transaction with the segment's version check: a save based on a stale
version raises ``SegmentConflict`` (a ``ReviewConflict``) carrying both sides instead of overwriting.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    and_,
    cast,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    IntegrityError,
    NoSuchModuleError,
    SQLAlchemyError,
)
from sqlalchemy.pool import StaticPool

from tqcheck.errors import StoreError, UsageError
from tqcheck.model import (
    Category,
    Flag,
    RunSignature,
    Segment,
    SegmentResult,
    Severity,
    Side,
    Span,
    Summary,
)
from tqcheck.store.records import (
    Action,
    Decision,
    FlagRecord,
    QueueFilter,
    QueueRow,
    ReviewAction,
    ReviewRecord,
    ReviewStatus,
    RunRecord,
    SegmentConflict,
    SegmentRecord,
)
from tqcheck.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Base,
    FlagRow,
    MetaRow,
    ReviewRow,
    RunFileRow,
    RunRow,
    SegmentRow,
)

# The mapped classes' tables, as Tables (``__table__`` is typed as any FROM clause).
_SEG = Base.metadata.tables[SegmentRow.__tablename__]
_FLAG = Base.metadata.tables[FlagRow.__tablename__]
_REVIEW = Base.metadata.tables[ReviewRow.__tablename__]
_RUN = Base.metadata.tables[RunRow.__tablename__]
_FILE = Base.metadata.tables[RunFileRow.__tablename__]
_META = Base.metadata.tables[MetaRow.__tablename__]

_SEVERITY_BY_RANK = {s.rank: s.value for s in Severity}
_EVERYTHING_FLAGGED = QueueFilter()  # frozen: safe as a default argument
_INSERT_BATCH = 2000


def default_store_path() -> Path:
    """Where the store lives when neither ``--db`` nor ``TQCHECK_DB`` says: read at call time."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tqcheck" / "review.sqlite"


def store_url(url_or_path: str | os.PathLike[str] | None = None) -> str:
    """Turn ``--db`` / ``TQCHECK_DB`` / the default into a SQLAlchemy URL (plain paths: SQLite)."""
    target = str(url_or_path) if url_or_path else (os.environ.get("TQCHECK_DB") or "")
    if not target:
        target = str(default_store_path())
    if "://" in target:
        return target
    if target == ":memory:":
        return "sqlite://"
    path = Path(target).expanduser().resolve()
    return f"sqlite:///{path}"


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@overload
def _aware(value: _dt.datetime) -> _dt.datetime: ...
@overload
def _aware(value: None) -> None: ...
@overload
def _aware(value: _dt.datetime | None) -> _dt.datetime | None: ...
def _aware(value: _dt.datetime | None) -> _dt.datetime | None:
    # SQLite keeps no time zone; everything is written in UTC, so read it back as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=_dt.UTC)
    return value


def _engines_label(signature: RunSignature) -> str:
    parts = []
    for engine in signature.engines:
        name = engine.name + (f":{engine.model_id}" if engine.model_id else "")
        parts.append(f"{engine.role}={name}")
    return "; ".join(parts) if parts else "rules only"


class Store:
    """A review store on one database. Cheap to share between threads (one engine, pooled).

    Open with ``Store.open(url_or_path)``; write a run with ``start_run`` / ``add_results`` /
    ``finish_run``; review with ``save_review``; read with ``queue``, ``segment``, ``runs``,
    ``review_labels`` and the dashboard aggregates.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, url_or_path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Store:
        """Open (and, with ``create``, initialise) the store; check its schema version.

        ``None`` means ``$TQCHECK_DB`` or ``~/.local/share/tqcheck/review.sqlite``; a plain path is a
        SQLite file (its folder is created); anything with ``://`` is a SQLAlchemy URL.
        """
        url = store_url(url_or_path)
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise UsageError(f"not a database URL or path: {url!r}",
                             fix="give a file path or a URL such as postgresql://user@host/db") from exc
        shown = parsed.render_as_string(hide_password=True)
        kwargs: dict[str, Any] = {}
        is_sqlite = parsed.get_backend_name() == "sqlite"
        if is_sqlite:
            # Streamlit serves each session from its own thread; the store is shared between them.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            database = parsed.database
            if not database or database == ":memory:":
                kwargs["poolclass"] = StaticPool
            elif not create and not Path(database).exists():
                raise StoreError("no review store here", where=database,
                                 fix="import a report first (tqcheck import report.jsonl --db ...)")
            else:
                try:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create the folder for the review store: {exc}",
                                     where=database, fix="choose a writable path with --db") from exc
        try:
            engine = create_engine(parsed, json_serializer=_json_dumps, **kwargs)
        except NoSuchModuleError as exc:
            raise StoreError(f"no SQLAlchemy dialect for {parsed.drivername!r}", where=shown,
                             fix="check the URL's scheme (sqlite, postgresql+psycopg, ...)") from exc
        except ImportError as exc:
            raise StoreError(f"the database driver is not installed: {exc}", where=shown,
                             fix="pip install the driver, e.g. psycopg for PostgreSQL") from exc
        if is_sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            store._check_schema(create=create, shown=shown)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the review store: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]}", where=shown,
                             fix="check the path or URL and that the database is reachable") from exc
        except Exception:
            engine.dispose()
            raise
        return store

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        if self.engine.dialect.name == "sqlite":
            try:  # statistics drift as reviews change statuses; SQLite refreshes them if needed
                with self.engine.begin() as conn:
                    conn.exec_driver_sql("PRAGMA optimize")
            except SQLAlchemyError:
                pass
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_schema(self, *, create: bool, shown: str) -> None:
        tables = set(inspect(self.engine).get_table_names())
        if "tq_meta" in tables:
            self._check_version(shown)
            return
        if tables & {"tq_runs", "tq_segments", "tq_flags", "tq_reviews"}:
            raise StoreError("the database has tqcheck tables but no schema version", where=shown,
                             fix="it was not written by tqcheck; use another --db")
        if not create:
            raise StoreError("no review store here", where=shown,
                             fix="import a report first (tqcheck import report.jsonl --db ...)")
        Base.metadata.create_all(self.engine)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(_META).values(key="schema_version", value=str(SCHEMA_VERSION)))
        except IntegrityError:
            pass  # another process initialised it at the same moment
        self._check_version(shown)

    def _check_version(self, shown: str) -> None:
        with self.engine.connect() as conn:
            value = conn.execute(select(_META.c.value).where(_META.c.key == "schema_version")).scalar()
        if value is None or not value.isdigit():
            raise StoreError("the review store records no schema version", where=shown,
                             fix="use another --db, or recreate the store and import the reports")
        version = int(value)
        while version < SCHEMA_VERSION and version in MIGRATIONS:
            version = self._migrate(version)
        if version != SCHEMA_VERSION:
            newer = version > SCHEMA_VERSION
            raise StoreError(
                f"the review store has schema version {version}; this tqcheck reads version "
                f"{SCHEMA_VERSION}",
                where=shown,
                fix=("upgrade tqcheck to the version that wrote it" if newer else
                     "export it with the tqcheck that wrote it (tqcheck export --format jsonl), "
                     "then open a new store with --db and import again"),
            )

    def _migrate(self, version: int) -> int:
        """Upgrade the store from ``version`` to the next one, in one transaction (a store another
        process upgraded at the same moment is left as it is)."""
        with self.engine.begin() as conn:
            current = conn.execute(select(_META.c.value).where(_META.c.key == "schema_version")).scalar()
            if current != str(version):
                return int(current) if current and current.isdigit() else version
            for statement in MIGRATIONS[version]:
                conn.exec_driver_sql(statement)
            conn.execute(update(_META).where(_META.c.key == "schema_version").values(value=str(version + 1)))
        return version + 1

    # -- writing runs ---------------------------------------------------------------------------

    def start_run(self, signature: RunSignature, *, name: str, feed: str | None = None,
                  created_at: _dt.datetime | None = None) -> int:
        """Record a new run and return its id; results follow with ``add_results``."""
        created = created_at or _parse_time(signature.created_at) or _utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(insert(_RUN).values(
                name=name,
                feed=feed,
                created_at=created,
                finished_at=None,
                tqcheck_version=signature.tqcheck_version,
                config_hash=signature.config_hash,
                engines=_engines_label(signature),
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
            if conn.execute(select(_RUN.c.id).where(_RUN.c.id == run_id)).first() is None:
                raise StoreError(f"no run {run_id} in the review store", where=self.url)
            position = conn.execute(
                select(func.coalesce(func.max(_SEG.c.position), -1)).where(_SEG.c.run_id == run_id)
            ).scalar_one() + 1
            batch: list[SegmentResult] = []
            for result in results:
                batch.append(result)
                if len(batch) >= _INSERT_BATCH:
                    flagged += self._insert_batch(conn, run_id, position + added, batch)
                    added += len(batch)
                    batch = []
            if batch:
                flagged += self._insert_batch(conn, run_id, position + added, batch)
                added += len(batch)
            if added:
                conn.execute(update(_RUN).where(_RUN.c.id == run_id).values(
                    segment_count=_RUN.c.segment_count + added,
                    flagged_count=_RUN.c.flagged_count + flagged,
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
            now = conn.execute(select(func.count()).select_from(_SEG)).scalar_one()
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
        _bulk_insert(conn, _SEG, rows)
        # The new rows' ids, by position ((run, position) is unique): one indexed query, where
        # RETURNING in parameter order would make SQLite insert row by row.
        ids = conn.execute(
            select(_SEG.c.id)
            .where(_SEG.c.run_id == run_id, _SEG.c.position >= start,
                   _SEG.c.position < start + len(rows))
            .order_by(_SEG.c.position)
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
            _bulk_insert(conn, _FLAG, flag_rows)
        return sum(1 for r in batch if r.shown_flags)

    def finish_run(self, run_id: int, summary: Summary, *,
                   signature: RunSignature | None = None) -> None:
        """Close a run with its summary; ``signature``, if given, replaces the one from the start
        (engines picked by ``auto`` are only known once the run has gone)."""
        values: dict[str, Any] = {"summary": summary.to_dict(), "finished_at": _utcnow()}
        if signature is not None:
            values.update(signature=signature.to_dict(), engines=_engines_label(signature),
                          language_pairs=",".join(signature.language_pairs),
                          config_hash=signature.config_hash,
                          tqcheck_version=signature.tqcheck_version)
        with self.engine.begin() as conn:
            conn.execute(update(_RUN).where(_RUN.c.id == run_id).values(**values))

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
            result = conn.execute(insert(_FILE).values(run_id=run_id, name=name, format=format,
                                                       content=content))
            return int(result.inserted_primary_key[0])  # type: ignore[index]  # an INSERT's key is known

    def run_file(self, file_id: int) -> tuple[str, str | None, bytes]:
        with self.engine.connect() as conn:
            row = conn.execute(select(_FILE.c.name, _FILE.c.format, _FILE.c.content)
                               .where(_FILE.c.id == file_id)).first()
        if row is None:
            raise StoreError(f"no stored file {file_id}", where=self.url)
        return row.name, row.format, bytes(row.content)

    def delete_run(self, run_id: int) -> None:
        """Remove a run with everything in it (reviews included)."""
        with self.engine.begin() as conn:
            segment_ids = select(_SEG.c.id).where(_SEG.c.run_id == run_id)
            conn.execute(delete(_REVIEW).where(_REVIEW.c.segment_id.in_(segment_ids)))
            conn.execute(delete(_FLAG).where(_FLAG.c.run_id == run_id))
            conn.execute(delete(_SEG).where(_SEG.c.run_id == run_id))
            conn.execute(delete(_FILE).where(_FILE.c.run_id == run_id))
            conn.execute(delete(_RUN).where(_RUN.c.id == run_id))

    # -- reading runs ---------------------------------------------------------------------------

    def runs(self) -> list[RunRecord]:
        """All runs, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_RUN).order_by(_RUN.c.created_at.desc(), _RUN.c.id.desc())).all()
            files = conn.execute(select(_FILE.c.id, _FILE.c.run_id, _FILE.c.name)).all()
        by_run: dict[int, list[tuple[int, str]]] = {}
        for f in files:
            by_run.setdefault(f.run_id, []).append((f.id, f.name))
        return [_run_record(row, tuple(by_run.get(row.id, ()))) for row in rows]

    def run(self, run_id: int) -> RunRecord:
        for record in self.runs():
            if record.id == run_id:
                return record
        raise StoreError(f"no run {run_id} in the review store", where=self.url,
                         fix="list the runs with the Queue page or tqcheck export --help")

    def facets(self, run_ids: Sequence[int] = ()) -> dict[str, list[str]]:
        """The values the queue can filter on, for filter widgets."""
        seg_where = _SEG.c.run_id.in_(run_ids) if run_ids else true()
        flag_where = _FLAG.c.run_id.in_(run_ids) if run_ids else true()
        with self.engine.connect() as conn:
            pairs = conn.execute(select(_SEG.c.lang_pair).where(seg_where).distinct()).scalars().all()
            cats = conn.execute(select(_FLAG.c.category).where(flag_where).distinct()).scalars().all()
            checks = conn.execute(select(_FLAG.c.check).where(flag_where).distinct()).scalars().all()
        return {
            "lang_pairs": sorted(pairs),
            "categories": sorted(cats),
            "checks": sorted(checks),
            "severities": [s.value for s in Severity],
            "statuses": [s.value for s in ReviewStatus],
        }

    # -- the queue ------------------------------------------------------------------------------

    def _queue_where(self, f: QueueFilter) -> list[Any]:
        where: list[Any] = []
        if f.run_ids:
            where.append(_SEG.c.run_id.in_(f.run_ids))
        if f.lang_pairs:
            where.append(_SEG.c.lang_pair.in_(f.lang_pairs))
        if f.statuses:
            where.append(_SEG.c.status.in_([ReviewStatus(s).value for s in f.statuses]))
        if f.flagged_only:
            where.append((_SEG.c.n_flags + _SEG.c.n_hints > 0) if f.include_hints else (_SEG.c.n_flags > 0))
        if f.severities or f.categories or f.checks:
            cond = [_FLAG.c.segment_id == _SEG.c.id]
            if not f.include_hints:
                cond.append(_FLAG.c.hint.is_(False))
            if f.severities:
                cond.append(_FLAG.c.severity_rank.in_([Severity(s).rank for s in f.severities]))
            if f.categories:
                cond.append(_FLAG.c.category.in_(f.categories))
            if f.checks:
                cond.append(_FLAG.c.check.in_(f.checks))
            where.append(exists().where(and_(*cond)))
        text = f.text.strip()
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            # SQLite's LIKE already ignores ASCII case (and its lower() folds no more than that):
            # plain LIKE spares a lower() of every text; elsewhere ILIKE (or lower() LIKE lower()).
            sqlite = self.engine.dialect.name == "sqlite"
            where.append(or_(*(
                (column.like(pattern, escape="\\") if sqlite else column.ilike(pattern, escape="\\"))
                for column in (_SEG.c.mt, _SEG.c.source, _SEG.c.edited_target, _SEG.c.seg_id))))
        return where

    def queue(self, queue_filter: QueueFilter = _EVERYTHING_FLAGGED, *, limit: int = 50,
              offset: int = 0) -> list[QueueRow]:
        """The segments a reviewer should look at, riskiest first."""
        stmt = (
            select(_SEG.c.id, _SEG.c.run_id, _SEG.c.seg_id, _SEG.c.lang_pair, _SEG.c.mt, _SEG.c.risk,
                   _SEG.c.priority, _SEG.c.worst_severity, _SEG.c.n_flags, _SEG.c.status,
                   _SEG.c.edited_target.is_not(None).label("edited"))
            .where(*self._queue_where(queue_filter))
            .order_by(_SEG.c.priority.desc(), _SEG.c.id.asc())
            .limit(limit).offset(offset)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            QueueRow(id=r.id, run_id=r.run_id, seg_id=r.seg_id, lang_pair=r.lang_pair, mt=r.mt,
                     risk=r.risk, priority=r.priority,
                     worst_severity=_SEVERITY_BY_RANK.get(r.worst_severity),
                     n_flags=r.n_flags, status=ReviewStatus(r.status), edited=bool(r.edited))
            for r in rows
        ]

    def queue_count(self, queue_filter: QueueFilter = _EVERYTHING_FLAGGED) -> int:
        stmt = select(func.count()).select_from(_SEG).where(*self._queue_where(queue_filter))
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def neighbours(self, queue_filter: QueueFilter, segment_id: int) -> tuple[int | None, int | None]:
        """The previous and next segment of the queue around ``segment_id`` (keyset, so cheap).

        Works even when the segment itself no longer matches the filter (it was just reviewed and
        the queue shows unreviewed segments): its place in the sort order is still known.
        """
        with self.engine.connect() as conn:
            priority = conn.execute(select(_SEG.c.priority).where(_SEG.c.id == segment_id)).scalar()
            if priority is None:
                return None, None
            where = self._queue_where(queue_filter)
            # Each side in two plain range queries (ties on priority by id, then lower / higher
            # priorities): an OR of both would keep the database from walking the index.
            nxt = conn.execute(select(_SEG.c.id).where(*where, _SEG.c.priority == priority,
                                                       _SEG.c.id > segment_id)
                               .order_by(_SEG.c.id.asc()).limit(1)).scalar()
            if nxt is None:
                nxt = conn.execute(select(_SEG.c.id).where(*where, _SEG.c.priority < priority)
                                   .order_by(_SEG.c.priority.desc(), _SEG.c.id.asc()).limit(1)).scalar()
            prev = conn.execute(select(_SEG.c.id).where(*where, _SEG.c.priority == priority,
                                                        _SEG.c.id < segment_id)
                                .order_by(_SEG.c.id.desc()).limit(1)).scalar()
            if prev is None:
                prev = conn.execute(select(_SEG.c.id).where(*where, _SEG.c.priority > priority)
                                    .order_by(_SEG.c.priority.asc(), _SEG.c.id.desc()).limit(1)).scalar()
        return prev, nxt

    # -- one segment ----------------------------------------------------------------------------

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
            pk = conn.execute(select(_SEG.c.id).where(_SEG.c.run_id == run_id, _SEG.c.seg_id == seg_id)
                              .order_by(_SEG.c.position).limit(1)).scalar()
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
        segs = conn.execute(select(_SEG).where(_SEG.c.id.in_(segment_ids))).all()
        flags = conn.execute(select(_FLAG).where(_FLAG.c.segment_id.in_(segment_ids))
                             .order_by(_FLAG.c.segment_id, _FLAG.c.position)).all()
        reviews = conn.execute(select(_REVIEW).where(_REVIEW.c.segment_id.in_(segment_ids))
                               .order_by(_REVIEW.c.segment_id, _REVIEW.c.id)).all()
        flags_by: dict[int, list[FlagRecord]] = {}
        for row in flags:
            flags_by.setdefault(row.segment_id, []).append(_flag_record(row))
        reviews_by: dict[int, list[ReviewRecord]] = {}
        for row in reviews:
            reviews_by.setdefault(row.segment_id, []).append(_review_record(row))
        order = {sid: i for i, sid in enumerate(segment_ids)}
        records = [_segment_record(row, flags_by.get(row.id, ()), reviews_by.get(row.id, ()))
                   for row in segs]
        records.sort(key=lambda r: order[r.id])
        return records

    def iter_segments(self, *, run_ids: Sequence[int] = (), reviewed_only: bool = False,
                      chunk: int = 500) -> Iterator[SegmentRecord]:
        """Stream stored segments in run and input order (exports, re-summaries)."""
        where: list[Any] = []
        if reviewed_only:
            where.append(or_(_SEG.c.status != ReviewStatus.UNREVIEWED.value,
                             _SEG.c.edited_target.is_not(None)))
        with self.engine.connect() as conn:
            runs = conn.execute(select(_RUN.c.id).order_by(_RUN.c.id)).scalars().all()
        for run in (r for r in runs if not run_ids or r in run_ids):
            last = -1
            while True:  # keyset pages along (run, position): each one an index range
                stmt = (select(_SEG.c.id, _SEG.c.position)
                        .where(_SEG.c.run_id == run, _SEG.c.position > last, *where)
                        .order_by(_SEG.c.position).limit(chunk))
                with self.engine.connect() as conn:
                    rows = conn.execute(stmt).all()
                if not rows:
                    break
                yield from self._records([r.id for r in rows])
                last = rows[-1].position

    # -- reviewing ------------------------------------------------------------------------------

    def save_review(
        self,
        segment_id: int,
        *,
        reviewer: str,
        action: Action | str,
        based_on_version: int,
        flag_id: int | None = None,
        comment: str | None = None,
        edited_target: str | None = None,
    ) -> SegmentRecord:
        """Save one reviewer action now, or raise ``SegmentConflict`` if the segment moved on.

        ``based_on_version`` is the ``version`` of the ``SegmentRecord`` the reviewer was looking
        at. Confirm, dismiss and reopen name a flag; fix carries the corrected target; any action
        may carry a comment. Returns the segment as this save left it (its new version), read in
        the same transaction, never a later reviewer's.
        """
        action = Action(action)
        reviewer = (reviewer or "").strip()
        if not reviewer:
            raise UsageError("a review needs the reviewer's name", fix="enter your name first")
        comment = comment.strip() if comment and comment.strip() else None
        if action in (Action.CONFIRM, Action.DISMISS, Action.REOPEN) and flag_id is None:
            raise UsageError(f"'{action.value}' needs the flag it is about")
        if action is Action.FIX and edited_target is None:
            raise UsageError("a fix needs the corrected target text")
        if action is Action.COMMENT and comment is None:
            raise UsageError("the comment is empty", fix="write something before saving")
        attempt = ReviewAction(action, reviewer, based_on_version, flag_id, comment,
                               edited_target if action is Action.FIX else None)
        now = _utcnow()
        with self.engine.begin() as conn:
            seg = conn.execute(select(_SEG.c.run_id, _SEG.c.seg_id).where(_SEG.c.id == segment_id)).first()
            if seg is None:
                raise StoreError(f"no segment {segment_id} in the review store", where=self.url)
            values: dict[str, Any] = {"version": _SEG.c.version + 1, "updated_at": now,
                                      "updated_by": reviewer}
            if action is Action.FIX:
                values["edited_target"] = edited_target
            bumped = conn.execute(update(_SEG)
                                  .where(_SEG.c.id == segment_id, _SEG.c.version == based_on_version)
                                  .values(**values))
            if bumped.rowcount == 1:
                if flag_id is not None:
                    belongs = conn.execute(select(_FLAG.c.id).where(
                        _FLAG.c.id == flag_id, _FLAG.c.segment_id == segment_id)).first()
                    if belongs is None:
                        raise StoreError(f"flag {flag_id} is not a flag of segment {seg.seg_id!r}",
                                         where=f"run {seg.run_id}")
                    if action in (Action.CONFIRM, Action.DISMISS, Action.REOPEN):
                        decision = {Action.CONFIRM: Decision.CONFIRMED.value,
                                    Action.DISMISS: Decision.DISMISSED.value}.get(action)
                        conn.execute(update(_FLAG).where(_FLAG.c.id == flag_id).values(
                            decision=decision, decided_by=reviewer if decision else None,
                            decided_at=now if decision else None))
                # Hints are not waiting for a decision: a segment is reviewed once its shown flags are.
                total, decided = conn.execute(
                    select(func.count(), func.count(_FLAG.c.decision))
                    .where(_FLAG.c.segment_id == segment_id, _FLAG.c.hint.is_(False))
                ).one()
                status = (ReviewStatus.REVIEWED if (total == 0 or decided == total)
                          else ReviewStatus.PARTIAL)
                conn.execute(update(_SEG).where(_SEG.c.id == segment_id).values(status=status.value))
                conn.execute(insert(_REVIEW).values(
                    segment_id=segment_id, flag_id=flag_id, run_id=seg.run_id, reviewer=reviewer,
                    action=action.value, comment=comment,
                    edited_target=edited_target if action is Action.FIX else None,
                    created_at=now, segment_version=based_on_version + 1))
                # Read back inside this transaction: after the commit another reviewer may already
                # have saved over it, and the caller must get the version *this* save made.
                saved = self._records([segment_id], conn)[0]
                conflict = False
            else:
                conflict = True
        if conflict:
            theirs = self.segment(segment_id)
            who = theirs.updated_by or "another reviewer"
            raise SegmentConflict(
                f"{who} saved this segment (now version {theirs.version}) after you opened it "
                f"(version {based_on_version})",
                where=f"segment {theirs.segment.id!r} (run {theirs.run_id})",
                fix="look at their change, then keep it or save yours again over it",
                yours=attempt, theirs=theirs,
            )
        return saved

    # -- what calibration and the dashboard read ------------------------------------------------

    def review_labels(self, run_id: int | None = None) -> Iterator[dict[str, Any]]:
        """Every decided flag as a label: the flag, its segment's scores and risk, the decision.

        ``tqcheck calibrate --from-db`` fits the fusion on these: a confirmed flag is a true
        positive of its check, a dismissed one a false alarm.
        """
        stmt = (
            select(_FLAG.c.id, _FLAG.c.check, _FLAG.c.severity, _FLAG.c.category, _FLAG.c.confidence,
                   _FLAG.c.decision, _FLAG.c.decided_by, _FLAG.c.decided_at, _FLAG.c.span_start,
                   _FLAG.c.span_end, _FLAG.c.span_side, _FLAG.c.run_id,
                   _SEG.c.seg_id, _SEG.c.lang_pair, _SEG.c.scores, _SEG.c.risk,
                   _SEG.c.edited_target.is_not(None).label("fixed"))
            .join(_SEG, _SEG.c.id == _FLAG.c.segment_id)
            .where(_FLAG.c.decision.is_not(None))
            .order_by(_FLAG.c.id)
        )
        if run_id is not None:
            stmt = stmt.where(_FLAG.c.run_id == run_id)
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
                    "decided_at": _aware(row.decided_at),
                }

    def flag_stats(self, run_ids: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Flag counts by run, language pair, check, severity, category and decision."""
        stmt = (
            select(_FLAG.c.run_id, _SEG.c.lang_pair, _FLAG.c.check, _FLAG.c.severity,
                   _FLAG.c.category, _FLAG.c.decision, func.count().label("flags"))
            .join(_SEG, _SEG.c.id == _FLAG.c.segment_id)
            .group_by(_FLAG.c.run_id, _SEG.c.lang_pair, _FLAG.c.check, _FLAG.c.severity,
                      _FLAG.c.category, _FLAG.c.decision)
        )
        if run_ids:
            stmt = stmt.where(_FLAG.c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]

    def segment_stats(self, run_ids: Sequence[int] = (), *, bins: int = 20) -> list[dict[str, Any]]:
        """Segment counts by run, language pair, review status and risk bin (``None``: no risk)."""
        if self.engine.dialect.name == "sqlite":
            # SQLite's floor() exists only in builds with the math functions; a cast truncates,
            # which is floor for risks >= 0. PostgreSQL's cast rounds, so it gets floor().
            bucket: ColumnElement[Any] = cast(_SEG.c.risk * bins, Integer)
        else:
            bucket = func.floor(_SEG.c.risk * bins)
        stmt = (
            select(_SEG.c.run_id, _SEG.c.lang_pair, _SEG.c.status, bucket.label("bin"),
                   func.count().label("segments"), func.sum(_SEG.c.n_flags).label("flags"))
            .group_by(_SEG.c.run_id, _SEG.c.lang_pair, _SEG.c.status, bucket)
        )
        if run_ids:
            stmt = stmt.where(_SEG.c.run_id.in_(run_ids))
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


# -- helpers ----------------------------------------------------------------------------------------


def _bulk_insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows. On SQLite, straight through the driver's ``executemany`` with the JSON
    columns serialised here: SQLAlchemy's per-row parameter processing costs more than SQLite's
    own work at 100,000 segments. Elsewhere, SQLAlchemy's insert (its drivers adapt the types)."""
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    keys = list(rows[0])
    json_keys = {c.key for c in table.columns if isinstance(c.type, JSON)}
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=keys)
    order = list(compiled.positiontup or keys)
    params = [tuple(_json_dumps(row[k]) if k in json_keys else row[k] for k in order) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def _json_dumps(value: Any) -> str:
    # Most metadata, artifacts and evidence mappings are empty: skip the encoder for those.
    if not value and isinstance(value, dict):
        return "{}"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "memory":
            # WAL: readers (the UI) never block the writer (a run) and the other way round.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _parse_time(value: str | None) -> _dt.datetime | None:
    if not value:
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def _run_record(row: Any, files: tuple[tuple[int, str], ...]) -> RunRecord:
    return RunRecord(
        id=row.id,
        name=row.name,
        feed=row.feed,
        created_at=_aware(row.created_at),
        finished_at=_aware(row.finished_at),
        engines=row.engines or "",
        language_pairs=tuple(p for p in (row.language_pairs or "").split(",") if p),
        segment_count=row.segment_count,
        flagged_count=row.flagged_count,
        signature=RunSignature.from_dict(row.signature),
        summary=Summary.from_dict(row.summary) if row.summary else None,
        files=files,
    )


def _flag_record(row: Any) -> FlagRecord:
    span = (Span(row.span_start, row.span_end, Side(row.span_side or "mt"))
            if row.span_start is not None else None)
    flag = Flag(check=row.check, severity=Severity(row.severity), category=Category(row.category),
                message=row.message, span=span, evidence=row.evidence or {},
                confidence=row.confidence, p_error=row.p_error, p_major=row.p_major,
                hint=bool(row.hint))
    return FlagRecord(id=row.id, position=row.position, flag=flag,
                      decision=Decision(row.decision) if row.decision else None,
                      decided_by=row.decided_by, decided_at=_aware(row.decided_at))


def _review_record(row: Any) -> ReviewRecord:
    return ReviewRecord(id=row.id, flag_id=row.flag_id, reviewer=row.reviewer,
                        action=Action(row.action), comment=row.comment,
                        edited_target=row.edited_target, created_at=_aware(row.created_at),
                        segment_version=row.segment_version)


def _segment_record(row: Any, flags: Iterable[FlagRecord], reviews: Iterable[ReviewRecord]) -> SegmentRecord:
    segment = Segment(id=row.seg_id, mt=row.mt, source=row.source, source_lang=row.source_lang,
                      target_lang=row.target_lang, reference=row.reference, doc_id=row.doc_id,
                      origin=row.origin, metadata=row.metadata or {})
    return SegmentRecord(
        id=row.id, run_id=row.run_id, position=row.position, segment=segment, flags=tuple(flags),
        scores=row.scores or {}, artifacts=row.artifacts or {}, risk=row.risk,
        status=ReviewStatus(row.status), edited_target=row.edited_target, version=row.version,
        updated_at=_aware(row.updated_at), updated_by=row.updated_by, reviews=tuple(reviews),
    )
