"""Reading calendar.event.add / update parameters onto an event, with the calendar's error texts.

Calendar errors are HTTP 400 with an empty code (the docs' tables and the core's CCalendarRestService).
Where the docs leave a rule open (bad dates, zones, reminders, attendees), the emulator refuses with
'Invalid value for the parameter "..."' rather than guess.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from .calendar_dates import DateValueError, Moment, parse_moment, parse_timestamp, start_of_day, zone
from .calendar_events import Attendee, CalendarEvent
from .errors import RestError
from .params import as_int, as_list, is_y, php_bool

if TYPE_CHECKING:
    from .portal import Portal


ACCESSIBILITY = ("busy", "absent", "quest", "free")
IMPORTANCE = ("high", "normal", "low")
REMIND_UNITS = ("min", "hour", "day")
# calendar-event-add.md / -update.md, "rrule Parameter": FREQ, COUNT, INTERVAL, BYDAY (SU..SA), UNTIL (a date).
RRULE_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
RRULE_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
MEETING_FLAGS = ("notify", "reinvite", "allow_invite", "hide_guests")


def calendar_error(description: str) -> RestError:
    return RestError(400, "", description)


def missing(param: str, method_name: str) -> RestError:
    return calendar_error(f'The required parameter "{param}" for the method "{method_name}" is not set')


def invalid(param: str) -> RestError:
    return calendar_error(f'Invalid value for the parameter "{param}"')


ACCESS_DENIED = "Access denied"
SECTION_ERROR = "You specified an invalid calendar section ID or the user does not have access to it"


def php_empty(value: Any) -> bool:
    return value in (None, "", "0", 0, False) or value == [] or value == {}


def require(params: dict[str, Any], names: tuple[str, ...], method_name: str) -> None:
    """ownerId may be 0 or "" (the company calendar) as long as it is present."""
    for name in names:
        if php_empty(params.get(name)) and not (name == "ownerId" and name in params):
            raise missing(name, method_name)


def read_moment(params: dict[str, Any], name: str, zone_name: str) -> Moment | None:
    try:
        if not php_empty(params.get(name)):
            return parse_moment(params[name], zone(zone_name))
        if not php_empty(params.get(f"{name}_ts")):
            return parse_timestamp(params[f"{name}_ts"])
    except DateValueError:
        raise invalid(name) from None
    return None


def _zone_name(params: dict[str, Any], name: str, default: str) -> str:
    value = params.get(name)
    if php_empty(value):
        return default
    try:
        zone(value)
    except DateValueError:
        raise invalid(name) from None
    return str(value).strip()


def apply_times(event: CalendarEvent, params: dict[str, Any]) -> None:
    """from/to (or *_ts), timezone_from/timezone_to and skip_time onto the event."""
    event.tz_from = _zone_name(params, "timezone_from", event.tz_from)
    event.tz_to = _zone_name(params, "timezone_to", event.tz_from if "timezone_from" in params else event.tz_to)
    if "skip_time" in params:
        event.skip_time = is_y(params["skip_time"])
    start, end = read_moment(params, "from", event.tz_from), read_moment(params, "to", event.tz_to)
    if start:
        event.start = start.instant
    if end:
        event.end = end.instant
    if event.skip_time:
        event.start = start_of_day(Moment(event.start, True), zone(event.tz_from))
        event.end = start_of_day(Moment(event.end, True), zone(event.tz_to))
    if event.end < event.start:
        raise invalid("to")


def apply_details(event: CalendarEvent, params: dict[str, Any]) -> None:
    for param, attribute in (("name", "name"), ("description", "description")):
        if param in params:
            if not isinstance(params[param], str):
                raise invalid(param)
            setattr(event, attribute, params[param].strip())
    if "location" in params:
        event.location = str(params["location"] or "")
    for param, allowed in (("accessibility", ACCESSIBILITY), ("importance", IMPORTANCE)):
        if param in params:
            if params[param] not in allowed:
                raise invalid(param)
            setattr(event, param, params[param])
    if "private_event" in params:
        event.private_event = is_y(params["private_event"])
    for param in ("color", "text_color"):
        if param in params:
            setattr(event, param, str(params[param] or ""))
    if "rrule" in params:
        event.rrule = _rrule(params["rrule"])
    if "remind" in params:
        event.remind = _reminders(params["remind"])
    if "crm_fields" in params:
        event.crm_fields = _crm_links(params["crm_fields"])


def _crm_links(raw: Any) -> list[str]:
    """calendar-event-add.md / -update.md: an array of prefixed ids (CO_, C_, L_, D_). Anything else is
    refused as the pages' tables say; unknown prefixes or records are kept as given (the pages do not say)."""
    if not isinstance(raw, (list, dict)):
        raise calendar_error("The list of event links to CRM must be an array")
    return [str(item).strip() for item in as_list(raw) if str(item).strip()]


def _rrule(raw: Any) -> dict[str, Any] | None:
    """The rrule object as the pages type it: FREQ one of theirs, INTERVAL and COUNT integers, BYDAY days of
    the week, UNTIL a `date` (YYYY-MM-DD, data-types.md). Anything else is refused as a bad value (the pages
    name no error for it); an empty value keeps no rule (UNVERIFIED: the pages do not say how one is removed)."""
    if php_empty(raw):
        return None
    if not isinstance(raw, dict):
        raise invalid("rrule")
    freq = str(raw.get("FREQ") or "").upper()
    interval = as_int(raw.get("INTERVAL", 1))
    days = [str(day).upper() for day in as_list(raw.get("BYDAY"))]
    if freq not in RRULE_FREQS or interval is None or interval < 1 or any(d not in RRULE_DAYS for d in days):
        raise invalid("rrule")
    rule: dict[str, Any] = {"FREQ": freq, "INTERVAL": interval}
    if days:
        rule["BYDAY"] = list(dict.fromkeys(days))
    if not php_empty(raw.get("COUNT")):
        count = as_int(raw["COUNT"])
        if count is None or count < 1:
            raise invalid("rrule")
        rule["COUNT"] = count
    if not php_empty(raw.get("UNTIL")):
        until = str(raw["UNTIL"]).strip()
        try:
            rule["UNTIL"] = date.fromisoformat(until).isoformat() if len(until) == 10 else None
        except ValueError:
            rule["UNTIL"] = None
        if rule["UNTIL"] is None:
            raise invalid("rrule")
    return rule


def _reminders(raw: Any) -> list[dict[str, Any]]:
    reminders = []
    for item in as_list(raw):
        count = as_int(item.get("count")) if isinstance(item, dict) else None
        if count is None or count < 0 or item.get("type") not in REMIND_UNITS:
            raise invalid("remind")
        reminders.append({"type": item["type"], "count": count})
    return reminders


def apply_meeting(portal: "Portal", event: CalendarEvent, params: dict[str, Any]) -> None:
    """is_meeting=Y: `attendees` is the whole list (absent = the host alone); N: no attendees.

    The core compares is_meeting with === "Y" and rebuilds the meeting flags from `meeting` on every such
    write with PHP's (bool): a flag left out is false, and the string "N" is true (see php_bool)."""
    event.is_meeting = is_y(params["is_meeting"])
    if not event.is_meeting:
        event.attendees = []
        return
    invited: list[int] = []
    for raw in as_list(params.get("attendees")):
        user = portal.users.get(raw)
        if user is None or not user.active:
            raise invalid("attendees")
        if user.id not in invited and user.id != event.host_id:
            invited.append(user.id)
    event.attendees = [_attendee(portal, event, user_id) for user_id in [event.host_id, *invited]]
    options = params.get("meeting") if isinstance(params.get("meeting"), dict) else {}
    event.meeting = {flag: php_bool(options.get(flag)) for flag in MEETING_FLAGS}


def _attendee(portal: "Portal", event: CalendarEvent, user_id: int) -> Attendee:
    known = event.attendee(user_id)
    if known:
        return known
    entry_id = event.id if user_id == event.owner_id else portal.calendar.next_id()
    return Attendee(user_id, entry_id, "H" if user_id == event.host_id else "Q")
