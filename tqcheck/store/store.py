"""The review store: runs, segments, flags and reviewer decisions in one SQL database.

SQLite (in WAL mode, so that the UI reads while a run writes) is the embedded default; any SQLAlchemy
URL works, PostgreSQL included, so that a team can share one store. Every reviewer action is saved the
moment it is made, in one transaction with the segment's version check: a save based on a stale
version raises ``SegmentConflict`` (a ``ReviewConflict``) carrying both sides instead of overwriting.
A bulk action (``bulk_review``) is one transaction with the same check per segment: segments saved
since they were picked are reported (``BulkResult.conflicts``) and left alone; its undo is logged as
reopens. Claims (``claim``, ``claim_next``) make sure two reviewers are never handed the same segment
at once; they expire, so a reviewer who walks away blocks nobody for long.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, overload

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    and_,
    case,
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
    BulkConflict,
    BulkRecord,
    BulkResult,
    BulkSelection,
    Claim,
    Decision,
    DocumentSummary,
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
    SettingRow,
)

# The mapped classes' tables, as Tables (``__table__`` is typed as any FROM clause).
_SEG = Base.metadata.tables[SegmentRow.__tablename__]
_FLAG = Base.metadata.tables[FlagRow.__tablename__]
_REVIEW = Base.metadata.tables[ReviewRow.__tablename__]
_RUN = Base.metadata.tables[RunRow.__tablename__]
_FILE = Base.metadata.tables[RunFileRow.__tablename__]
_META = Base.metadata.tables[MetaRow.__tablename__]
_SETTING = Base.metadata.tables[SettingRow.__tablename__]

_SEVERITY_BY_RANK = {s.rank: s.value for s in Severity}
_EVERYTHING_FLAGGED = QueueFilter()  # frozen: safe as a default argument
_INSERT_BATCH = 2000
_IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
#: How long a claim holds a segment for its reviewer unless renewed (opening it again, saving).
CLAIM_TTL = _dt.timedelta(minutes=15)
_DECIDING = {Action.CONFIRM: Decision.CONFIRMED.value, Action.DISMISS: Decision.DISMISSED.value}


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
    ``finish_run``; review with ``save_review`` (one segment) or ``select_open_flags`` /
    ``bulk_review`` / ``undo_bulk`` (many); share the work with ``assign`` and ``claim_next``; read
    with ``queue``, ``segment``, ``context``, ``article``, ``documents``, ``runs``,
    ``review_labels`` and the dashboard aggregates; ``settings`` hold what a QA lead sets.
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
        if f.doc_ids:
            where.append(_SEG.c.doc_id.in_(f.doc_ids))
        if f.assigned_to:
            where.append(_SEG.c.assigned_to.in_(f.assigned_to))
        if f.lang_pairs:
            where.append(_SEG.c.lang_pair.in_(f.lang_pairs))
        if f.statuses:
            where.append(_SEG.c.status.in_([ReviewStatus(s).value for s in f.statuses]))
        if f.flagged_only:
            where.append((_SEG.c.n_flags + _SEG.c.n_hints > 0) if f.include_hints else (_SEG.c.n_flags > 0))
        if f.severities or f.categories or f.checks:
            where.append(exists().where(and_(_FLAG.c.segment_id == _SEG.c.id, *_flag_where(f))))
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
        """The segments a reviewer should look at: riskiest first, or in article order."""
        stmt = (
            select(_SEG.c.id, _SEG.c.run_id, _SEG.c.seg_id, _SEG.c.lang_pair, _SEG.c.mt, _SEG.c.risk,
                   _SEG.c.priority, _SEG.c.worst_severity, _SEG.c.n_flags, _SEG.c.status,
                   _SEG.c.edited_target.is_not(None).label("edited"), _SEG.c.doc_id, _SEG.c.position,
                   _SEG.c.version, _SEG.c.assigned_to, _SEG.c.claimed_by, _SEG.c.claimed_until)
            .where(*self._queue_where(queue_filter))
            .order_by(*_queue_order(queue_filter))
            .limit(limit).offset(offset)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        now = _utcnow()
        return [
            QueueRow(id=r.id, run_id=r.run_id, seg_id=r.seg_id, lang_pair=r.lang_pair, mt=r.mt,
                     risk=r.risk, priority=r.priority,
                     worst_severity=_SEVERITY_BY_RANK.get(r.worst_severity),
                     n_flags=r.n_flags, status=ReviewStatus(r.status), edited=bool(r.edited),
                     doc_id=r.doc_id, position=r.position, version=r.version, assigned_to=r.assigned_to,
                     claimed_by=_live_holder(r.claimed_by, r.claimed_until, now))
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
            stmt = select(_SEG.c.id).where(*where).order_by(*_queue_order(f)).limit(limit)
            return list(conn.execute(stmt).scalars())
        if f.order == "article":
            key = conn.execute(select(_SEG.c.run_id, _SEG.c.position).where(_SEG.c.id == anchor)).first()
            if key is None:
                return None
            near: list[Any] = [_SEG.c.run_id == key.run_id,
                               (_SEG.c.position < key.position) if backwards else (_SEG.c.position > key.position)]
            far: list[Any] = [(_SEG.c.run_id < key.run_id) if backwards else (_SEG.c.run_id > key.run_id)]
            near_order: list[Any] = [_SEG.c.position.desc() if backwards else _SEG.c.position.asc()]
            far_order: list[Any] = ([_SEG.c.run_id.desc(), _SEG.c.position.desc()] if backwards
                                    else [_SEG.c.run_id.asc(), _SEG.c.position.asc()])
        else:
            priority = conn.execute(select(_SEG.c.priority).where(_SEG.c.id == anchor)).scalar()
            if priority is None:
                return None
            near = [_SEG.c.priority == priority, (_SEG.c.id < anchor) if backwards else (_SEG.c.id > anchor)]
            far = [(_SEG.c.priority > priority) if backwards else (_SEG.c.priority < priority)]
            near_order = [_SEG.c.id.desc() if backwards else _SEG.c.id.asc()]
            far_order = ([_SEG.c.priority.asc(), _SEG.c.id.desc()] if backwards
                         else [_SEG.c.priority.desc(), _SEG.c.id.asc()])
        ids = list(conn.execute(select(_SEG.c.id).where(*where, *near).order_by(*near_order)
                                .limit(limit)).scalars())
        if len(ids) < limit:
            ids += conn.execute(select(_SEG.c.id).where(*where, *far).order_by(*far_order)
                                .limit(limit - len(ids))).scalars()
        return ids

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
        flag_ids: Sequence[int] = (),
    ) -> SegmentRecord:
        """Save one reviewer action now, or raise ``SegmentConflict`` if the segment moved on.

        ``based_on_version`` is the ``version`` of the ``SegmentRecord`` the reviewer was looking
        at. Confirm, dismiss and reopen name a flag, or several of the segment's flags at once with
        ``flag_ids`` ("dismiss all": one save, one version, one log entry per flag); fix carries
        the corrected target; any action may carry a comment. Returns the segment as this save left
        it (its new version), read in the same transaction, never a later reviewer's.
        """
        action = Action(action)
        reviewer = _reviewer_name(reviewer)
        comment = comment.strip() if comment and comment.strip() else None
        targets = tuple(dict.fromkeys([*([flag_id] if flag_id is not None else []), *flag_ids]))
        deciding = action in (Action.CONFIRM, Action.DISMISS, Action.REOPEN)
        if deciding and not targets:
            raise UsageError(f"'{action.value}' needs the flag it is about")
        if flag_ids and not deciding:
            raise UsageError(f"'{action.value}' is about the segment, not about several flags",
                             fix="confirm, dismiss or reopen several flags; fix or comment the segment")
        if action is Action.FIX and edited_target is None:
            raise UsageError("a fix needs the corrected target text")
        if action is Action.COMMENT and comment is None:
            raise UsageError("the comment is empty", fix="write something before saving")
        attempt = ReviewAction(action, reviewer, based_on_version, flag_id, comment,
                               edited_target if action is Action.FIX else None,
                               flag_ids=tuple(flag_ids))
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
                if targets:
                    belongs = set(conn.execute(select(_FLAG.c.id).where(
                        _FLAG.c.id.in_(targets), _FLAG.c.segment_id == segment_id)).scalars())
                    stray = [f for f in targets if f not in belongs]
                    if stray:  # raising rolls the version bump back
                        raise StoreError(f"flag {stray[0]} is not a flag of segment {seg.seg_id!r}",
                                         where=f"run {seg.run_id}")
                    if deciding:
                        decision = _DECIDING.get(action)
                        conn.execute(update(_FLAG).where(_FLAG.c.id.in_(targets)).values(
                            decision=decision, decided_by=reviewer if decision else None,
                            decided_at=now if decision else None))
                self._refresh_status(conn, [segment_id])
                # One log entry per flag; the comment goes with the first, so it is shown once.
                conn.execute(insert(_REVIEW), [
                    {"segment_id": segment_id, "flag_id": target, "run_id": seg.run_id,
                     "reviewer": reviewer, "action": action.value, "comment": comment if i == 0 else None,
                     "edited_target": edited_target if action is Action.FIX else None,
                     "created_at": now, "segment_version": based_on_version + 1, "batch": None}
                    for i, target in enumerate(targets or (None,))
                ])
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

    @staticmethod
    def _refresh_status(conn: Any, segment_ids: Sequence[int]) -> None:
        """Set the segments' review status from their flags' decisions (inside the caller's
        transaction). Hints are not waiting for a decision: a segment is reviewed once its shown
        flags are, and a segment without shown flags once anyone touched it."""
        for chunk in _chunks(list(segment_ids)):
            counts = {row.segment_id: (row.total, row.decided) for row in conn.execute(
                select(_FLAG.c.segment_id, func.count().label("total"),
                       func.count(_FLAG.c.decision).label("decided"))
                .where(_FLAG.c.segment_id.in_(chunk), _FLAG.c.hint.is_(False))
                .group_by(_FLAG.c.segment_id))}
            by_status: dict[str, list[int]] = {}
            for sid in chunk:
                total, decided = counts.get(sid, (0, 0))
                status = ReviewStatus.REVIEWED if decided == total else ReviewStatus.PARTIAL
                by_status.setdefault(status.value, []).append(sid)
            for status_value, ids in by_status.items():
                conn.execute(update(_SEG).where(_SEG.c.id.in_(ids)).values(status=status_value))

    # -- documents and context ------------------------------------------------------------------

    def documents(self, run_ids: Sequence[int] = ()) -> list[DocumentSummary]:
        """The runs' documents, each run's in input order, with how much of each is left to review."""
        flagged = case((_SEG.c.n_flags > 0, 1), else_=0)
        open_ = case((and_(_SEG.c.n_flags > 0, _SEG.c.status != ReviewStatus.REVIEWED.value), 1), else_=0)
        stmt = (
            select(_SEG.c.run_id, _SEG.c.doc_id, func.count().label("segments"),
                   func.sum(flagged).label("flagged"), func.sum(open_).label("to_review"),
                   func.min(_SEG.c.position).label("first"))
            .group_by(_SEG.c.run_id, _SEG.c.doc_id)
            .order_by(_SEG.c.run_id, func.min(_SEG.c.position))
        )
        if run_ids:
            stmt = stmt.where(_SEG.c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [DocumentSummary(run_id=r.run_id, doc_id=r.doc_id, segments=int(r.segments),
                                flagged=int(r.flagged or 0), to_review=int(r.to_review or 0))
                for r in rows]

    def article(self, run_id: int, doc_id: str | None) -> list[SegmentRecord]:
        """A document's segments in input order (``doc_id`` None: the run's segments without one)."""
        with self.engine.connect() as conn:
            ids = conn.execute(select(_SEG.c.id).where(_SEG.c.run_id == run_id, _same_doc(doc_id))
                               .order_by(_SEG.c.position)).scalars().all()
            return [record for chunk in _chunks(ids) for record in self._records(chunk, conn)]

    def context(self, segment_id: int, *, before: int = 1,
                after: int = 1) -> tuple[list[SegmentRecord], list[SegmentRecord]]:
        """The sentences around a segment in its document (same run, same ``doc_id``), in input
        order: up to ``before`` preceding and ``after`` following segments, with their flags.
        A sentence such as "Mexico! Mexico!" cannot be judged without the one before it."""
        with self.engine.connect() as conn:
            key = conn.execute(select(_SEG.c.run_id, _SEG.c.doc_id, _SEG.c.position)
                               .where(_SEG.c.id == segment_id)).first()
            if key is None:
                raise StoreError(f"no segment {segment_id} in the review store", where=self.url)
            same = [_SEG.c.run_id == key.run_id, _same_doc(key.doc_id)]
            prev_ids = conn.execute(select(_SEG.c.id).where(*same, _SEG.c.position < key.position)
                                    .order_by(_SEG.c.position.desc()).limit(max(before, 0))).scalars().all()
            next_ids = conn.execute(select(_SEG.c.id).where(*same, _SEG.c.position > key.position)
                                    .order_by(_SEG.c.position.asc()).limit(max(after, 0))).scalars().all()
            return self._records(list(reversed(prev_ids)), conn), self._records(list(next_ids), conn)

    # -- several segments at once ---------------------------------------------------------------

    def select_open_flags(self, queue_filter: QueueFilter = _EVERYTHING_FLAGGED, *,
                          segment_ids: Sequence[int] | None = None) -> BulkSelection:
        """Every undecided flag the filter's flag conditions (check, category, severity; hints only
        with ``include_hints``) match, on the segments the filter matches (``segment_ids``: only
        those rows), in queue order, each segment with its current version: what a bulk action
        is about, picked before the reviewer says yes."""
        # The flag conditions go on the joined flags themselves, not through the queue's EXISTS.
        segments_only = replace(queue_filter, severities=(), categories=(), checks=())
        where = [*self._queue_where(segments_only), _FLAG.c.decision.is_(None), *_flag_where(queue_filter)]
        stmt = (select(_SEG.c.id.label("segment_id"), _FLAG.c.id.label("flag_id"), _SEG.c.version)
                .join(_FLAG, _FLAG.c.segment_id == _SEG.c.id)
                .order_by(*_queue_order(queue_filter), _FLAG.c.position))
        rows: list[Any] = []
        with self.engine.connect() as conn:
            if segment_ids is None:
                rows = list(conn.execute(stmt.where(*where)))
            else:
                wanted = list(dict.fromkeys(segment_ids))
                for chunk in _chunks(wanted):
                    rows += conn.execute(stmt.where(*where, _SEG.c.id.in_(chunk)))
                if len(wanted) > _IN_CHUNK:  # each chunk came in queue order; keep the caller's rows'
                    place = {sid: i for i, sid in enumerate(wanted)}
                    rows.sort(key=lambda r: place[r.segment_id])
        return BulkSelection(flags=tuple((r.segment_id, r.flag_id) for r in rows),
                             versions={r.segment_id: r.version for r in rows})

    def bulk_review(self, selection: BulkSelection, *, reviewer: str, action: Action | str) -> BulkResult:
        """Confirm or dismiss the selected flags in one transaction, under one batch id.

        A segment saved since the selection was made (its version moved), or open by another
        reviewer (a live claim), is left alone and listed in ``conflicts``: a bulk action never
        decides over what someone else just did or is doing. Undo with ``undo_bulk``.
        """
        action = Action(action)
        if action not in _DECIDING:
            raise UsageError(f"a bulk action confirms or dismisses, not '{action.value}'",
                             fix="undo a bulk action with undo_bulk")
        reviewer = _reviewer_name(reviewer)
        batch = uuid.uuid4().hex
        now = _utcnow()
        by_segment: dict[int, list[int]] = {}
        for segment_id, flag_id in selection.flags:
            by_segment.setdefault(segment_id, []).append(flag_id)
        done: dict[int, tuple[int, list[int]]] = {}  # segment -> (its new version, flags decided)
        left: list[int] = []
        with self.engine.begin() as conn:
            # Write first: the conditional UPDATE is the version and claim check, and on SQLite it
            # takes the write lock before anything is read, so nobody can slip in between.
            for segment_id, flags in by_segment.items():
                expected = selection.versions.get(segment_id)
                if expected is None:
                    raise UsageError(f"the selection has no version for segment {segment_id}",
                                     fix="pick the flags with Store.select_open_flags")
                bumped = conn.execute(update(_SEG).where(
                    _SEG.c.id == segment_id, _SEG.c.version == expected, _free_for(reviewer, now),
                ).values(version=_SEG.c.version + 1, updated_at=now, updated_by=reviewer))
                if bumped.rowcount == 1:
                    done[segment_id] = (expected + 1, flags)
                else:
                    left.append(segment_id)
            decided = self._check_flags(conn, done)
            if decided:
                for chunk in _chunks(decided):
                    conn.execute(update(_FLAG).where(_FLAG.c.id.in_([f for _, f in chunk])).values(
                        decision=_DECIDING[action], decided_by=reviewer, decided_at=now))
                runs = self._run_of(conn, list(done))
                conn.execute(insert(_REVIEW), [
                    {"segment_id": sid, "flag_id": fid, "run_id": runs[sid], "reviewer": reviewer,
                     "action": action.value, "comment": None, "edited_target": None, "created_at": now,
                     "segment_version": done[sid][0], "batch": batch}
                    for sid, fid in decided])
                self._refresh_status(conn, list(done))
            conflicts = self._conflicts(conn, left, selection.versions, reviewer, now)
        return BulkResult(batch=batch, action=action, reviewer=reviewer, flags=len(decided),
                          segments=len({sid for sid, _ in decided}), conflicts=conflicts)

    def undo_bulk(self, *, reviewer: str, batch: str | None = None) -> BulkResult:
        """Reopen what one bulk action decided: the reviewer's last one not yet undone, or ``batch``.

        Logged as reopens under the batch ``undo:<batch>``. A flag somebody decided again since
        (its last log entry is not the bulk action's) is left alone, and so is a segment another
        reviewer has open; both are listed in ``conflicts``.
        """
        reviewer = _reviewer_name(reviewer)
        now = _utcnow()
        with self.engine.begin() as conn:
            if batch is None:
                batch = self._last_batch(conn, reviewer)
                if batch is None:
                    raise UsageError(f"{reviewer} has no bulk action to undo")
            entries = conn.execute(select(_REVIEW.c.id, _REVIEW.c.segment_id, _REVIEW.c.flag_id,
                                          _REVIEW.c.action).where(_REVIEW.c.batch == batch)).all()
            if not entries or batch.startswith("undo:"):
                raise UsageError(f"no bulk action {batch!r} in the review store",
                                 fix="list them with Store.bulk_actions")
            if conn.execute(select(_REVIEW.c.id).where(_REVIEW.c.batch == "undo:" + batch).limit(1)).first():
                raise UsageError(f"bulk action {batch} was already undone")
            # A flag is the bulk action's still when the action is the last decision on it in the
            # log (a comment since does not count).
            last_word: dict[int, int] = {}
            flag_ids = [e.flag_id for e in entries]
            deciding = [a.value for a in (Action.CONFIRM, Action.DISMISS, Action.REOPEN)]
            for chunk in _chunks(flag_ids):
                for row in conn.execute(select(_REVIEW.c.flag_id, func.max(_REVIEW.c.id).label("last"))
                                        .where(_REVIEW.c.flag_id.in_(chunk), _REVIEW.c.action.in_(deciding))
                                        .group_by(_REVIEW.c.flag_id)):
                    last_word[row.flag_id] = row.last
            mine: dict[int, list[int]] = {}
            moved: set[int] = set()
            for e in entries:
                if last_word.get(e.flag_id) == e.id:
                    mine.setdefault(e.segment_id, []).append(e.flag_id)
                else:
                    moved.add(e.segment_id)
            reopened: list[tuple[int, int]] = []
            versions: dict[int, int] = {}
            held: list[int] = []
            for segment_id, flags in mine.items():
                bumped = conn.execute(update(_SEG).where(_SEG.c.id == segment_id, _free_for(reviewer, now))
                                      .values(version=_SEG.c.version + 1, updated_at=now,
                                              updated_by=reviewer))
                if bumped.rowcount != 1:
                    held.append(segment_id)
                    continue
                versions[segment_id] = conn.execute(select(_SEG.c.version)
                                                    .where(_SEG.c.id == segment_id)).scalar_one()
                reopened += [(segment_id, f) for f in flags]
            for chunk in _chunks(reopened):
                conn.execute(update(_FLAG).where(_FLAG.c.id.in_([f for _, f in chunk])).values(
                    decision=None, decided_by=None, decided_at=None))
            if reopened:
                runs = self._run_of(conn, list(versions))
                conn.execute(insert(_REVIEW), [
                    {"segment_id": sid, "flag_id": fid, "run_id": runs[sid], "reviewer": reviewer,
                     "action": Action.REOPEN.value, "comment": None, "edited_target": None,
                     "created_at": now, "segment_version": versions[sid], "batch": "undo:" + batch}
                    for sid, fid in reopened])
                self._refresh_status(conn, list(versions))
            conflicts = (self._conflicts(conn, held, {}, reviewer, now)
                         + self._conflicts(conn, sorted(moved - set(held)), {}, reviewer, now,
                                           reason="decided again since the bulk action"))
        return BulkResult(batch="undo:" + batch, action=Action.REOPEN, reviewer=reviewer,
                          flags=len(reopened), segments=len(versions), conflicts=conflicts)

    def bulk_actions(self, *, reviewer: str | None = None, limit: int = 10) -> list[BulkRecord]:
        """The latest bulk actions (a reviewer's, or everyone's), newest first, each marked undone
        or not: what "undo the last bulk action" offers."""
        is_undo = _REVIEW.c.batch.like("undo:%")
        stmt = (select(_REVIEW.c.batch, func.min(_REVIEW.c.action).label("action"),
                       func.min(_REVIEW.c.reviewer).label("reviewer"), func.count().label("flags"),
                       func.count(func.distinct(_REVIEW.c.segment_id)).label("segments"),
                       func.min(_REVIEW.c.created_at).label("created_at"))
                .where(_REVIEW.c.batch.is_not(None), ~is_undo)
                .group_by(_REVIEW.c.batch).order_by(func.max(_REVIEW.c.id).desc()).limit(limit))
        if reviewer is not None:
            stmt = stmt.where(_REVIEW.c.reviewer == reviewer)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            undos = {"undo:" + r.batch for r in rows}
            undone = set(conn.execute(select(_REVIEW.c.batch).where(_REVIEW.c.batch.in_(undos)).distinct())
                         .scalars()) if undos else set()
        return [BulkRecord(batch=r.batch, action=Action(r.action), reviewer=r.reviewer, flags=int(r.flags),
                           segments=int(r.segments), created_at=_aware(r.created_at),
                           undone="undo:" + r.batch in undone)
                for r in rows]

    @staticmethod
    def _last_batch(conn: Any, reviewer: str) -> str | None:
        """The reviewer's latest bulk action that has not been undone."""
        undone = select(_REVIEW.c.batch).where(_REVIEW.c.batch.like("undo:%")).distinct()
        rows = conn.execute(select(_REVIEW.c.batch).where(
            _REVIEW.c.reviewer == reviewer, _REVIEW.c.batch.is_not(None), ~_REVIEW.c.batch.like("undo:%"))
            .group_by(_REVIEW.c.batch).order_by(func.max(_REVIEW.c.id).desc())).scalars().all()
        gone = {b.removeprefix("undo:") for b in conn.execute(undone).scalars()}
        return next((b for b in rows if b not in gone), None)

    @staticmethod
    def _check_flags(conn: Any, chosen: Mapping[int, tuple[int, list[int]]]) -> list[tuple[int, int]]:
        """The (segment, flag) pairs of ``chosen``, each checked to be a flag of that segment."""
        pairs = [(sid, fid) for sid, (_, flags) in chosen.items() for fid in flags]
        real: set[tuple[int, int]] = set()
        for chunk in _chunks(pairs):
            real.update((r.segment_id, r.id) for r in conn.execute(
                select(_FLAG.c.id, _FLAG.c.segment_id).where(_FLAG.c.id.in_([f for _, f in chunk]))))
        stray = [pair for pair in pairs if pair not in real]
        if stray:  # raising rolls the whole action back
            raise StoreError(f"flag {stray[0][1]} is not a flag of segment {stray[0][0]}",
                             fix="pick the flags with Store.select_open_flags")
        return pairs

    @staticmethod
    def _run_of(conn: Any, segment_ids: Sequence[int]) -> dict[int, int]:
        runs: dict[int, int] = {}
        for chunk in _chunks(list(segment_ids)):
            runs.update((r.id, r.run_id) for r in conn.execute(
                select(_SEG.c.id, _SEG.c.run_id).where(_SEG.c.id.in_(chunk))))
        return runs

    @staticmethod
    def _conflicts(conn: Any, segment_ids: Sequence[int], versions: Mapping[int, int], reviewer: str,
                   now: _dt.datetime, *, reason: str | None = None) -> tuple[BulkConflict, ...]:
        """Why each of these segments was left alone, in the order given."""
        found: dict[int, Any] = {}
        for chunk in _chunks(list(segment_ids)):
            found.update((r.id, r) for r in conn.execute(
                select(_SEG.c.id, _SEG.c.seg_id, _SEG.c.version, _SEG.c.updated_by, _SEG.c.claimed_by,
                       _SEG.c.claimed_until).where(_SEG.c.id.in_(chunk))))
        out = []
        for sid in segment_ids:
            row = found.get(sid)
            if row is None:
                out.append(BulkConflict(sid, "", "no longer in the review store"))
                continue
            holder = _live_holder(row.claimed_by, row.claimed_until, now)
            if reason is not None:
                why = reason
            elif holder is not None and holder != reviewer:
                why = f"open by {holder} until {_aware(row.claimed_until):%H:%M} UTC"
            else:
                why = (f"saved by {row.updated_by or 'another reviewer'} since it was picked "
                       f"(version {versions.get(sid)} -> {row.version})")
            out.append(BulkConflict(sid, row.seg_id, why))
        return tuple(out)

    # -- who reviews what -----------------------------------------------------------------------

    def assign(self, segment_ids: Sequence[int], reviewer: str | None, *, by: str) -> int:
        """Assign segments to a reviewer (None: unassign); returns how many were changed.

        To hand over a document, assign the ids of ``article(run_id, doc_id)``. An assignment is
        not a review decision: the segments' versions stay as they are, so nobody's open page turns
        stale; ``by`` (who assigned) is kept beside it.
        """
        by = _reviewer_name(by)
        name = (reviewer or "").strip() or None
        changed = 0
        with self.engine.begin() as conn:
            for chunk in _chunks(list(dict.fromkeys(segment_ids))):
                changed += conn.execute(update(_SEG).where(_SEG.c.id.in_(chunk))
                                        .values(assigned_to=name, assigned_by=by if name else None)).rowcount
        return changed

    def claim(self, segment_id: int, reviewer: str, *, ttl: _dt.timedelta = CLAIM_TTL) -> Claim:
        """Take a segment for ``reviewer`` until ``ttl`` from now, unless someone else has it.

        Atomic: one ``UPDATE ... WHERE`` nobody else holds a live claim, so two reviewers can never
        both get it. A reviewer has one segment open at a time: taking one releases the one before.
        Claiming again renews the claim. The returned ``Claim`` says who holds it (``taken``: you).
        """
        reviewer = _reviewer_name(reviewer)
        now = _utcnow()
        with self.engine.begin() as conn:
            taken = self._take(conn, segment_id, reviewer, now, ttl)
            row = conn.execute(select(_SEG.c.claimed_by, _SEG.c.claimed_until)
                               .where(_SEG.c.id == segment_id)).first()
        if row is None:
            raise StoreError(f"no segment {segment_id} in the review store", where=self.url)
        return Claim(segment_id=segment_id, holder=_live_holder(row.claimed_by, row.claimed_until, now),
                     until=_aware(row.claimed_until) if row.claimed_by else None, taken=taken)

    @staticmethod
    def _take(conn: Any, segment_id: int, reviewer: str, now: _dt.datetime, ttl: _dt.timedelta,
              *, still: Sequence[Any] = ()) -> bool:
        """Claim in one conditional UPDATE; ``still``: conditions the segment must meet at that
        moment too (not reviewed by someone since the walk saw it)."""
        taken = conn.execute(update(_SEG).where(_SEG.c.id == segment_id, _free_for(reviewer, now), *still)
                             .values(claimed_by=reviewer, claimed_until=now + ttl)).rowcount == 1
        if taken:
            conn.execute(update(_SEG).where(_SEG.c.claimed_by == reviewer, _SEG.c.id != segment_id)
                         .values(claimed_by=None, claimed_until=None))
        return bool(taken)

    def release(self, segment_id: int, reviewer: str) -> bool:
        """Let go of a segment the reviewer holds; False when they did not hold it."""
        reviewer = _reviewer_name(reviewer)
        with self.engine.begin() as conn:
            return bool(conn.execute(update(_SEG).where(_SEG.c.id == segment_id, _SEG.c.claimed_by == reviewer)
                                     .values(claimed_by=None, claimed_until=None)).rowcount)

    def claim_next(self, queue_filter: QueueFilter, reviewer: str, *, after: int | None = None,
                   ttl: _dt.timedelta = CLAIM_TTL, wrap: bool = True) -> int | None:
        """Claim and return the next segment of the queue after ``after`` (from the start when
        None) that still has undecided flags and that nobody else has open; None when there is none.

        With ``wrap`` the walk goes on from the queue's start up to ``after``, so that segments
        skipped earlier are not forgotten. Each candidate is claimed with the atomic ``claim``
        update: if another reviewer took it a moment before, the walk moves on to the next one, so
        two reviewers are never handed the same segment.
        """
        reviewer = _reviewer_name(reviewer)
        page = 20
        now = _utcnow()
        undecided = _SEG.c.status != ReviewStatus.REVIEWED.value
        where = [*self._queue_where(queue_filter), undecided, _free_for(reviewer, now)]
        starts: list[int | None] = [after, None] if (after is not None and wrap) else [after]
        for start in starts:
            anchor = start
            while True:
                with self.engine.connect() as conn:
                    ids = self._walk(conn, queue_filter, where, anchor, limit=page) or []
                for candidate in ids:
                    if start is None and after is not None and candidate == after:
                        return None  # wrapped round to where we began: nothing else is left
                    if candidate == after:
                        continue
                    with self.engine.begin() as conn:
                        # Another reviewer may have taken and decided it since the walk read it.
                        if self._take(conn, candidate, reviewer, now, ttl, still=[undecided]):
                            return candidate
                if len(ids) < page:
                    break
                anchor = ids[-1]
        return None

    # -- settings -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """What a QA lead set for everyone (thresholds, ...), key -> JSON value."""
        with self.engine.connect() as conn:
            return {r.key: json.loads(r.value) for r in conn.execute(select(_SETTING.c.key, _SETTING.c.value))}

    def set_setting(self, key: str, value: Any, *, by: str) -> None:
        """Store one setting (any JSON value; None removes it)."""
        by = _reviewer_name(by)
        key = key.strip()
        if not key:
            raise UsageError("a setting needs a name")
        if value is None:
            with self.engine.begin() as conn:
                conn.execute(delete(_SETTING).where(_SETTING.c.key == key))
            return
        try:
            encoded = json.dumps(value, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"setting {key!r} is not a JSON value: {exc}") from exc
        values = {"value": encoded, "updated_by": by, "updated_at": _utcnow()}
        for _ in range(2):  # an insert that loses a race to another writer becomes an update
            try:
                with self.engine.begin() as conn:
                    if conn.execute(update(_SETTING).where(_SETTING.c.key == key).values(**values)).rowcount:
                        return
                    conn.execute(insert(_SETTING).values(key=key, **values))
                    return
            except IntegrityError:
                continue
        raise StoreError(f"could not save setting {key!r}: other writers kept changing it", where=self.url,
                         fix="try again")

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

    def flag_stats(self, run_ids: Sequence[int] = (), *, include_hints: bool = True) -> list[dict[str, Any]]:
        """Flag counts by run, language pair, check, severity, category and decision (without the
        hints, which no reviewer is asked about, unless ``include_hints``)."""
        stmt = (
            select(_FLAG.c.run_id, _SEG.c.lang_pair, _FLAG.c.check, _FLAG.c.severity,
                   _FLAG.c.category, _FLAG.c.decision, func.count().label("flags"))
            .join(_SEG, _SEG.c.id == _FLAG.c.segment_id)
            .group_by(_FLAG.c.run_id, _SEG.c.lang_pair, _FLAG.c.check, _FLAG.c.severity,
                      _FLAG.c.category, _FLAG.c.decision)
        )
        if run_ids:
            stmt = stmt.where(_FLAG.c.run_id.in_(run_ids))
        if not include_hints:
            stmt = stmt.where(_FLAG.c.hint.is_(False))
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]

    def severity_stats(self, run_ids: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Per run and language pair: segments, and how many have a shown flag, a major-or-worse one,
        a critical one (the rates a QA lead sets thresholds on)."""
        def at_least(rank: int) -> Any:
            return func.sum(case((_SEG.c.worst_severity >= rank, 1), else_=0))

        stmt = (select(_SEG.c.run_id, _SEG.c.lang_pair, func.count().label("segments"),
                       func.sum(case((_SEG.c.n_flags > 0, 1), else_=0)).label("flagged"),
                       at_least(Severity.MAJOR.rank).label("major"),
                       at_least(Severity.CRITICAL.rank).label("critical"))
                .group_by(_SEG.c.run_id, _SEG.c.lang_pair).order_by(_SEG.c.run_id, _SEG.c.lang_pair))
        if run_ids:
            stmt = stmt.where(_SEG.c.run_id.in_(run_ids))
        with self.engine.connect() as conn:
            return [{"run_id": r.run_id, "lang_pair": r.lang_pair, "segments": int(r.segments),
                     "flagged": int(r.flagged or 0), "major": int(r.major or 0),
                     "critical": int(r.critical or 0)} for r in conn.execute(stmt)]

    def reviewer_decisions(self, run_ids: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Each reviewer's last word on each flag they decided, from the review log: one row per
        (flag, reviewer) with ``decision`` confirmed or dismissed (a flag the reviewer last reopened
        is left out). Where two reviewers decided one flag, both rows are here: what agreement
        between reviewers is measured on."""
        last = (select(func.max(_REVIEW.c.id).label("id"))
                .where(_REVIEW.c.flag_id.is_not(None),
                       _REVIEW.c.action.in_([a.value for a in (Action.CONFIRM, Action.DISMISS, Action.REOPEN)]))
                .group_by(_REVIEW.c.flag_id, _REVIEW.c.reviewer))
        if run_ids:
            last = last.where(_REVIEW.c.run_id.in_(run_ids))
        stmt = (select(_REVIEW.c.flag_id, _REVIEW.c.reviewer, _REVIEW.c.action, _REVIEW.c.run_id,
                       _FLAG.c.check)
                .join(_FLAG, _FLAG.c.id == _REVIEW.c.flag_id)
                .where(_REVIEW.c.id.in_(last.scalar_subquery()), _REVIEW.c.action != Action.REOPEN.value)
                .order_by(_REVIEW.c.flag_id, _REVIEW.c.reviewer))
        decided = {a.value: d for a, d in _DECIDING.items()}
        with self.engine.connect() as conn:
            return [{"flag_id": r.flag_id, "reviewer": r.reviewer, "decision": decided[r.action],
                     "run_id": r.run_id, "check": r.check} for r in conn.execute(stmt)]

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


def _flag_where(f: QueueFilter) -> list[Any]:
    """The filter's conditions on a flag (severity, category, check; hints only if asked for)."""
    cond: list[Any] = []
    if not f.include_hints:
        cond.append(_FLAG.c.hint.is_(False))
    if f.severities:
        cond.append(_FLAG.c.severity_rank.in_([Severity(s).rank for s in f.severities]))
    if f.categories:
        cond.append(_FLAG.c.category.in_(f.categories))
    if f.checks:
        cond.append(_FLAG.c.check.in_(f.checks))
    return cond


def _queue_order(f: QueueFilter) -> list[Any]:
    if f.order == "article":
        return [_SEG.c.run_id.asc(), _SEG.c.position.asc()]
    return [_SEG.c.priority.desc(), _SEG.c.id.asc()]


def _free_for(reviewer: str, now: _dt.datetime) -> Any:
    """Segments nobody else has open: no claim, the reviewer's own, or an expired one."""
    return or_(_SEG.c.claimed_by.is_(None), _SEG.c.claimed_by == reviewer, _SEG.c.claimed_until < now)


def _live_holder(holder: str | None, until: _dt.datetime | None, now: _dt.datetime) -> str | None:
    until = _aware(until)
    return holder if holder and until is not None and until > now else None


def _same_doc(doc_id: str | None) -> Any:
    return _SEG.c.doc_id.is_(None) if doc_id is None else _SEG.c.doc_id == doc_id


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _reviewer_name(reviewer: str | None) -> str:
    name = (reviewer or "").strip()
    if not name:
        raise UsageError("a review needs the reviewer's name", fix="enter your name first")
    return name


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
                        segment_version=row.segment_version, batch=row.batch)


def _segment_record(row: Any, flags: Iterable[FlagRecord], reviews: Iterable[ReviewRecord]) -> SegmentRecord:
    segment = Segment(id=row.seg_id, mt=row.mt, source=row.source, source_lang=row.source_lang,
                      target_lang=row.target_lang, reference=row.reference, doc_id=row.doc_id,
                      origin=row.origin, metadata=row.metadata or {})
    return SegmentRecord(
        id=row.id, run_id=row.run_id, position=row.position, segment=segment, flags=tuple(flags),
        scores=row.scores or {}, artifacts=row.artifacts or {}, risk=row.risk,
        status=ReviewStatus(row.status), edited_target=row.edited_target, version=row.version,
        updated_at=_aware(row.updated_at), updated_by=row.updated_by, reviews=tuple(reviews),
        assigned_to=row.assigned_to, assigned_by=row.assigned_by,
        claimed_by=row.claimed_by, claimed_until=_aware(row.claimed_until),
    )
