"""The review store: runs, segments, flags and reviewer decisions in one SQL database.

SQLite (in WAL mode, so that the UI reads while a run writes) is the embedded default; any SQLAlchemy
URL works, PostgreSQL included, so that a team can share one store. Every reviewer action is saved the
moment it is made, in one transaction with the segment's version check: a save based on a stale
version raises ``SegmentConflict`` (a ``ReviewConflict``) carrying both sides instead of overwriting.
A bulk action (``bulk_review``) is one transaction with the same check per segment: segments saved
since they were picked are reported (``BulkResult.conflicts``) and left alone; its undo is logged as
reopens. Claims (``claim``, ``claim_next``) make sure two reviewers are never handed the same segment
at once; they expire, so a reviewer who walks away blocks nobody for long.

``Store`` opens the database and checks its schema here; what it does is made of parts, one module
each, all on the one engine: ``_read`` (runs, the queue and its walk, segments, documents), ``_runs``
(writing runs), ``_reviews`` (decisions, bulk actions and their undo), ``_assign`` (assignments,
claims, settings) and ``_stats`` (what calibration and the dashboard read); ``_base`` holds the tables,
SQL fragments and row conversions they share.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, inspect, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from tqcheck.errors import StoreError, UsageError
from tqcheck.store._assign import Assignments
from tqcheck.store._base import META, json_dumps, sqlite_pragmas
from tqcheck.store._reviews import ReviewWriter
from tqcheck.store._runs import RunWriter
from tqcheck.store._stats import StoreStats
from tqcheck.store.schema import MIGRATIONS, SCHEMA_VERSION, Base


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


class Store(RunWriter, ReviewWriter, Assignments, StoreStats):
    """A review store on one database. Cheap to share between threads (one engine, pooled).

    Open with ``Store.open(url_or_path)``; write a run with ``start_run`` / ``add_results`` /
    ``finish_run``; review with ``save_review`` (one segment) or ``select_open_flags`` /
    ``bulk_review`` / ``undo_bulk`` (many); share the work with ``assign`` and ``claim_next``; read
    with ``queue``, ``segment``, ``context``, ``article``, ``documents``, ``runs``,
    ``review_labels`` and the dashboard aggregates; ``settings`` hold what a QA lead sets.
    """

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
            engine = create_engine(parsed, json_serializer=json_dumps, **kwargs)
        except NoSuchModuleError as exc:
            raise StoreError(f"no SQLAlchemy dialect for {parsed.drivername!r}", where=shown,
                             fix="check the URL's scheme (sqlite, postgresql+psycopg, ...)") from exc
        except ImportError as exc:
            raise StoreError(f"the database driver is not installed: {exc}", where=shown,
                             fix="pip install the driver, e.g. psycopg for PostgreSQL") from exc
        if is_sqlite:
            event.listen(engine, "connect", sqlite_pragmas)
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
                conn.execute(insert(META).values(key="schema_version", value=str(SCHEMA_VERSION)))
        except IntegrityError:
            pass  # another process initialised it at the same moment
        self._check_version(shown)

    def _check_version(self, shown: str) -> None:
        with self.engine.connect() as conn:
            value = conn.execute(select(META.c.value).where(META.c.key == "schema_version")).scalar()
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
            current = conn.execute(select(META.c.value).where(META.c.key == "schema_version")).scalar()
            if current != str(version):
                return int(current) if current and current.isdigit() else version
            for statement in MIGRATIONS[version]:
                conn.exec_driver_sql(statement)
            conn.execute(update(META).where(META.c.key == "schema_version").values(value=str(version + 1)))
        return version + 1
