"""Changes people make in the Bitrix24 calendar flow back: a deleted event cancels its conference, a moved
event moves it (OnCalendarEntryDelete / OnCalendarEntryUpdate, bound at install)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import select

from ..clients.bitrix24 import Bitrix24Client
from ..db import Database
from ..models import Conference, utcnow
from .conferences import reopen_steps
from .steps import refresh_status

log = logging.getLogger(__name__)


def _linked(session, portal: str, event_id: int) -> list[Conference]:
    return list(session.scalars(select(Conference).where(
        Conference.portal == portal, Conference.calendar_event_id == event_id,
        Conference.cancel_requested.is_(False))))


def cancel_for_deleted_event(db: Database, portal: str, event_id: int) -> list[int]:
    """The event is gone already: the conference is cancelled the same way, minus deleting it again."""
    with db.write() as session:
        conferences = _linked(session, portal, event_id)
        for conference in conferences:
            conference.calendar_event_id = None
            conference.cancel_requested, conference.version = True, conference.version + 1
            conference.enqueued_at = utcnow()
            reopen_steps(conference)
            refresh_status(conference)
            log.info("conference %s cancelled: its calendar event %s was deleted in Bitrix24", conference.id, event_id)
        return [c.id for c in conferences]


def conferences_of_event(db: Database, portal: str, event_id: int) -> list[int]:
    with db.read() as session:
        return [c.id for c in _linked(session, portal, event_id)]


def _moment(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), timezone.utc) if str(value or "").isdigit() else None


def pull_event_change(db: Database, bitrix_for: Callable[[Conference], Bitrix24Client], conference_id: int) -> bool:
    """Reads the event; when its time or name differs from the conference, the conference follows.

    Answers whether the conference changed (then its steps run again: invitees hear of the new time).
    Our own updates come back as events too; they change nothing here, so there is no loop.
    """
    with db.read() as session:
        conference = session.get(Conference, conference_id)
    if conference is None or conference.calendar_event_id is None or conference.cancel_requested:
        return False
    event = bitrix_for(conference).result("calendar.event.getbyid", {"id": conference.calendar_event_id})
    if not isinstance(event, dict):
        return False
    start, end = _moment(event.get("DATE_FROM_TS_UTC")), _moment(event.get("DATE_TO_TS_UTC"))
    name = str(event.get("NAME") or "").strip()[:255] or None
    if start is None or end is None or end <= start:
        return False
    duration = max(1, min(24 * 60, round((end - start) / timedelta(minutes=1))))
    with db.write() as session:
        conference = session.get(Conference, conference_id)
        if (conference.start_at, conference.duration_minutes, conference.name) == (start, duration, name or conference.name):
            return False
        conference.start_at, conference.duration_minutes = start, duration
        conference.name = name or conference.name
        conference.version += 1
        conference.enqueued_at = utcnow()
        reopen_steps(conference)
        refresh_status(conference)
    log.info("conference %s follows its calendar event: %s, %d min", conference_id, start.isoformat(), duration)
    return True
