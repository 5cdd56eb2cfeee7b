"""What the review store's parts share: the tables, the SQL fragments of the queue and of claims,
row-to-record conversions and :class:`StoreBase`, which holds the engine."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from sqlalchemy import JSON, insert, or_
from sqlalchemy.engine import Engine

from tqcheck.errors import UsageError
from tqcheck.model import Category, Flag, RunSignature, Segment, Severity, Side, Span, Summary
from tqcheck.store.records import (
    Action,
    Decision,
    FlagRecord,
    QueueFilter,
    ReviewRecord,
    ReviewStatus,
    RunRecord,
    SegmentRecord,
)
from tqcheck.store.schema import Base, FlagRow, MetaRow, ReviewRow, RunFileRow, RunRow, SegmentRow, SettingRow

# The mapped classes' tables, as Tables (``__table__`` is typed as any FROM clause).
SEG = Base.metadata.tables[SegmentRow.__tablename__]
FLAG = Base.metadata.tables[FlagRow.__tablename__]
REVIEW = Base.metadata.tables[ReviewRow.__tablename__]
RUN = Base.metadata.tables[RunRow.__tablename__]
FILE = Base.metadata.tables[RunFileRow.__tablename__]
META = Base.metadata.tables[MetaRow.__tablename__]
SETTING = Base.metadata.tables[SettingRow.__tablename__]

SEVERITY_BY_RANK = {s.rank: s.value for s in Severity}
EVERYTHING_FLAGGED = QueueFilter()  # frozen: safe as a default argument
INSERT_BATCH = 2000
IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
#: How long a claim holds a segment for its reviewer unless renewed (opening it again, saving).
CLAIM_TTL = _dt.timedelta(minutes=15)
DECIDING = {Action.CONFIRM: Decision.CONFIRMED.value, Action.DISMISS: Decision.DISMISSED.value}


class StoreBase:
    """A review store on one SQLAlchemy engine; :class:`tqcheck.store.Store` is made of its parts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@overload
def aware(value: _dt.datetime) -> _dt.datetime: ...
@overload
def aware(value: None) -> None: ...
@overload
def aware(value: _dt.datetime | None) -> _dt.datetime | None: ...
def aware(value: _dt.datetime | None) -> _dt.datetime | None:
    # SQLite keeps no time zone; everything is written in UTC, so read it back as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=_dt.UTC)
    return value


def engines_label(signature: RunSignature) -> str:
    parts = []
    for engine in signature.engines:
        name = engine.name + (f":{engine.model_id}" if engine.model_id else "")
        parts.append(f"{engine.role}={name}")
    return "; ".join(parts) if parts else "rules only"


def flag_where(f: QueueFilter) -> list[Any]:
    """The filter's conditions on a flag (severity, category, check; hints only if asked for)."""
    cond: list[Any] = []
    if not f.include_hints:
        cond.append(FLAG.c.hint.is_(False))
    if f.severities:
        cond.append(FLAG.c.severity_rank.in_([Severity(s).rank for s in f.severities]))
    if f.categories:
        cond.append(FLAG.c.category.in_(f.categories))
    if f.checks:
        cond.append(FLAG.c.check.in_(f.checks))
    return cond


def queue_order(f: QueueFilter) -> list[Any]:
    if f.order == "article":
        return [SEG.c.run_id.asc(), SEG.c.position.asc()]
    return [SEG.c.priority.desc(), SEG.c.id.asc()]


def free_for(reviewer: str, now: _dt.datetime) -> Any:
    """Segments nobody else has open: no claim, the reviewer's own, or an expired one."""
    return or_(SEG.c.claimed_by.is_(None), SEG.c.claimed_by == reviewer, SEG.c.claimed_until < now)


def live_holder(holder: str | None, until: _dt.datetime | None, now: _dt.datetime) -> str | None:
    until = aware(until)
    return holder if holder and until is not None and until > now else None


def same_doc(doc_id: str | None) -> Any:
    return SEG.c.doc_id.is_(None) if doc_id is None else SEG.c.doc_id == doc_id


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def reviewer_name(reviewer: str | None) -> str:
    name = (reviewer or "").strip()
    if not name:
        raise UsageError("a review needs the reviewer's name", fix="enter your name first")
    return name


def bulk_insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
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
    params = [tuple(json_dumps(row[k]) if k in json_keys else row[k] for k in order) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def json_dumps(value: Any) -> str:
    # Most metadata, artifacts and evidence mappings are empty: skip the encoder for those.
    if not value and isinstance(value, dict):
        return "{}"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
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


def parse_time(value: str | None) -> _dt.datetime | None:
    if not value:
        return None
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def run_record(row: Any, files: tuple[tuple[int, str], ...]) -> RunRecord:
    return RunRecord(
        id=row.id,
        name=row.name,
        feed=row.feed,
        created_at=aware(row.created_at),
        finished_at=aware(row.finished_at),
        engines=row.engines or "",
        language_pairs=tuple(p for p in (row.language_pairs or "").split(",") if p),
        segment_count=row.segment_count,
        flagged_count=row.flagged_count,
        signature=RunSignature.from_dict(row.signature),
        summary=Summary.from_dict(row.summary) if row.summary else None,
        files=files,
    )


def flag_record(row: Any) -> FlagRecord:
    span = (Span(row.span_start, row.span_end, Side(row.span_side or "mt"))
            if row.span_start is not None else None)
    flag = Flag(check=row.check, severity=Severity(row.severity), category=Category(row.category),
                message=row.message, span=span, evidence=row.evidence or {},
                confidence=row.confidence, p_error=row.p_error, p_major=row.p_major,
                hint=bool(row.hint))
    return FlagRecord(id=row.id, position=row.position, flag=flag,
                      decision=Decision(row.decision) if row.decision else None,
                      decided_by=row.decided_by, decided_at=aware(row.decided_at))


def review_record(row: Any) -> ReviewRecord:
    return ReviewRecord(id=row.id, flag_id=row.flag_id, reviewer=row.reviewer,
                        action=Action(row.action), comment=row.comment,
                        edited_target=row.edited_target, created_at=aware(row.created_at),
                        segment_version=row.segment_version, batch=row.batch)


def segment_record(row: Any, flags: Iterable[FlagRecord], reviews: Iterable[ReviewRecord]) -> SegmentRecord:
    segment = Segment(id=row.seg_id, mt=row.mt, source=row.source, source_lang=row.source_lang,
                      target_lang=row.target_lang, reference=row.reference, doc_id=row.doc_id,
                      origin=row.origin, metadata=row.metadata or {})
    return SegmentRecord(
        id=row.id, run_id=row.run_id, position=row.position, segment=segment, flags=tuple(flags),
        scores=row.scores or {}, artifacts=row.artifacts or {}, risk=row.risk,
        status=ReviewStatus(row.status), edited_target=row.edited_target, version=row.version,
        updated_at=aware(row.updated_at), updated_by=row.updated_by, reviews=tuple(reviews),
        assigned_to=row.assigned_to, assigned_by=row.assigned_by,
        claimed_by=row.claimed_by, claimed_until=aware(row.claimed_until),
    )
