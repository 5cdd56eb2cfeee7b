"""The reviewer's actions as plain functions over the store: what the UI buttons call.

Each function saves at once (nothing waits for a "submit") and returns the segment as now stored,
whose ``version`` the next action must be based on. A save based on an older version raises
``SegmentConflict``; ``keep_theirs`` and ``apply_mine`` are the two ways out of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tqcheck.errors import UsageError
from tqcheck.model import Flag
from tqcheck.store.records import (
    Action,
    QueueFilter,
    SegmentConflict,
    SegmentRecord,
)
from tqcheck.store.store import Store


def confirm(store: Store, record: SegmentRecord, flag_id: int, *, reviewer: str,
            comment: str | None = None) -> SegmentRecord:
    """The flag is a real error."""
    return store.save_review(record.id, reviewer=reviewer, action=Action.CONFIRM,
                             based_on_version=record.version, flag_id=flag_id, comment=comment)


def dismiss(store: Store, record: SegmentRecord, flag_id: int, *, reviewer: str,
            comment: str | None = None) -> SegmentRecord:
    """The flag is a false alarm."""
    return store.save_review(record.id, reviewer=reviewer, action=Action.DISMISS,
                             based_on_version=record.version, flag_id=flag_id, comment=comment)


def reopen(store: Store, record: SegmentRecord, flag_id: int, *, reviewer: str) -> SegmentRecord:
    """Take back a decision on a flag."""
    return store.save_review(record.id, reviewer=reviewer, action=Action.REOPEN,
                             based_on_version=record.version, flag_id=flag_id)


def fix(store: Store, record: SegmentRecord, target: str, *, reviewer: str,
        comment: str | None = None) -> SegmentRecord:
    """Save a corrected target. Saving the text already there is not an edit and saves nothing."""
    if target == record.target:
        return record
    if not target.strip():
        raise UsageError("the corrected target is empty", fix="type the corrected text, or leave it")
    return store.save_review(record.id, reviewer=reviewer, action=Action.FIX,
                             based_on_version=record.version, edited_target=target, comment=comment)


def comment(store: Store, record: SegmentRecord, text: str, *, reviewer: str,
            flag_id: int | None = None) -> SegmentRecord:
    """A note for the next reader (about the segment, or about one flag)."""
    return store.save_review(record.id, reviewer=reviewer, action=Action.COMMENT,
                             based_on_version=record.version, flag_id=flag_id, comment=text)


def next_undecided(record: SegmentRecord) -> int | None:
    """The first shown flag nobody has decided on yet: what the keyboard shortcuts act on (hints wait
    for nobody)."""
    for flag in record.flags:
        if flag.decision is None and not flag.flag.hint:
            return flag.id
    return None


def likelihood(flag: Flag) -> str:
    """How often a flag like this one is right on human labels, in words (``tqcheck.io.markup``)."""
    from tqcheck.io.markup import likelihood as words

    return words(flag)


# -- conflicts ----------------------------------------------------------------------------------------


def keep_theirs(conflict: SegmentConflict) -> SegmentRecord:
    """Drop the refused save: the segment as the other reviewer left it."""
    return conflict.theirs


def apply_mine(store: Store, conflict: SegmentConflict) -> SegmentRecord:
    """Save the refused action again, this time knowingly over the other reviewer's version."""
    yours = conflict.yours
    return store.save_review(
        conflict.theirs.id,
        reviewer=yours.reviewer,
        action=yours.action,
        based_on_version=conflict.theirs.version,
        flag_id=yours.flag_id,
        comment=yours.comment,
        edited_target=yours.edited_target,
    )


# -- moving through the queue -------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a segment sits in the queue: its neighbours, for next / previous."""

    previous: int | None
    next: int | None


def position(store: Store, queue_filter: QueueFilter, segment_id: int) -> Position:
    prev, nxt = store.neighbours(queue_filter, segment_id)
    return Position(prev, nxt)


def first(store: Store, queue_filter: QueueFilter) -> int | None:
    """The riskiest segment the filter shows (where a review session starts)."""
    rows = store.queue(queue_filter, limit=1)
    return rows[0].id if rows else None
