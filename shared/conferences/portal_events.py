"""Bitrix24 events, kept from their arrival until a worker has processed them.

Bitrix24 sends an event once: "If your server does not respond or returns an error, the Bitrix24 queue
server will log the failure but will not resend the event" (b24restdocs api-reference/events/index.md,
"No retries"). So /bitrix/events stores the event before it answers 200, and the queue only carries the
row's id: a lost message, a dead worker or Redis down costs a delay, never the event (the sweeper
re-sends what waits, shared/housekeeping/sweeper.py rule 1 of DESIGN §4).

An event is a hint to check a subject with the portal (DESIGN §5): one row waits per subject, and what
arrives before a worker takes it joins it, so a flood of one hint is one check. A worker takes the row
before it reads the portal: an event after that makes a new row and a later read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from shared.clients.errors import PermanentError
from shared.conferences import calendar_sync
from shared.db import Database
from shared.models import InboundEvent, utcnow
from shared.portal.access import BitrixAccess
from shared.portal.uninstall import CLEAN_UNINSTALL, UNINSTALL, confirm_uninstall

log = logging.getLogger(__name__)
CALENDAR_PREFIX = "calendar:"
# A row taken this long ago without an end belongs to a worker that died (or a task that gave up): it is
# sent again. Processing an event reads one calendar event per linked conference (one, as a rule); a read
# waits at most 5 s for the portal's budget (ratelimit.MAX_WAIT_SECONDS) and 10 s for an answer
# (HTTP_TIMEOUT_SECONDS at its maximum), twice with a token refresh between: under a minute, a fifth of this.
TAKEN_STALE_AFTER = timedelta(minutes=5)
# Events other than ONAPPINSTALL carry only the application token, which every employee's browser sees
# (DESIGN §5): a portal with this many hints waiting gets no more rows until workers catch up; the beat
# reconciliation of calendar events (calendar_sync.reconcile) catches up on whatever that skips.
MAX_WAITING_PER_PORTAL = 1000
# A subject the portal keeps failing to answer about for this many tries is dropped, with a warning: the
# reconciliation of calendar events (calendar_sync.reconcile) still catches what it would have shown.
MAX_ATTEMPTS = 20


def uninstall_subject(clean: bool) -> str:
    """An uninstall with "delete application data" ticked is its own subject: it never joins a plain one."""
    return CLEAN_UNINSTALL if clean else UNINSTALL


def calendar_subject(event_id: int) -> str:
    return f"{CALENDAR_PREFIX}{event_id}"


def calendar_event_id(subject: str) -> int | None:
    tail = subject.removeprefix(CALENDAR_PREFIX)
    return int(tail) if subject.startswith(CALENDAR_PREFIX) and tail.isdecimal() else None


@dataclass(frozen=True)
class Taken:
    """A row this worker now processes."""

    id: int
    portal: str
    subject: str
    event: str
    ts: int
    attempts: int


def store(db: Database, portal: str, subject: str, event: str, ts: int) -> int | None:
    """Stores the event; answers the new row's id (a task is to be sent), or None when it joined a waiting row
    or the portal has MAX_WAITING_PER_PORTAL rows waiting already (then it is logged and dropped).

    Raises SQLAlchemyError when the database cannot store it: then the handler must not answer 200.
    """
    try:
        with db.write() as session:
            waiting = session.scalars(
                select(InboundEvent).where(
                    InboundEvent.portal == portal,
                    InboundEvent.subject == subject,
                    InboundEvent.taken_at.is_(None),
                )
            ).one_or_none()
            if waiting is not None:
                waiting.ts, waiting.event = max(waiting.ts, ts), event
                return None
            if _waiting_count(session, portal) >= MAX_WAITING_PER_PORTAL:
                log.warning(
                    "Bitrix24 event %s for %s on %s dropped: %d events of that portal wait already",
                    event,
                    subject,
                    portal,
                    MAX_WAITING_PER_PORTAL,
                )
                return None
            # Counted as sent: the caller sends its task now, and if that fails the sweeper does, a while later.
            row = InboundEvent(
                portal=portal,
                subject=subject,
                event=event,
                ts=ts,
                received_at=utcnow(),
                sent_at=utcnow(),
                attempts=0,
            )
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:  # another request stored the same subject a moment ago (the unique waiting index)
        return None


def _waiting_count(session, portal: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(InboundEvent)
        .where(InboundEvent.portal == portal, InboundEvent.taken_at.is_(None))
    )


def mark_sent(db: Database, ids: list[int]) -> None:
    if ids:
        with db.write() as session:
            session.execute(update(InboundEvent).where(InboundEvent.id.in_(ids)).values(sent_at=utcnow()))


def take(db: Database, row_id: int) -> Taken | None:
    """Claims the row for this worker; None when it is gone (done) or another worker has it."""
    now = utcnow()
    with db.write() as session:
        # An UPDATE answers a CursorResult, which has the rowcount; Session.execute's stubs say Result.
        claimed = cast(
            "CursorResult[Any]",
            session.execute(
                update(InboundEvent)
                .where(
                    InboundEvent.id == row_id,
                    or_(InboundEvent.taken_at.is_(None), InboundEvent.taken_at <= now - TAKEN_STALE_AFTER),
                )
                .values(taken_at=now, attempts=InboundEvent.attempts + 1)
            ),
        )
        if claimed.rowcount != 1:
            return None
        row = session.get(InboundEvent, row_id)
        assert row is not None  # this transaction has just updated it
        return Taken(row.id, row.portal, row.subject, row.event, row.ts, row.attempts)


def done(db: Database, row_id: int) -> None:
    with db.write() as session:
        session.execute(delete(InboundEvent).where(InboundEvent.id == row_id))


def release(db: Database, taken: Taken) -> bool:
    """Puts a row whose processing failed for now back to wait; answers False when it was dropped instead
    (tried too often, or a newer event of its subject waits already and will do the same check)."""
    if taken.attempts >= MAX_ATTEMPTS:
        log.warning(
            "Bitrix24 event %s for %s on %s dropped after %d attempts",
            taken.event,
            taken.subject,
            taken.portal,
            taken.attempts,
        )
        done(db, taken.id)
        return False
    try:
        with db.write() as session:
            session.execute(
                update(InboundEvent)
                .where(InboundEvent.id == taken.id)
                .values(taken_at=None, sent_at=utcnow())
            )
        return True
    except IntegrityError:
        done(db, taken.id)
        return False


def due_ids(db: Database, resend_after_seconds: float, limit: int = 500) -> list[int]:
    """Rows with no task on the way: waiting and not sent for a while, or taken by a worker that is gone."""
    now = utcnow()
    quiet = or_(
        InboundEvent.sent_at.is_(None), InboundEvent.sent_at <= now - timedelta(seconds=resend_after_seconds)
    )
    with db.read() as session:
        return list(
            session.scalars(
                select(InboundEvent.id)
                .where(
                    or_(
                        and_(InboundEvent.taken_at.is_(None), quiet),
                        InboundEvent.taken_at <= now - TAKEN_STALE_AFTER,
                    )
                )
                .order_by(InboundEvent.id)
                .limit(limit)
            )
        )


def process(access: BitrixAccess, taken: Taken) -> list[int]:
    """Checks the row's subject with the portal and follows what it says; answers the conferences that
    changed (their steps run again). A transient failure raises: the row is released and tried again."""
    if taken.subject in (UNINSTALL, CLEAN_UNINSTALL):
        confirm_uninstall(access, taken.portal, taken.ts, clean=taken.subject == CLEAN_UNINSTALL)
        return []
    event_id = calendar_event_id(taken.subject)
    changed = []
    for conference_id in (
        [] if event_id is None else calendar_sync.conferences_of_event(access.db, taken.portal, event_id)
    ):
        try:
            if calendar_sync.follow_event(
                access.db, lambda c: access.client(c.portal, c.owner_id), conference_id
            ):
                changed.append(conference_id)
        except PermanentError as error:  # no pair of the owner's, access denied: nothing is changed
            log.warning("calendar event of conference %s not checked: %s", conference_id, error)
    return changed
