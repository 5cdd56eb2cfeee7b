"""The review store's tables (SQLAlchemy 2 declarative models) and its schema version.

Four tables hold what a run produced and what reviewers decided about it:

* ``tq_runs``: one row per run, with its signature and summary;
* ``tq_segments``: one row per checked segment, its texts, scores and artifacts, its current review
  state (``status``, ``edited_target``) and a ``version`` counter that makes saves optimistic: a save
  names the version it was based on and fails when somebody else saved in between;
* ``tq_flags``: one row per flag, with its measured precision (``p_error``, ``p_major``), whether it is
  a ``hint`` (below the display floor: stored, out of the default queue), and its current decision
  (confirmed / dismissed / undecided);
* ``tq_reviews``: the append-only log of every action a reviewer took, so that no decision is lost
  and calibration can learn from them; the actions of one bulk action share a ``batch`` (its undo is
  logged as reopens under ``undo:<batch>``).

A segment may be ``assigned_to`` a reviewer (durable: "my queue"; ``assigned_by`` says who), and
``claimed_by`` one until ``claimed_until`` (the segment a reviewer has open: "next" never hands it to
another reviewer before the claim expires). Neither changes the segment's ``version``: they are not review decisions.
``tq_settings`` keeps what a QA lead sets for everyone (thresholds), one JSON value per key.

``tq_meta`` records the schema version; ``tq_run_files`` keeps an uploaded input (an XLIFF) so that
corrections can be written back into the very file a CAT tool produced. Table names carry a ``tq_``
prefix so that the store can live in a shared PostgreSQL database beside other tables.

The indexes follow what the queue sorts and filters by: ``priority`` (risk, or an MQM-penalty proxy
in runs without calibrated risk) descending, within a run or a review status; a covering index
answers the counts; ``(run, document, position)`` reads an article in order (and, covering the
flag count and status, lists the documents from the index alone). Filters on flags
(severity, category, check) are checked per segment through ``ix_tq_flags_segment`` while the queue
walks the priority order, which stops after one page.
"""

from __future__ import annotations

import datetime as _dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Bump when a table or column changes; ``Store.open`` upgrades a database of an older version it
#: knows how to (``MIGRATIONS``) and refuses any other.
SCHEMA_VERSION = 3

#: Statements that take a store from version N to N + 1, keyed by N (plain SQL both SQLite and
#: PostgreSQL run). 1 -> 2: flags carry their measured precision and a hint mark; segments count hints.
#: 2 -> 3: assignments and expiring claims on segments, bulk actions' batch in the log, documents in
#: order (an index), and the settings table (a QA lead's thresholds).
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE tq_flags ADD COLUMN p_error FLOAT",
        "ALTER TABLE tq_flags ADD COLUMN p_major FLOAT",
        "ALTER TABLE tq_flags ADD COLUMN hint BOOLEAN NOT NULL DEFAULT FALSE",
        "ALTER TABLE tq_segments ADD COLUMN n_hints INTEGER NOT NULL DEFAULT 0"),
    2: ("ALTER TABLE tq_segments ADD COLUMN assigned_to VARCHAR(200)",
        "ALTER TABLE tq_segments ADD COLUMN assigned_by VARCHAR(200)",
        "ALTER TABLE tq_segments ADD COLUMN claimed_by VARCHAR(200)",
        "ALTER TABLE tq_segments ADD COLUMN claimed_until TIMESTAMP WITH TIME ZONE",
        "ALTER TABLE tq_reviews ADD COLUMN batch VARCHAR(64)",
        "CREATE INDEX ix_tq_segments_document ON tq_segments (run_id, doc_id, position, n_flags, status)",
        "CREATE INDEX ix_tq_segments_assigned_to ON tq_segments (assigned_to)",
        "CREATE INDEX ix_tq_segments_claimed_by ON tq_segments (claimed_by)",
        "CREATE INDEX ix_tq_reviews_batch ON tq_reviews (batch)",
        "CREATE TABLE tq_settings (key VARCHAR(200) NOT NULL PRIMARY KEY, value TEXT NOT NULL, "
        "updated_by VARCHAR(200), updated_at TIMESTAMP WITH TIME ZONE)"),
}


class Base(DeclarativeBase):
    pass


class MetaRow(Base):
    __tablename__ = "tq_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunRow(Base):
    __tablename__ = "tq_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    feed: Mapped[str | None] = mapped_column(String(400), index=True)
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[_dt.datetime | None] = mapped_column(DateTime(timezone=True))
    tqcheck_version: Mapped[str] = mapped_column(String(64))
    config_hash: Mapped[str] = mapped_column(String(64))
    #: A short human description of the engines ("back_translator=apertium; lm=smollm2"), the
    #: dimension the dashboard groups by; the full list is in ``signature``.
    engines: Mapped[str] = mapped_column(Text, default="")
    language_pairs: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict | None] = mapped_column(JSON)
    segment_count: Mapped[int] = mapped_column(Integer, default=0)
    flagged_count: Mapped[int] = mapped_column(Integer, default=0)


class RunFileRow(Base):
    __tablename__ = "tq_run_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("tq_runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(400))
    format: Mapped[str | None] = mapped_column(String(32))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class SegmentRow(Base):
    __tablename__ = "tq_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("tq_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    seg_id: Mapped[str] = mapped_column(String(400))
    source: Mapped[str | None] = mapped_column(Text)
    mt: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    source_lang: Mapped[str | None] = mapped_column(String(32))
    target_lang: Mapped[str | None] = mapped_column(String(32))
    lang_pair: Mapped[str] = mapped_column(String(80))
    doc_id: Mapped[str | None] = mapped_column(String(400))
    origin: Mapped[str | None] = mapped_column(String(400))
    seg_metadata: Mapped[dict] = mapped_column("metadata", JSON)
    scores: Mapped[dict] = mapped_column(JSON)
    artifacts: Mapped[dict] = mapped_column(JSON)
    risk: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float)
    worst_severity: Mapped[int] = mapped_column(Integer, default=0)
    #: Shown flags (not hints): what the queue's "flagged" means and the status counts.
    n_flags: Mapped[int] = mapped_column(Integer, default=0)
    n_hints: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="unreviewed")
    edited_target: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[_dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(String(200))
    #: Who should review it ("my queue"); set by a QA lead or taken by the reviewer.
    assigned_to: Mapped[str | None] = mapped_column(String(200), index=True)
    assigned_by: Mapped[str | None] = mapped_column(String(200))
    #: Who has it open, until when: "next" hands it to nobody else before then.
    claimed_by: Mapped[str | None] = mapped_column(String(200), index=True)
    claimed_until: Mapped[_dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_tq_segments_counts", "status", "n_flags", "run_id", "lang_pair"),
        Index("ix_tq_segments_run_position", "run_id", "position", unique=True),
        # An article in order; with the counts, ``Store.documents`` reads the index alone.
        Index("ix_tq_segments_document", "run_id", "doc_id", "position", "n_flags", "status"),
    )


# The queue: riskiest first, across runs, within a run, or within a review status (for the rarer
# views such as "reviewed"); ``ix_tq_segments_counts`` answers the counts from the index alone.
Index("ix_tq_segments_priority", SegmentRow.priority.desc(), SegmentRow.id)
Index("ix_tq_segments_run_priority", SegmentRow.run_id, SegmentRow.priority.desc(), SegmentRow.id)
Index("ix_tq_segments_status_priority", SegmentRow.status, SegmentRow.priority.desc(), SegmentRow.id)


class FlagRow(Base):
    __tablename__ = "tq_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("tq_segments.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer)
    check: Mapped[str] = mapped_column(String(120))
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(Text)
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    span_side: Mapped[str | None] = mapped_column(String(8))
    evidence: Mapped[dict] = mapped_column(JSON)
    confidence: Mapped[float | None] = mapped_column(Float)
    p_error: Mapped[float | None] = mapped_column(Float)
    p_major: Mapped[float | None] = mapped_column(Float)
    hint: Mapped[bool] = mapped_column(Boolean, default=False)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[_dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_tq_flags_segment", "segment_id", "position"),
        Index("ix_tq_flags_decision", "decision"),
    )


class ReviewRow(Base):
    __tablename__ = "tq_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("tq_segments.id", ondelete="CASCADE"),
                                            index=True)
    flag_id: Mapped[int | None] = mapped_column(ForeignKey("tq_flags.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    edited_target: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: The segment's version after this action: ties each log entry to the state it produced.
    segment_version: Mapped[int] = mapped_column(Integer)
    #: The bulk action this entry belongs to (``undo:<batch>`` for the reopens that undid one).
    batch: Mapped[str | None] = mapped_column(String(64), index=True)


class SettingRow(Base):
    __tablename__ = "tq_settings"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[_dt.datetime | None] = mapped_column(DateTime(timezone=True))
