"""What the review store hands out: frozen records of runs, segments, flags and reviews.

The store's tables are an implementation detail; callers (the review workflow, the CLI, the UI, the
exporters, calibration) see these value objects, which wrap the core data model (``Segment``,
``Flag``, ``RunSignature``) and add the review state around it.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tqcheck.errors import ReviewConflict
from tqcheck.model import Flag, RunSignature, Segment, SegmentResult, Summary


class Action(str, enum.Enum):
    """What a reviewer can do; each action is one row of the review log."""

    CONFIRM = "confirm"  # the flag is a real error
    DISMISS = "dismiss"  # the flag is a false alarm
    REOPEN = "reopen"  # take back a confirm or dismiss
    FIX = "fix"  # the target was corrected (``edited_target``)
    COMMENT = "comment"


class Decision(str, enum.Enum):
    """The current verdict on a flag (undecided is ``None``)."""

    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class ReviewStatus(str, enum.Enum):
    """Where a segment stands: untouched, some flags decided, or every flag decided."""

    UNREVIEWED = "unreviewed"
    PARTIAL = "partial"
    REVIEWED = "reviewed"


@dataclass(frozen=True)
class RunRecord:
    id: int
    name: str
    feed: str | None
    created_at: _dt.datetime
    finished_at: _dt.datetime | None
    engines: str
    language_pairs: tuple[str, ...]
    segment_count: int
    flagged_count: int
    signature: RunSignature
    summary: Summary | None
    files: tuple[tuple[int, str], ...] = ()

    @property
    def label(self) -> str:
        """How the UI names a run in a list: number, name, date."""
        return f"#{self.id} {self.name} ({self.created_at:%Y-%m-%d %H:%M})"


@dataclass(frozen=True)
class FlagRecord:
    id: int
    position: int
    flag: Flag
    decision: Decision | None = None
    decided_by: str | None = None
    decided_at: _dt.datetime | None = None


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    flag_id: int | None
    reviewer: str
    action: Action
    comment: str | None
    edited_target: str | None
    created_at: _dt.datetime
    segment_version: int
    #: The bulk action this entry was part of (``undo:<batch>``: a reopen that undid one), else None.
    batch: str | None = None


@dataclass(frozen=True)
class SegmentRecord:
    """A stored segment with its result and everything reviewers did to it.

    ``version`` is what a save must name (``based_on_version``) so that two reviewers never
    overwrite each other silently.
    """

    id: int
    run_id: int
    position: int
    segment: Segment
    flags: tuple[FlagRecord, ...]
    scores: Mapping[str, float]
    artifacts: Mapping[str, str]
    risk: float | None
    status: ReviewStatus
    edited_target: str | None
    version: int
    updated_at: _dt.datetime | None = None
    updated_by: str | None = None
    reviews: tuple[ReviewRecord, ...] = ()
    assigned_to: str | None = None
    assigned_by: str | None = None
    claimed_by: str | None = None
    claimed_until: _dt.datetime | None = None

    @property
    def target(self) -> str:
        """The text to ship: the reviewer's correction if there is one, else the MT."""
        return self.edited_target if self.edited_target is not None else self.segment.mt

    @property
    def comments(self) -> tuple[ReviewRecord, ...]:
        return tuple(r for r in self.reviews if r.comment)

    def flag(self, flag_id: int) -> FlagRecord:
        for record in self.flags:
            if record.id == flag_id:
                return record
        raise KeyError(flag_id)

    def open_flags(self, *, include_hints: bool = False) -> tuple[FlagRecord, ...]:
        """The flags nobody has decided yet (hints only with ``include_hints``: they wait for nobody)."""
        return tuple(f for f in self.flags if f.decision is None and (include_hints or not f.flag.hint))

    def holder(self, now: _dt.datetime) -> str | None:
        """Who has the segment open at ``now`` (a claim not yet expired), else None."""
        if self.claimed_by and self.claimed_until is not None and self.claimed_until > now:
            return self.claimed_by
        return None

    def to_result(self) -> SegmentResult:
        return SegmentResult(self.segment, tuple(f.flag for f in self.flags), self.scores,
                             self.artifacts, self.risk)


#: The orders the queue can walk in.
QUEUE_ORDERS = ("priority", "article")


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows. Empty tuples mean "any"; ``text`` searches source, MT and correction."""

    run_ids: tuple[int, ...] = ()
    lang_pairs: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    text: str = ""
    flagged_only: bool = True
    #: Also match hints (findings below the display floor): off in the default queue.
    include_hints: bool = False
    #: Documents (``Segment.doc_id``), and reviewers the segments are assigned to ("my queue").
    doc_ids: tuple[str, ...] = ()
    assigned_to: tuple[str, ...] = ()
    #: ``priority``: most likely errors first; ``article``: each run's segments in input order.
    order: str = "priority"

    def __post_init__(self) -> None:
        if self.order not in QUEUE_ORDERS:
            raise ValueError(f"unknown queue order {self.order!r}: one of {', '.join(QUEUE_ORDERS)}")


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue: enough to choose what to open next, nothing heavier."""

    id: int
    run_id: int
    seg_id: str
    lang_pair: str
    mt: str
    risk: float | None
    priority: float
    worst_severity: str | None
    n_flags: int
    status: ReviewStatus
    edited: bool
    doc_id: str | None = None
    position: int = 0
    version: int = 0
    assigned_to: str | None = None
    #: Who has it open now (a live claim), else None.
    claimed_by: str | None = None


@dataclass(frozen=True)
class ReviewAction:
    """A reviewer's save, as attempted: what a conflict shows as "yours"."""

    action: Action
    reviewer: str
    based_on_version: int
    flag_id: int | None = None
    comment: str | None = None
    edited_target: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: The flags of a decision on several at once ("dismiss all"); ``flag_id`` is then None.
    flag_ids: tuple[int, ...] = ()


class SegmentConflict(ReviewConflict):
    """A save based on an old version of a segment: carries both sides so the reviewer can choose.

    ``yours`` is the action that was refused; ``theirs`` is the segment as it is now in the store
    (its ``reviews`` say who changed what since ``yours.based_on_version``).
    """

    def __init__(self, message: str, *, yours: ReviewAction, theirs: SegmentRecord,
                 where: str | None = None, fix: str | None = None) -> None:
        self.yours = yours
        self.theirs = theirs
        super().__init__(message, where=where, fix=fix)

    @property
    def their_changes(self) -> tuple[ReviewRecord, ...]:
        """The log entries saved since the version the refused save was based on."""
        return tuple(r for r in self.theirs.reviews if r.segment_version > self.yours.based_on_version)


# -- several segments at once ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentSummary:
    """One document of a run (``doc_id`` None: the run's segments without one), for choosing an article."""

    run_id: int
    doc_id: str | None
    segments: int
    flagged: int
    #: Flagged segments with a shown flag nobody has decided yet.
    to_review: int

    @property
    def label(self) -> str:
        return f"{self.doc_id if self.doc_id is not None else '(no document)'} · run {self.run_id}"


@dataclass(frozen=True)
class BulkSelection:
    """The open flags a bulk action is about, each segment with the version it had when they were
    picked: a segment saved since is reported as a conflict, never decided over."""

    flags: tuple[tuple[int, int], ...]  # (segment id, flag id), in queue order
    versions: Mapping[int, int] = field(default_factory=dict)

    @property
    def segment_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(segment for segment, _ in self.flags))

    def __len__(self) -> int:
        return len(self.flags)


@dataclass(frozen=True)
class BulkConflict:
    """A segment a bulk action left alone, and why (saved by someone since, or open by someone)."""

    segment_id: int
    seg_id: str
    reason: str


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action (or its undo) did: the flags and segments it changed, what it left alone."""

    batch: str
    action: Action
    reviewer: str
    flags: int
    segments: int
    conflicts: tuple[BulkConflict, ...] = ()


@dataclass(frozen=True)
class BulkRecord:
    """A bulk action as the log has it: for "undo the last bulk action"."""

    batch: str
    action: Action
    reviewer: str
    flags: int
    segments: int
    created_at: _dt.datetime
    undone: bool


@dataclass(frozen=True)
class Claim:
    """Who holds a segment after a claim was tried: ``taken`` when it is the one who asked."""

    segment_id: int
    holder: str | None
    until: _dt.datetime | None
    taken: bool
