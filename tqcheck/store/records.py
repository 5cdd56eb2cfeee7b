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

    def to_result(self) -> SegmentResult:
        return SegmentResult(self.segment, tuple(f.flag for f in self.flags), self.scores,
                             self.artifacts, self.risk)


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
