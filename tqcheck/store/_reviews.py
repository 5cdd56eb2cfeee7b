"""Reviewer decisions in the review store: one segment at a time (``save_review``, with its version
check) or many (``bulk_review`` and its undo), each one transaction; a segment's status follows."""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update

from tqcheck.errors import StoreError, UsageError
from tqcheck.store._base import DECIDING, FLAG, REVIEW, SEG, aware, chunks, free_for, live_holder, reviewer_name, utcnow
from tqcheck.store._read import StoreReader
from tqcheck.store.records import (
    Action,
    BulkConflict,
    BulkRecord,
    BulkResult,
    BulkSelection,
    ReviewAction,
    ReviewStatus,
    SegmentConflict,
    SegmentRecord,
)


class ReviewWriter(StoreReader):
    """Decisions saved the moment they are made, never over someone else's."""

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
        reviewer = reviewer_name(reviewer)
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
        now = utcnow()
        with self.engine.begin() as conn:
            seg = conn.execute(select(SEG.c.run_id, SEG.c.seg_id).where(SEG.c.id == segment_id)).first()
            if seg is None:
                raise StoreError(f"no segment {segment_id} in the review store", where=self.url)
            values: dict[str, Any] = {"version": SEG.c.version + 1, "updated_at": now,
                                      "updated_by": reviewer}
            if action is Action.FIX:
                values["edited_target"] = edited_target
            bumped = conn.execute(update(SEG)
                                  .where(SEG.c.id == segment_id, SEG.c.version == based_on_version)
                                  .values(**values))
            if bumped.rowcount == 1:
                if targets:
                    belongs = set(conn.execute(select(FLAG.c.id).where(
                        FLAG.c.id.in_(targets), FLAG.c.segment_id == segment_id)).scalars())
                    stray = [f for f in targets if f not in belongs]
                    if stray:  # raising rolls the version bump back
                        raise StoreError(f"flag {stray[0]} is not a flag of segment {seg.seg_id!r}",
                                         where=f"run {seg.run_id}")
                    if deciding:
                        decision = DECIDING.get(action)
                        conn.execute(update(FLAG).where(FLAG.c.id.in_(targets)).values(
                            decision=decision, decided_by=reviewer if decision else None,
                            decided_at=now if decision else None))
                self._refresh_status(conn, [segment_id])
                # One log entry per flag; the comment goes with the first, so it is shown once.
                conn.execute(insert(REVIEW), [
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
        for chunk in chunks(list(segment_ids)):
            counts = {row.segment_id: (row.total, row.decided) for row in conn.execute(
                select(FLAG.c.segment_id, func.count().label("total"),
                       func.count(FLAG.c.decision).label("decided"))
                .where(FLAG.c.segment_id.in_(chunk), FLAG.c.hint.is_(False))
                .group_by(FLAG.c.segment_id))}
            by_status: dict[str, list[int]] = {}
            for sid in chunk:
                total, decided = counts.get(sid, (0, 0))
                status = ReviewStatus.REVIEWED if decided == total else ReviewStatus.PARTIAL
                by_status.setdefault(status.value, []).append(sid)
            for status_value, ids in by_status.items():
                conn.execute(update(SEG).where(SEG.c.id.in_(ids)).values(status=status_value))

    def bulk_review(self, selection: BulkSelection, *, reviewer: str, action: Action | str) -> BulkResult:
        """Confirm or dismiss the selected flags in one transaction, under one batch id.

        A segment saved since the selection was made (its version moved), or open by another
        reviewer (a live claim), is left alone and listed in ``conflicts``: a bulk action never
        decides over what someone else just did or is doing. Undo with ``undo_bulk``.
        """
        action = Action(action)
        if action not in DECIDING:
            raise UsageError(f"a bulk action confirms or dismisses, not '{action.value}'",
                             fix="undo a bulk action with undo_bulk")
        reviewer = reviewer_name(reviewer)
        batch = uuid.uuid4().hex
        now = utcnow()
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
                bumped = conn.execute(update(SEG).where(
                    SEG.c.id == segment_id, SEG.c.version == expected, free_for(reviewer, now),
                ).values(version=SEG.c.version + 1, updated_at=now, updated_by=reviewer))
                if bumped.rowcount == 1:
                    done[segment_id] = (expected + 1, flags)
                else:
                    left.append(segment_id)
            decided = self._check_flags(conn, done)
            if decided:
                for chunk in chunks(decided):
                    conn.execute(update(FLAG).where(FLAG.c.id.in_([f for _, f in chunk])).values(
                        decision=DECIDING[action], decided_by=reviewer, decided_at=now))
                runs = self._run_of(conn, list(done))
                conn.execute(insert(REVIEW), [
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
        reviewer = reviewer_name(reviewer)
        now = utcnow()
        with self.engine.begin() as conn:
            if batch is None:
                batch = self._last_batch(conn, reviewer)
                if batch is None:
                    raise UsageError(f"{reviewer} has no bulk action to undo")
            entries = conn.execute(select(REVIEW.c.id, REVIEW.c.segment_id, REVIEW.c.flag_id,
                                          REVIEW.c.action).where(REVIEW.c.batch == batch)).all()
            if not entries or batch.startswith("undo:"):
                raise UsageError(f"no bulk action {batch!r} in the review store",
                                 fix="list them with Store.bulk_actions")
            if conn.execute(select(REVIEW.c.id).where(REVIEW.c.batch == "undo:" + batch).limit(1)).first():
                raise UsageError(f"bulk action {batch} was already undone")
            # A flag is the bulk action's still when the action is the last decision on it in the
            # log (a comment since does not count).
            last_word: dict[int, int] = {}
            flag_ids = [e.flag_id for e in entries]
            deciding = [a.value for a in (Action.CONFIRM, Action.DISMISS, Action.REOPEN)]
            for chunk in chunks(flag_ids):
                for row in conn.execute(select(REVIEW.c.flag_id, func.max(REVIEW.c.id).label("last"))
                                        .where(REVIEW.c.flag_id.in_(chunk), REVIEW.c.action.in_(deciding))
                                        .group_by(REVIEW.c.flag_id)):
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
                bumped = conn.execute(update(SEG).where(SEG.c.id == segment_id, free_for(reviewer, now))
                                      .values(version=SEG.c.version + 1, updated_at=now,
                                              updated_by=reviewer))
                if bumped.rowcount != 1:
                    held.append(segment_id)
                    continue
                versions[segment_id] = conn.execute(select(SEG.c.version)
                                                    .where(SEG.c.id == segment_id)).scalar_one()
                reopened += [(segment_id, f) for f in flags]
            for chunk in chunks(reopened):
                conn.execute(update(FLAG).where(FLAG.c.id.in_([f for _, f in chunk])).values(
                    decision=None, decided_by=None, decided_at=None))
            if reopened:
                runs = self._run_of(conn, list(versions))
                conn.execute(insert(REVIEW), [
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
        is_undo = REVIEW.c.batch.like("undo:%")
        stmt = (select(REVIEW.c.batch, func.min(REVIEW.c.action).label("action"),
                       func.min(REVIEW.c.reviewer).label("reviewer"), func.count().label("flags"),
                       func.count(func.distinct(REVIEW.c.segment_id)).label("segments"),
                       func.min(REVIEW.c.created_at).label("created_at"))
                .where(REVIEW.c.batch.is_not(None), ~is_undo)
                .group_by(REVIEW.c.batch).order_by(func.max(REVIEW.c.id).desc()).limit(limit))
        if reviewer is not None:
            stmt = stmt.where(REVIEW.c.reviewer == reviewer)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            undos = {"undo:" + r.batch for r in rows}
            undone = set(conn.execute(select(REVIEW.c.batch).where(REVIEW.c.batch.in_(undos)).distinct())
                         .scalars()) if undos else set()
        return [BulkRecord(batch=r.batch, action=Action(r.action), reviewer=r.reviewer, flags=int(r.flags),
                           segments=int(r.segments), created_at=aware(r.created_at),
                           undone="undo:" + r.batch in undone)
                for r in rows]

    @staticmethod
    def _last_batch(conn: Any, reviewer: str) -> str | None:
        """The reviewer's latest bulk action that has not been undone."""
        undone = select(REVIEW.c.batch).where(REVIEW.c.batch.like("undo:%")).distinct()
        rows = conn.execute(select(REVIEW.c.batch).where(
            REVIEW.c.reviewer == reviewer, REVIEW.c.batch.is_not(None), ~REVIEW.c.batch.like("undo:%"))
            .group_by(REVIEW.c.batch).order_by(func.max(REVIEW.c.id).desc())).scalars().all()
        gone = {b.removeprefix("undo:") for b in conn.execute(undone).scalars()}
        return next((b for b in rows if b not in gone), None)

    @staticmethod
    def _check_flags(conn: Any, chosen: Mapping[int, tuple[int, list[int]]]) -> list[tuple[int, int]]:
        """The (segment, flag) pairs of ``chosen``, each checked to be a flag of that segment."""
        pairs = [(sid, fid) for sid, (_, flags) in chosen.items() for fid in flags]
        real: set[tuple[int, int]] = set()
        for chunk in chunks(pairs):
            real.update((r.segment_id, r.id) for r in conn.execute(
                select(FLAG.c.id, FLAG.c.segment_id).where(FLAG.c.id.in_([f for _, f in chunk]))))
        stray = [pair for pair in pairs if pair not in real]
        if stray:  # raising rolls the whole action back
            raise StoreError(f"flag {stray[0][1]} is not a flag of segment {stray[0][0]}",
                             fix="pick the flags with Store.select_open_flags")
        return pairs

    @staticmethod
    def _run_of(conn: Any, segment_ids: Sequence[int]) -> dict[int, int]:
        runs: dict[int, int] = {}
        for chunk in chunks(list(segment_ids)):
            runs.update((r.id, r.run_id) for r in conn.execute(
                select(SEG.c.id, SEG.c.run_id).where(SEG.c.id.in_(chunk))))
        return runs

    @staticmethod
    def _conflicts(conn: Any, segment_ids: Sequence[int], versions: Mapping[int, int], reviewer: str,
                   now: _dt.datetime, *, reason: str | None = None) -> tuple[BulkConflict, ...]:
        """Why each of these segments was left alone, in the order given."""
        found: dict[int, Any] = {}
        for chunk in chunks(list(segment_ids)):
            found.update((r.id, r) for r in conn.execute(
                select(SEG.c.id, SEG.c.seg_id, SEG.c.version, SEG.c.updated_by, SEG.c.claimed_by,
                       SEG.c.claimed_until).where(SEG.c.id.in_(chunk))))
        out = []
        for sid in segment_ids:
            row = found.get(sid)
            if row is None:
                out.append(BulkConflict(sid, "", "no longer in the review store"))
                continue
            holder = live_holder(row.claimed_by, row.claimed_until, now)
            if reason is not None:
                why = reason
            elif holder is not None and holder != reviewer:
                why = f"open by {holder} until {aware(row.claimed_until):%H:%M} UTC"
            else:
                why = (f"saved by {row.updated_by or 'another reviewer'} since it was picked "
                       f"(version {versions.get(sid)} -> {row.version})")
            out.append(BulkConflict(sid, row.seg_id, why))
        return tuple(out)
