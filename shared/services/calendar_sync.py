"""Changes people make in the Bitrix24 calendar flow back: a deleted event cancels its conference, a moved
event moves it. OnCalendarEntryDelete / OnCalendarEntryUpdate (bound at install) are hints that something
changed; what changed is read from the portal with the owner's own pair."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import select

from ..clients.bitrix24 import Bitrix24Client
from ..db import Database
from ..models import Conference, utcnow
from . import bitrix_content
from .conferences import reopen_steps
from .steps import refresh_status

log = logging.getLogger(__name__)


def _linked(session, portal: str, event_id: int) -> list[Conference]:
    return list(session.scalars(select(Conference).where(
        Conference.portal == portal, Conference.calendar_event_id == event_id,
        Conference.cancel_requested.is_(False))))


def conferences_of_event(db: Database, portal: str, event_id: int) -> list[int]:
    with db.read() as session:
        return [c.id for c in _linked(session, portal, event_id)]


def _moment(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), timezone.utc) if str(value or "").isdigit() else None


def is_gone(event) -> bool:
    """calendar.event.getbyid answers "the fields of the event entity or null" (b24restdocs
    api-reference/calendar/calendar-event-get-by-id.md); a record marked DELETED=Y is gone as well."""
    return not isinstance(event, dict) or not event or str(event.get("DELETED") or "N").upper() == "Y"


def follow_event(db: Database, bitrix_for: Callable[[Conference], Bitrix24Client], conference_id: int) -> bool:
    """Reads the conference's event from the portal and follows what the portal says, never what an event
    posted to the app claims (anyone can post one: DESIGN §5). Gone: the conference is cancelled the same
    way as from the app, minus deleting the event again. Moved or renamed: the conference follows.

    Answers whether the conference changed (then its steps run again: invitees hear of it). Our own
    updates come back as events too; they change nothing here, so there is no loop.
    """
    with db.read() as session:
        conference = session.get(Conference, conference_id)
    if conference is None or conference.calendar_event_id is None or conference.cancel_requested:
        return False
    event_id = conference.calendar_event_id
    event = bitrix_for(conference).result("calendar.event.getbyid", {"id": event_id})
    if is_gone(event):
        return _cancel_for_deleted_event(db, conference_id, event_id)
    start, end = _moment(event.get("DATE_FROM_TS_UTC")), _moment(event.get("DATE_TO_TS_UTC"))
    name = str(event.get("NAME") or "").strip()[:255] or None
    if name == bitrix_content.bb_text(conference.name):
        name = conference.name  # the name as the app wrote it, neutralised (bitrix_content.calendar_event)
    if start is None or end is None or end <= start:
        return False
    duration = max(1, min(24 * 60, round((end - start) / timedelta(minutes=1))))
    with db.write() as session:
        conference = session.get(Conference, conference_id)
        if conference.cancel_requested or conference.calendar_event_id != event_id or \
                (conference.start_at, conference.duration_minutes, conference.name) == (start, duration, name or conference.name):
            return False
        conference.start_at, conference.duration_minutes = start, duration
        conference.name = name or conference.name
        _again(conference)
    log.info("conference %s follows its calendar event: %s, %d min", conference_id, start.isoformat(), duration)
    return True


def _cancel_for_deleted_event(db: Database, conference_id: int, event_id: int) -> bool:
    with db.write() as session:
        conference = session.get(Conference, conference_id)
        if conference is None or conference.cancel_requested or conference.calendar_event_id != event_id:
            return False
        conference.calendar_event_id = None
        conference.cancel_requested = True
        _again(conference)
    log.info("conference %s cancelled: the portal says its calendar event %s is gone", conference_id, event_id)
    return True


def _again(conference: Conference) -> None:
    conference.version += 1
    conference.enqueued_at = utcnow()
    reopen_steps(conference)
    refresh_status(conference)
