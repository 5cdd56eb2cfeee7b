"""Sharing the review work: assignments, claims that expire, the next free segment for a reviewer,
and the settings a QA lead keeps in the store."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tqcheck.errors import StoreError, UsageError
from tqcheck.store._base import CLAIM_TTL, SEG, SETTING, aware, chunks, free_for, live_holder, reviewer_name, utcnow
from tqcheck.store._read import StoreReader
from tqcheck.store.records import Claim, QueueFilter, ReviewStatus


class Assignments(StoreReader):
    """Who reviews what: no two reviewers are handed the same segment at once."""

    # -- who reviews what --------------------------------------------------------------------------

    def assign(self, segment_ids: Sequence[int], reviewer: str | None, *, by: str) -> int:
        """Assign segments to a reviewer (None: unassign); returns how many were changed.

        To hand over a document, assign the ids of ``article(run_id, doc_id)``. An assignment is
        not a review decision: the segments' versions stay as they are, so nobody's open page turns
        stale; ``by`` (who assigned) is kept beside it.
        """
        by = reviewer_name(by)
        name = (reviewer or "").strip() or None
        changed = 0
        with self.engine.begin() as conn:
            for chunk in chunks(list(dict.fromkeys(segment_ids))):
                changed += conn.execute(update(SEG).where(SEG.c.id.in_(chunk))
                                        .values(assigned_to=name, assigned_by=by if name else None)).rowcount
        return changed

    def claim(self, segment_id: int, reviewer: str, *, ttl: _dt.timedelta = CLAIM_TTL) -> Claim:
        """Take a segment for ``reviewer`` until ``ttl`` from now, unless someone else has it.

        Atomic: one ``UPDATE ... WHERE`` nobody else holds a live claim, so two reviewers can never
        both get it. A reviewer has one segment open at a time: taking one releases the one before.
        Claiming again renews the claim. The returned ``Claim`` says who holds it (``taken``: you).
        """
        reviewer = reviewer_name(reviewer)
        now = utcnow()
        with self.engine.begin() as conn:
            taken = self._take(conn, segment_id, reviewer, now, ttl)
            row = conn.execute(select(SEG.c.claimed_by, SEG.c.claimed_until)
                               .where(SEG.c.id == segment_id)).first()
        if row is None:
            raise StoreError(f"no segment {segment_id} in the review store", where=self.url)
        return Claim(segment_id=segment_id, holder=live_holder(row.claimed_by, row.claimed_until, now),
                     until=aware(row.claimed_until) if row.claimed_by else None, taken=taken)

    @staticmethod
    def _take(conn: Any, segment_id: int, reviewer: str, now: _dt.datetime, ttl: _dt.timedelta,
              *, still: Sequence[Any] = ()) -> bool:
        """Claim in one conditional UPDATE; ``still``: conditions the segment must meet at that
        moment too (not reviewed by someone since the walk saw it)."""
        taken = conn.execute(update(SEG).where(SEG.c.id == segment_id, free_for(reviewer, now), *still)
                             .values(claimed_by=reviewer, claimed_until=now + ttl)).rowcount == 1
        if taken:
            conn.execute(update(SEG).where(SEG.c.claimed_by == reviewer, SEG.c.id != segment_id)
                         .values(claimed_by=None, claimed_until=None))
        return bool(taken)

    def release(self, segment_id: int, reviewer: str) -> bool:
        """Let go of a segment the reviewer holds; False when they did not hold it."""
        reviewer = reviewer_name(reviewer)
        with self.engine.begin() as conn:
            return bool(conn.execute(update(SEG).where(SEG.c.id == segment_id, SEG.c.claimed_by == reviewer)
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
        reviewer = reviewer_name(reviewer)
        page = 20
        now = utcnow()
        undecided = SEG.c.status != ReviewStatus.REVIEWED.value
        where = [*self._queue_where(queue_filter), undecided, free_for(reviewer, now)]
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

    # -- settings ----------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """What a QA lead set for everyone (thresholds, ...), key -> JSON value."""
        with self.engine.connect() as conn:
            return {r.key: json.loads(r.value) for r in conn.execute(select(SETTING.c.key, SETTING.c.value))}

    def set_setting(self, key: str, value: Any, *, by: str) -> None:
        """Store one setting (any JSON value; None removes it)."""
        by = reviewer_name(by)
        key = key.strip()
        if not key:
            raise UsageError("a setting needs a name")
        if value is None:
            with self.engine.begin() as conn:
                conn.execute(delete(SETTING).where(SETTING.c.key == key))
            return
        try:
            encoded = json.dumps(value, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"setting {key!r} is not a JSON value: {exc}") from exc
        values = {"value": encoded, "updated_by": by, "updated_at": utcnow()}
        for _ in range(2):  # an insert that loses a race to another writer becomes an update
            try:
                with self.engine.begin() as conn:
                    if conn.execute(update(SETTING).where(SETTING.c.key == key).values(**values)).rowcount:
                        return
                    conn.execute(insert(SETTING).values(key=key, **values))
                    return
            except IntegrityError:
                continue
        raise StoreError(f"could not save setting {key!r}: other writers kept changing it", where=self.url,
                         fix="try again")
