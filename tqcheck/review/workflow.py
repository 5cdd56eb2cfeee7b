"""The reviewer's actions as plain functions over the store: what the UI buttons call.

Each function saves at once (nothing waits for a "submit") and returns the segment as now stored,
whose ``version`` the next action must be based on. A save based on an older version raises
``SegmentConflict``; ``keep_theirs`` and ``apply_mine`` are the two ways out of it.

A segment with ten false alarms is one keystroke (``dismiss_all``), not ten; once every flag is
decided the reviewer moves on to the next segment nobody else holds (``next_to_review``, through the
store's atomic claim). Bulk actions over the queue (``bulk_decide``, ``undo_last_bulk``) are the
store's, with a sentence saying what they did (``bulk_message``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tqcheck.errors import UsageError
from tqcheck.model import Flag
from tqcheck.store.records import (
    Action,
    BulkResult,
    BulkSelection,
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


def open_flag_ids(record: SegmentRecord) -> tuple[int, ...]:
    """The shown flags nobody has decided yet (hints wait for nobody)."""
    return tuple(f.id for f in record.open_flags())


def dismiss_all(store: Store, record: SegmentRecord, *, reviewer: str) -> SegmentRecord:
    """Every open flag of the segment is a false alarm: one save, one new version. With nothing
    open, nothing is saved."""
    return _decide_all(store, record, Action.DISMISS, reviewer)


def confirm_all(store: Store, record: SegmentRecord, *, reviewer: str) -> SegmentRecord:
    """Every open flag of the segment is a real error: one save, one new version."""
    return _decide_all(store, record, Action.CONFIRM, reviewer)


def _decide_all(store: Store, record: SegmentRecord, action: Action, reviewer: str) -> SegmentRecord:
    flags = open_flag_ids(record)
    if not flags:
        return record
    return store.save_review(record.id, reviewer=reviewer, action=action,
                             based_on_version=record.version, flag_ids=flags)


def last_decided(record: SegmentRecord) -> tuple[int, ...]:
    """The flags the segment's latest decision decided (one flag, or all of a "dismiss all"):
    what the reopen key takes back. Empty when no flag is decided."""
    decided = [f for f in record.flags if f.decision is not None and f.decided_at is not None]
    if not decided:
        return ()
    latest = max(f.decided_at for f in decided if f.decided_at is not None)
    return tuple(f.id for f in decided if f.decided_at == latest)


def reopen_last(store: Store, record: SegmentRecord, *, reviewer: str) -> SegmentRecord:
    """Take back the segment's latest decision (every flag it decided); nothing to take back saves
    nothing."""
    flags = last_decided(record)
    if not flags:
        return record
    return store.save_review(record.id, reviewer=reviewer, action=Action.REOPEN,
                             based_on_version=record.version, flag_ids=flags)


def all_decided(record: SegmentRecord) -> bool:
    """Every shown flag has a decision."""
    return not record.open_flags()


def finished_by(before: SegmentRecord, after: SegmentRecord) -> bool:
    """This save decided the segment's last open flag: the moment to move on to the next segment.
    A segment that had nothing open (a comment, a correction, a reopen) never moves the page."""
    return bool(before.open_flags()) and all_decided(after)


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
        flag_ids=yours.flag_ids,
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


def next_to_review(store: Store, queue_filter: QueueFilter, reviewer: str, *,
                   after: int | None = None) -> int | None:
    """The next segment of the queue (in its order, priority or article) after ``after`` that still
    has an undecided flag and that nobody else has open, claimed for ``reviewer`` at once, so that
    two reviewers moving on at the same moment are never handed the same one; None when none is
    left."""
    return store.claim_next(queue_filter, reviewer, after=after)


# -- several segments at once -------------------------------------------------------------------------


def select_flags(store: Store, queue_filter: QueueFilter, segment_ids: Sequence[int] | None = None) -> BulkSelection:
    """The open flags a bulk action would decide: those the filter's check, category and severity
    match, on the segments it shows (or only on ``segment_ids``: rows picked in the queue)."""
    return store.select_open_flags(queue_filter, segment_ids=segment_ids)


def bulk_decide(store: Store, selection: BulkSelection, *, reviewer: str, action: Action | str) -> BulkResult:
    """Confirm or dismiss the selected flags in one go; segments saved or opened by someone else since
    they were picked are left alone and listed."""
    if not selection.flags:
        raise UsageError("no open flag is selected", fix="widen the filters, or pick rows in the table")
    return store.bulk_review(selection, reviewer=reviewer, action=action)


def undo_last_bulk(store: Store, *, reviewer: str) -> BulkResult:
    """Reopen what the reviewer's last bulk action (not yet undone) decided."""
    return store.undo_bulk(reviewer=reviewer)


def assign(store: Store, segment_ids: Sequence[int], to: str | None, *, by: str) -> int:
    """Give segments to a reviewer (their "my queue"); None or an empty name takes them back."""
    if not segment_ids:
        raise UsageError("no segment is selected", fix="widen the filters, or pick rows in the table")
    return store.assign(segment_ids, (to or "").strip() or None, by=by)


_DONE = {Action.CONFIRM: "Confirmed", Action.DISMISS: "Dismissed", Action.REOPEN: "Reopened"}


def bulk_message(result: BulkResult) -> str:
    """What a bulk action or its undo did, in one sentence an editor reads: flags, segments, and
    each segment it left alone with the reason."""
    flags = f"{result.flags} flag{'s' if result.flags != 1 else ''}"
    segments = f"{result.segments} segment{'s' if result.segments != 1 else ''}"
    text = f"{_DONE.get(result.action, result.action.value)} {flags} in {segments}."
    if result.conflicts:
        left = "; ".join(f"{c.seg_id or c.segment_id}: {c.reason}" for c in result.conflicts)
        text += f" Left alone ({len(result.conflicts)}): {left}."
    return text
