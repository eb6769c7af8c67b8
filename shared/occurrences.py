"""When a meeting happens: once at start_at, or every time its recurrence says (RFC 5545 through dateutil's
rrule, in the meeting's own time zone so that "every Monday at 10:00" stays 10:00 across a change of DST)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule  # type: ignore[import-untyped]  # no stubs pinned; a small, stable surface

from shared.models import Conference

FREQUENCIES = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY}
WEEKDAYS = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}


def _rule(start: datetime, zone: ZoneInfo, recurrence: dict) -> rrule.rrule:
    until = recurrence.get("until")
    return rrule.rrule(
        FREQUENCIES[recurrence["freq"]],
        dtstart=start.astimezone(zone),
        interval=recurrence.get("interval") or 1,
        byweekday=[WEEKDAYS[day] for day in recurrence.get("byday") or []] or None,
        count=recurrence.get("count"),
        until=datetime.combine(datetime.fromisoformat(str(until)).date(), time.max, zone) if until else None,
        cache=False,
    )


def starts(conference: Conference) -> Iterator[datetime]:
    """Every start, in order (endless for a series with neither count nor until)."""
    if conference.start_at is None:
        return iter(())
    if not conference.recurrence:
        return iter((conference.start_at,))
    return iter(_rule(conference.start_at, ZoneInfo(conference.timezone), conference.recurrence))


def next_start(conference: Conference, after: datetime) -> datetime | None:
    """The first start later than `after`, or None when there is none."""
    return next((start for start in starts(conference) if start > after), None)


def last_start(conference: Conference) -> datetime | None:
    """The series' last start, or None when it never ends (or never starts)."""
    recurrence = conference.recurrence or {}
    if conference.recurrence and not (recurrence.get("count") or recurrence.get("until")):
        return None
    *_, last = starts(conference) if conference.start_at else (None,)
    return last


def _reminded_by_the_app(conference: Conference) -> bool:
    """Invitees told by the app and not by a calendar event, which reminds them itself (its remind)."""
    return bool(conference.invite_users and conference.invitees and not conference.create_calendar_event)


def reminder_after(conference: Conference, after: datetime) -> datetime | None:
    """When invitees are to hear of the first start later than `after`: reminder_minutes before it (at once
    when that is already past), or None when none is wanted or nothing starts any more."""
    if not conference.reminder_minutes or conference.cancel_requested or not _reminded_by_the_app(conference):
        return None
    start = next_start(conference, after)
    return None if start is None else start - timedelta(minutes=conference.reminder_minutes)


def next_reminder(conference: Conference, now: datetime) -> datetime | None:
    """When the next reminder is due: of the first start after now not reminded of yet (reminded_at holds
    the start last reminded of, so an edit that keeps that start does not remind of it again)."""
    after = max(now, conference.reminded_at) if conference.reminded_at else now
    return reminder_after(conference, after)
