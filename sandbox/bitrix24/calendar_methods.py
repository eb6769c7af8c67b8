"""calendar.section.get and calendar.event.add / update / delete / get / getbyid (reference §4 Calendar).

Checks and their order follow the core's CCalendarRestService: the section first (given, or the owner's
with auto_detect_section=Y), then PERM['edit'] on it. A user calendar may be written by its owner or by
a portal admin (the core's SectionEditRule: isAdmin() or isOwner(); CCalendarSect::CanDo:
CBitrix24::isPortalAdmin), others get 400 "Access denied" (an empty code, as all calendar errors). Access
granted to other users on a section is not modelled. A meeting's organizer is the calling user; `host`
on add is ignored (b24restdocs calendar-event-add.md "Event Organizer").
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import calendar_echoes
from .calendar_dates import next_day
from .calendar_events import COMPANY_OWNER, Attendee, CalendarEvent, Section, event_state, render_event, render_section
from .calendar_fields import (ACCESS_DENIED, SECTION_ERROR, apply_details, apply_meeting, apply_times, calendar_error,
                              invalid, missing, php_empty, read_moment, require)
from .methods import Caller, method
from .params import as_int, as_list, is_y

if TYPE_CHECKING:
    from .portal import Portal


def can_write(caller: Caller, cal_type: str, owner_id: int) -> bool:
    """PERM['edit'] of a section: the core's SectionEditRule lets an admin and a user calendar's owner."""
    return caller.user.is_admin or (cal_type == "user" and owner_id == caller.user.id)


def default_section(portal: "Portal", cal_type: str, owner_id: int) -> Section | None:
    """Every user and the company calendar have one section, made on first use."""
    sections = portal.calendar.sections_of(cal_type, owner_id)
    if sections:
        return sections[0]
    owner = portal.users.get(owner_id)
    if cal_type == "user" and owner:
        return portal.calendar.add_section("user", owner_id, owner.full_name, owner_id, portal.now())
    if cal_type == "company_calendar" and owner_id == COMPANY_OWNER:
        return portal.calendar.add_section(cal_type, owner_id, "Company calendar", 1, portal.now())
    return None


def chosen_section(portal: "Portal", params: dict[str, Any], cal_type: str, owner_id: int,
                   auto_detect: bool = True) -> Section:
    """The given section, else (auto_detect) the owner's first one, made if there is none (the core's
    autoDetectSection / autoCreateSection). Without either the core's section lookup finds nothing."""
    if php_empty(params.get("section")):
        section = default_section(portal, cal_type, owner_id) if auto_detect else None
    else:
        found = portal.calendar.sections.get(as_int(params["section"]) or -1)
        section = found if found and (found.cal_type, found.owner_id) == (cal_type, owner_id) else None
    if section is None:
        raise calendar_error(SECTION_ERROR)
    return section


# --- methods ---

def section_get(portal: "Portal", caller: Caller, params: dict[str, Any]) -> list[dict[str, Any]]:
    if "type" not in params:
        raise missing("type", "calendar.section.get")
    cal_type = params["type"]
    if "ownerId" in params:
        owner_id = as_int(params["ownerId"]) or 0
    elif cal_type == "user":
        owner_id = caller.user.id
    else:
        raise missing("ownerId", "calendar.section.get")
    default_section(portal, cal_type, owner_id)
    editable = can_write(caller, cal_type, owner_id)
    return [render_section(section, editable) for section in portal.calendar.sections_of(cal_type, owner_id)]


def event_add(portal: "Portal", caller: Caller, params: dict[str, Any]) -> int:
    required = ("from", "to", "name", "ownerId", "type")
    auto_detect = params.get("auto_detect_section")
    if auto_detect is not None and auto_detect != "Y":
        required += ("section",)
    with_ts = {**params, "from": params.get("from") or params.get("from_ts"), "to": params.get("to") or params.get("to_ts")}
    require(with_ts, required, "calendar.event.add")
    if not isinstance(params["name"], str):
        raise invalid("name")
    cal_type, owner_id = str(params["type"]), as_int(params["ownerId"]) or 0
    # The docs say an absent auto_detect_section means "detect it"; the core copy detects only with Y
    # (otherwise it looks up the section by a null ID and answers the section error). Unverified which
    # is current: the stricter one is modelled, and the app sends auto_detect_section=Y.
    section = chosen_section(portal, params, cal_type, owner_id, auto_detect=auto_detect == "Y")
    if not can_write(caller, cal_type, owner_id):
        raise calendar_error(ACCESS_DENIED)
    now = portal.now()
    event = CalendarEvent(
        id=portal.calendar.next_id(), cal_type=cal_type, owner_id=owner_id, section_id=section.id, name="",
        start=None, end=None, tz_from=caller.user.time_zone, tz_to=caller.user.time_zone,  # type: ignore[arg-type]
        skip_time=False, host_id=caller.user.id, created_at=now, updated_at=now,
    )
    apply_times(event, params)
    apply_details(event, params)
    if "is_meeting" in params:
        apply_meeting(portal, event, params)
    portal.calendar.save(event)
    calendar_echoes.echo(portal, caller, calendar_echoes.ADDED, event.id)
    return event.id


def event_update(portal: "Portal", caller: Caller, params: dict[str, Any]) -> int:
    require(params, ("id", "ownerId", "type"), "calendar.event.update")
    if not isinstance(params.get("name"), str):  # the core checks it even when absent
        raise invalid("name")
    found = portal.calendar.find(as_int(params["id"]) or 0)
    if found is None or (found[0].cal_type, found[0].owner_id) != (params["type"], as_int(params["ownerId"]) or 0):
        raise calendar_error("An error occurred while modifying the event")
    event = found[0]
    if not (can_write(caller, event.cal_type, event.owner_id) or caller.user.id == event.host_id):
        raise calendar_error(ACCESS_DENIED)
    if is_y(params.get("is_meeting")) and caller.user.id != event.host_id and as_int(params.get("host")) != event.host_id:
        raise calendar_error(ACCESS_DENIED)  # a non-organizer must name the organizer as host
    _recurrence_mode(params)
    draft = dataclasses.replace(event, attendees=list(event.attendees), meeting=dict(event.meeting))
    if not php_empty(params.get("section")):
        draft.section_id = chosen_section(portal, params, event.cal_type, event.owner_id).id
    apply_times(draft, params)
    apply_details(draft, {**params, "name": params["name"].strip() or "New event"})
    if "is_meeting" in params:
        apply_meeting(portal, draft, params)
    draft.version, draft.updated_at = event.version + 1, portal.now()
    portal.calendar.save(draft)
    calendar_echoes.echo(portal, caller, calendar_echoes.UPDATED, event.id)
    return event.id


def _recurrence_mode(params: dict[str, Any]) -> None:
    """calendar-event-update.md: recurrence_mode this | next (both need current_date_from) | all. The
    emulator changes the whole chain whatever the mode (splitting a series is not modelled)."""
    mode = params.get("recurrence_mode")
    if php_empty(mode):
        return
    if mode not in ("this", "next", "all"):
        raise invalid("recurrence_mode")
    if mode != "all" and php_empty(params.get("current_date_from")):
        raise missing("current_date_from", "calendar.event.update")


def event_delete(portal: "Portal", caller: Caller, params: dict[str, Any]) -> bool:
    entry_id = as_int(params.get("id"))
    if not entry_id or entry_id <= 0:
        raise calendar_error("Event id not specified")
    found = portal.calendar.find(entry_id)
    failed = calendar_error("An error occurred while deleting the event")
    if found is None:
        raise failed
    event, attendee = found
    if attendee is not None:  # an attendee removing their entry declines the meeting
        if caller.user.id != attendee.user_id and not caller.user.is_admin:
            raise failed
        attendee.status = "N"
        calendar_echoes.echo(portal, caller, calendar_echoes.DELETED, entry_id)
        return True
    if not (can_write(caller, event.cal_type, event.owner_id) or caller.user.id == event.host_id):
        raise failed
    portal.calendar.delete(event)
    calendar_echoes.echo(portal, caller, calendar_echoes.DELETED, event.id)
    return True


def event_get(portal: "Portal", caller: Caller, params: dict[str, Any]) -> list[dict[str, Any]]:
    require(params, ("type",), "calendar.event.get")
    cal_type, owner_id = str(params["type"]), as_int(params.get("ownerId")) or 0
    since, until = _range(portal, caller, params)
    sections = {as_int(s) for s in as_list(params.get("section"))} - {None}
    views = [
        (event, attendee) for event, attendee in portal.calendar.views_of(cal_type, owner_id)
        if event.overlaps(since, until)
        and (not sections or (default_section(portal, "user", attendee.user_id).id if attendee else event.section_id) in sections)
    ]
    views.sort(key=lambda view: (view[0].start, view[0].id))
    return [_render(portal, event, attendee) for event, attendee in views]


def _range(portal: "Portal", caller: Caller, params: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Defaults as in the core: 30 days back to 90 days ahead; `to` given as a date includes that day."""
    since, until = read_moment(params, "from", caller.user.time_zone), read_moment(params, "to", caller.user.time_zone)
    if since is None and until is None:
        now = portal.now()
        return _utc(now - 30 * 86400), _utc(now + 90 * 86400)
    until_instant = None if until is None else next_day(until.instant) if until.date_only else until.instant
    return (since.instant if since else None), until_instant


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def event_getbyid(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, Any] | None:
    require(params, ("id",), "calendar.event.getbyid")
    found = portal.calendar.find(as_int(params["id"]) or 0)
    return _render(portal, *found) if found else None  # the core answers null for an unknown id


def _render(portal: "Portal", event: CalendarEvent, attendee: Attendee | None) -> dict[str, Any]:
    def section_of(user_id: int) -> int:
        section = default_section(portal, "user", user_id)
        return section.id if section else 0

    def name_of(user_id: int) -> str:
        user = portal.users.get(user_id)
        return user.full_name if user else ""

    return render_event(event, attendee, section_of, name_of, portal.settings.lang)


def calendar_state(portal: "Portal") -> list[dict[str, Any]]:
    return [event_state(event) for event in portal.calendar.events.values()]


METHODS = {
    "calendar.section.get": method(section_get, "calendar"),
    "calendar.event.add": method(event_add, "calendar"),
    "calendar.event.update": method(event_update, "calendar"),
    "calendar.event.delete": method(event_delete, "calendar"),
    "calendar.event.get": method(event_get, "calendar"),
    "calendar.event.getbyid": method(event_getbyid, "calendar"),
}
