"""Calendar sections and events as the portal keeps them, and their REST shape (reference §4 Calendar).

A meeting is one parent event in its owner's calendar plus one entry per other attendee, each with an
id of its own (ATTENDEE_LIST[].entryId), as Bitrix24 stores it; attendees see their entry in their
own calendar. The host's status is "H", invited attendees "Q", a declined one "N".
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from .calendar_dates import iso, js_format, next_day, offset_seconds, site_format

CALENDAR_TYPES = ("user", "group", "company_calendar")
COMPANY_OWNER = 0


@dataclass
class Section:
    id: int
    cal_type: str
    owner_id: int
    name: str
    created_by: int
    created_at: float
    color: str = "#9dcf00"


@dataclass
class Attendee:
    user_id: int
    entry_id: int
    status: str  # H host, Q invited, Y accepted, N declined


@dataclass
class CalendarEvent:
    id: int
    cal_type: str
    owner_id: int
    section_id: int
    name: str
    start: datetime
    end: datetime  # for an all-day event, the start of its last day
    tz_from: str
    tz_to: str
    skip_time: bool
    host_id: int
    created_at: float
    updated_at: float
    description: str = ""
    location: str = ""
    is_meeting: bool = False
    attendees: list[Attendee] = field(default_factory=list)
    meeting: dict[str, bool] = field(default_factory=dict)
    remind: list[dict[str, Any]] = field(default_factory=list)
    accessibility: str = "busy"
    importance: str = "normal"
    private_event: bool = False
    color: str = ""
    text_color: str = ""
    rrule: Any = None
    crm_fields: list[str] = field(default_factory=list)  # linked CRM records: D_1, L_5, C_3, CO_2
    version: int = 1

    @property
    def busy_until(self) -> datetime:
        return next_day(self.end) if self.skip_time else self.end

    def overlaps(self, since: datetime | None, until: datetime | None) -> bool:
        starts_before_end = until is None or self.start < until
        ends_after_start = since is None or self.busy_until > since or self.start >= since
        return starts_before_end and ends_after_start

    def attendee(self, user_id: int) -> Attendee | None:
        return next((a for a in self.attendees if a.user_id == user_id), None)


class CalendarStore:
    def __init__(self, ids: "itertools.count[int] | None" = None) -> None:
        # Events and attendee entries share one sequence, as in Bitrix24; a portal never reuses an id,
        # not even across a sandbox reset (an app may still hold ids from before it).
        self._ids = ids or itertools.count(1)
        self._section_ids = itertools.count(1)
        self.sections: dict[int, Section] = {}
        self.events: dict[int, CalendarEvent] = {}
        self._entries: dict[int, tuple[int, int]] = {}  # entry id -> (parent id, user id)

    def next_id(self) -> int:
        return next(self._ids)

    def add_section(self, cal_type: str, owner_id: int, name: str, created_by: int, now: float) -> Section:
        section = Section(next(self._section_ids), cal_type, owner_id, name, created_by, now)
        self.sections[section.id] = section
        return section

    def sections_of(self, cal_type: str, owner_id: int) -> list[Section]:
        return [s for s in self.sections.values() if s.cal_type == cal_type and s.owner_id == owner_id]

    def save(self, event: CalendarEvent) -> None:
        self.events[event.id] = event
        self._entries = {k: v for k, v in self._entries.items() if v[0] != event.id}
        for attendee in event.attendees:
            if attendee.entry_id != event.id:
                self._entries[attendee.entry_id] = (event.id, attendee.user_id)

    def delete(self, event: CalendarEvent) -> None:
        self.events.pop(event.id, None)
        self._entries = {k: v for k, v in self._entries.items() if v[0] != event.id}

    def find(self, entry_id: int) -> tuple[CalendarEvent, Attendee | None] | None:
        """The event behind a parent id, or behind an attendee's entry id with that attendee."""
        if entry_id in self.events:
            return self.events[entry_id], None
        parent_id, user_id = self._entries.get(entry_id, (None, None))
        if parent_id is None:
            return None
        event = self.events[parent_id]
        return event, event.attendee(user_id)

    def views_of(self, cal_type: str, owner_id: int) -> Iterator[tuple[CalendarEvent, Attendee | None]]:
        """What the owner's calendar shows: own events, and the meetings they were invited to."""
        for event in self.events.values():
            if event.cal_type == cal_type and event.owner_id == owner_id:
                yield event, None
            elif cal_type == "user" and event.is_meeting and event.owner_id != owner_id:
                attendee = event.attendee(owner_id)
                if attendee and attendee.status != "N" and attendee.entry_id != event.id:
                    yield event, attendee


# --- REST and state shapes ---

def _site_time(ts: float, zone_name: str) -> str:
    return site_format(datetime.fromtimestamp(ts, timezone.utc), ZoneInfo(zone_name), False)


def render_event(event: CalendarEvent, attendee: Attendee | None, section_of: Callable[[int], int],
                 name_of: Callable[[int], str], language: str) -> dict[str, Any]:
    """calendar.event.get / getbyid shape; `attendee` set means that attendee's own entry."""
    tz_from, tz_to = ZoneInfo(event.tz_from), ZoneInfo(event.tz_to)
    owner_id = attendee.user_id if attendee else event.owner_id
    section_id = section_of(attendee.user_id) if attendee else event.section_id
    own = attendee or event.attendee(event.owner_id)
    length = ((event.end.date() - event.start.date()).days + 1) * 86400 if event.skip_time else int((event.end - event.start).total_seconds())
    return {
        "ID": str(attendee.entry_id if attendee else event.id),
        "PARENT_ID": str(event.id),
        "DELETED": "N",
        "CAL_TYPE": event.cal_type,
        "OWNER_ID": str(owner_id),
        "NAME": event.name,
        "DATE_FROM": site_format(event.start, tz_from, event.skip_time),
        "DATE_TO": site_format(event.end, tz_to, event.skip_time),
        "ORIGINAL_DATE_FROM": None,
        "TZ_FROM": event.tz_from,
        "TZ_TO": event.tz_to,
        "TZ_OFFSET_FROM": str(offset_seconds(event.start, tz_from)),
        "TZ_OFFSET_TO": str(offset_seconds(event.end, tz_to)),
        "DATE_FROM_TS_UTC": str(int(event.start.timestamp())),
        "DATE_TO_TS_UTC": str(int(event.end.timestamp())),
        "DT_SKIP_TIME": "Y" if event.skip_time else "N",
        "DT_LENGTH": length,
        "EVENT_TYPE": None,
        "CREATED_BY": str(event.host_id),
        "DATE_CREATE": _site_time(event.created_at, event.tz_from),
        "TIMESTAMP_X": _site_time(event.updated_at, event.tz_from),
        "DESCRIPTION": event.description,
        "PRIVATE_EVENT": "1" if event.private_event else "",
        "ACCESSIBILITY": event.accessibility,
        "IMPORTANCE": event.importance,
        "IS_MEETING": event.is_meeting,
        "MEETING_STATUS": own.status if own else "H",
        "MEETING_HOST": str(event.host_id),
        "MEETING": {
            "HOST_NAME": name_of(event.host_id),
            **{key.upper(): event.meeting.get(key, False) for key in ("notify", "reinvite", "allow_invite", "hide_guests")},
            "MEETING_CREATOR": event.host_id,
            "LANGUAGE_ID": language,
            "MAIL_FROM": "",
        },
        "LOCATION": event.location,
        "REMIND": [dict(item) for item in event.remind],
        "COLOR": event.color,
        "RRULE": render_rrule(event.rrule),
        "EXDATE": "",
        "DAV_XML_ID": f"sandbox-event-{event.id}",
        "VERSION": str(event.version),
        "ATTENDEES_CODES": [f"U{a.user_id}" for a in event.attendees] if event.is_meeting else [f"U{event.owner_id}"],
        "SECTION_ID": str(section_id),
        # calendar-event-get-by-id.md: ["CO_1", "L_5"]; empty, false as UF_WEBDAV_CAL_EVENT is there (unsettled)
        "UF_CRM_CAL_EVENT": list(event.crm_fields) or False,
        "SECT_ID": str(section_id),
        "DATE_FROM_FORMATTED": js_format(event.start, tz_from),
        "DATE_TO_FORMATTED": js_format(event.end, tz_to),
        "ATTENDEE_LIST": [{"id": a.user_id, "entryId": str(a.entry_id), "status": a.status} for a in event.attendees],
        "attendeesEntityList": [{"entityId": "user", "id": a.user_id} for a in event.attendees],
    }


def render_rrule(rule: dict[str, Any] | None) -> dict[str, Any] | str:
    """RRULE as calendar-event-get-by-id.md's example shows it: BYDAY an object {"MO": "MO"}, UNTIL in the
    site's date format with ~UNTIL and UNTIL_TS (midnight UTC: 12/24/2024 is 1734998400). COUNT is not in
    the example nor in calendar_event_fields.md's RRULE table; kept as sent (UNVERIFIED). No rule: ""."""
    if not rule:
        return ""
    shown: dict[str, Any] = {"FREQ": rule["FREQ"]}
    if rule.get("BYDAY"):
        shown["BYDAY"] = {day: day for day in rule["BYDAY"]}
    shown["INTERVAL"] = rule["INTERVAL"]
    if rule.get("COUNT"):
        shown["COUNT"] = rule["COUNT"]
    if rule.get("UNTIL"):
        until = datetime.fromisoformat(rule["UNTIL"]).replace(tzinfo=timezone.utc)
        shown["UNTIL"] = shown["~UNTIL"] = until.strftime("%m/%d/%Y")
        shown["UNTIL_TS"] = int(until.timestamp())
    return shown


def event_state(event: CalendarEvent) -> dict[str, Any]:
    """What /_sandbox/state shows: every field, times as ISO 8601 in the event's own zones."""
    return {
        "id": event.id, "type": event.cal_type, "owner_id": event.owner_id, "section_id": event.section_id,
        "name": event.name, "description": event.description, "location": event.location,
        "from": iso(event.start, ZoneInfo(event.tz_from)), "to": iso(event.end, ZoneInfo(event.tz_to)),
        "timezone_from": event.tz_from, "timezone_to": event.tz_to, "skip_time": event.skip_time,
        "is_meeting": event.is_meeting, "host_id": event.host_id,
        "attendees": [{"user_id": a.user_id, "entry_id": a.entry_id, "status": a.status} for a in event.attendees],
        "meeting": dict(event.meeting), "remind": [dict(item) for item in event.remind],
        "accessibility": event.accessibility, "importance": event.importance,
        "private_event": event.private_event, "color": event.color, "text_color": event.text_color,
        "rrule": event.rrule, "crm_fields": list(event.crm_fields), "version": event.version,
        "created_at": datetime.fromtimestamp(event.created_at, timezone.utc).isoformat(timespec="seconds"),
        "updated_at": datetime.fromtimestamp(event.updated_at, timezone.utc).isoformat(timespec="seconds"),
    }


def render_section(section: Section, can_edit: bool) -> dict[str, Any]:
    created = datetime.fromtimestamp(section.created_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return {
        "ID": str(section.id), "NAME": section.name, "DESCRIPTION": "", "COLOR": section.color,
        "TEXT_COLOR": "#000000", "EXPORT": {"ALLOW": True, "LINK": ""}, "CAL_TYPE": section.cal_type,
        "OWNER_ID": str(section.owner_id), "CREATED_BY": str(section.created_by), "DATE_CREATE": created,
        "TIMESTAMP_X": created, "EXTERNAL_TYPE": "local", "ACCESS": {}, "IS_COLLAB": False,
        "PERM": {"view_time": True, "view_title": True, "view_full": True, "add": can_edit, "edit": can_edit,
                 "edit_section": can_edit, "access": can_edit},
    }
