"""calendar_event: the conference's event in its owner's Bitrix24 calendar, made, kept to the conference,
and deleted by a cancel. Found again by its marker after a lost answer, never made twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.errors import OutsideServiceError, PermanentError
from shared.models import Conference
from shared.pipeline.bitrix_text import bb_text, links, local_times
from shared.pipeline.step import Answers, Apply, BitrixStep, Commands, Outcome, Outside
from shared.pipeline.steps import room
from shared.schemas import CRM_TYPES

NAME = "calendar_event"

log = logging.getLogger(__name__)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # datetime.weekday() order
# What ends a series on an event that repeated: one occurrence, in the shape calendar-event-update.md gives
# rrule. The page says nothing of removing one (no FREQ value for "never", and an rrule left out may keep
# the old one: UNVERIFIED), so the app asks for a series of one, which is the single meeting either way.
NO_REPEAT = {"FREQ": "DAILY", "INTERVAL": 1, "COUNT": 1}
# The core reads these with PHP's (bool), where the string "N" is TRUE (b24restdocs calendar-event-add.md and
# calendar-event-update.md type them boolean; findings B2). 1 and 0 mean the same in both ways the app
# sends them: as JSON numbers, and as "1"/"0" in a batch command's query string. Guests see each other,
# nobody invites others, nobody is asked to confirm again after each edit, the organiser hears who accepts.
MEETING_FLAGS = {"notify": 1, "reinvite": 0, "allow_invite": 0, "hide_guests": 0}


def marker(conference: Conference) -> str:
    """A line in the event's description that says which conference made it (for crash recovery)."""
    return f"Telemost ref: {conference.public_id}"


def wants_event(conference: Conference) -> bool:
    return (
        conference.create_calendar_event
        and not conference.cancel_requested
        and conference.start_at is not None
    )


def calendar_event(conference: Conference) -> dict:
    """calendar.event.add. Without `section` the docs say the method detects one, but the core copy does so
    only with auto_detect_section=Y (b24restdocs calendar-event-add.md; reference/real-platform-findings.md
    B5): sent always, it is right either way. update.md has no such parameter, so calendar_update leaves it out."""
    return {**_event_fields(conference), "auto_detect_section": "Y"}


def _event_fields(conference: Conference) -> dict:
    """The event's name and description are BB code where the portal shows them: the user's text goes in
    neutralised as in notifications (a typed [URL=javascript:…] stays text), and the app's own links come
    first, so that no "Join:" line a user types can stand above the real one."""
    start, end = local_times(conference)
    typed = bb_text(conference.description) if conference.description else None
    parts = ["\n".join(links(conference)), typed, marker(conference)]
    description = "\n\n".join(part for part in parts if part)
    params = {
        "type": "user",
        "ownerId": conference.owner_id,
        "name": bb_text(conference.name),
        "description": description.strip(),
        "from": start,
        "to": end,
        # Local wall-clock time plus the zone: the event keeps its hour across DST changes.
        "timezone_from": conference.timezone,
        "timezone_to": conference.timezone,
        "location": conference.join_url,
        "accessibility": "busy",
    }
    if conference.reminder_minutes:
        # calendar-event-add.md, "remind Parameter": [{type: min | hour | day, count}].
        params["remind"] = [{"type": "min", "count": conference.reminder_minutes}]
    rule = rrule(conference)
    if rule:
        params["rrule"] = rule
    if conference.crm:
        # calendar-event-add.md and -update.md: crm_fields, the CRM records the event is linked to, by their
        # prefixed ids (crm/data-types.md). Unlinking by an empty list is not documented (and an empty list
        # does not survive a batch's query string): a record taken off a meeting stays linked to its event.
        _, prefix = CRM_TYPES[conference.crm["entity_type"]]
        params["crm_fields"] = [f"{prefix}_{conference.crm['entity_id']}"]
    if conference.invitees:
        params.update(
            is_meeting="Y", attendees=[conference.owner_id, *conference.invitees], meeting=dict(MEETING_FLAGS)
        )
    return params


def rrule(conference: Conference) -> dict | None:
    """calendar.event.add's rrule (calendar-event-add.md, "rrule Parameter"): FREQ, INTERVAL, BYDAY as a list
    of SU..SA, COUNT, UNTIL a `date` (YYYY-MM-DD, data-types.md). A weekly series names its days always:
    the page does not say which day a WEEKLY rule without BYDAY falls on, so none is left to the portal."""
    recurrence = conference.recurrence
    if not recurrence or conference.start_at is None:
        return None
    rule: dict = {"FREQ": recurrence["freq"], "INTERVAL": recurrence.get("interval") or 1}
    if recurrence["freq"] == "WEEKLY":
        day = WEEKDAYS[conference.start_at.astimezone(ZoneInfo(conference.timezone)).weekday()]
        rule["BYDAY"] = list(recurrence.get("byday") or [day])
    if recurrence.get("count"):
        rule["COUNT"] = recurrence["count"]
    if recurrence.get("until"):
        rule["UNTIL"] = datetime.fromisoformat(str(recurrence["until"])).date().isoformat()
    return rule


def calendar_update(conference: Conference, event_id: int, host_id: int | None) -> dict:
    params = {**_event_fields(conference), "id": event_id}
    if "rrule" not in params and (conference.applied or {}).get("calendar_series"):
        params["rrule"] = dict(NO_REPEAT)  # it repeated: ends as one meeting
    if "rrule" in params:
        # calendar-event-update.md: recurrence_mode `all`, the whole chain (not only one occurrence of it).
        params["recurrence_mode"] = "all"
    if not conference.invitees:
        # is_meeting=Y with attendees replaces the list; N turns a meeting back into a plain event.
        params.update(is_meeting="N", attendees=[conference.owner_id])
    if host_id:
        params["host"] = host_id  # required when someone other than the organiser edits a meeting
    return params


def find_event(bitrix: Bitrix24Client, conference: Conference) -> int | None:
    """The id of the event this conference made earlier, looked up by its marker around its date."""
    assert conference.start_at is not None
    zone = ZoneInfo(conference.timezone)
    day = conference.start_at.astimezone(zone).date()
    params = {
        "type": "user",
        "ownerId": conference.owner_id,
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=2)).isoformat(),
    }
    for event in bitrix.result("calendar.event.get", params) or []:
        if marker(conference) in str(event.get("DESCRIPTION") or ""):
            return int(event["ID"])
    return None


class CalendarEventStep(BitrixStep):
    name = NAME
    waits_for = room.NAME  # the event carries the room's link

    def wanted(self, conference: Conference) -> bool:
        return conference.create_calendar_event or conference.calendar_event_id is not None

    def recover(self, outside: Outside, conference: Conference) -> int | None:
        """After a lost answer or a crash the event may exist already: found by its marker, it is brought to
        the current version (an edit may have come since) or deleted."""
        if conference.calendar_event_id is not None or conference.start_at is None:
            return None
        return find_event(outside.bitrix, conference)

    def commands(self, outside: Outside, conference: Conference, found: int | None) -> Commands:
        event_id = conference.calendar_event_id
        if event_id is None:
            event_id = found
            if event_id is not None and wants_event(conference):
                return {
                    "event": ("calendar.event.update", calendar_update(conference, event_id, None)),
                    "host": ("calendar.event.getbyid", {"id": event_id}),
                }
        if event_id is None:
            if not wants_event(conference):
                return {}
            # The organiser is whoever the token belongs to: read it back in the same batch, since a
            # later update by anyone else must name them as `host`.
            return {
                "event": ("calendar.event.add", calendar_event(conference)),
                "host": ("calendar.event.getbyid", {"id": "$result[event]"}),
            }
        if wants_event(conference):
            host = (conference.applied or {}).get("calendar_host")
            return {"event": ("calendar.event.update", calendar_update(conference, event_id, host))}
        return {"event": ("calendar.event.delete", {"id": event_id})}

    def record(
        self, outside: Outside, conference: Conference, commands: Commands, answers: Answers
    ) -> Outcome:
        if "event" not in commands:
            return Outcome()  # nothing to do
        method, params = commands["event"]
        if "event" in answers.errors:
            if method == "calendar.event.delete" and _event_is_gone(outside.bitrix, params["id"]):
                return Outcome(apply=_store_event(None, None, False))  # already gone counts as done
            return Outcome(error=calendar_refusal(answers.errors["event"], conference.owner_id))
        read = answers.results.get("host")
        host = read.get("MEETING_HOST") if isinstance(read, dict) else None
        log.info("calendar of conference %s: %s done", conference.id, method)
        series = "rrule" in params and params["rrule"] != NO_REPEAT
        if method == "calendar.event.add":
            return Outcome(apply=_store_event(answers.results.get("event"), host, series))
        if conference.calendar_event_id is None and method == "calendar.event.update":
            return Outcome(apply=_store_event(params["id"], host, series))  # a lost event, found and updated
        if method == "calendar.event.delete":
            return Outcome(apply=_store_event(None, None, False))
        return Outcome(apply=_store_event(conference.calendar_event_id, None, series))


def calendar_refusal(error: OutsideServiceError, owner_id: int) -> OutsideServiceError:
    """The step's message when the portal will not let the app write into the owner's calendar.

    The core lets only a portal administrator and the calendar's owner write into a user calendar, and
    answers "Access denied" with an empty code (b24restdocs calendar-event-add.md, error table; the
    organiser is always the caller, "Event Organizer"). With the owner's own authorisation that does not
    happen; through a webhook made by an employee who is not an administrator it always does. The
    event is then not made at all rather than made in the webhook user's own calendar with the owner
    invited: there the webhook user would organise it, the owner could neither move nor rename it
    (calendar-event-update.md: only the organiser, or someone naming them as `host`), the app's recovery
    and the portal's change events look for it in the owner's calendar, and one account's calendar would
    fill with everyone's meetings. The message says who can fix it and how."""
    if (
        error.transient or error.code or not error.message.rstrip(".").endswith("Access denied")
    ):  # update.md ends "."
        return error
    return PermanentError(
        error.service,
        "Bitrix24 did not let the app write into the calendar of user "
        f"{owner_id} (Access denied): only its owner, a portal administrator or "
        "someone the owner gave edit access to that calendar may. If the app "
        "works through a webhook (BITRIX24_WEBHOOK_URL), an administrator must "
        "create it under their own account; then retry this step.",
        status=error.status,
    )


def _event_is_gone(bitrix: Bitrix24Client, event_id: int | None) -> bool:
    try:
        return event_id is None or not bitrix.result("calendar.event.getbyid", {"id": event_id})
    except OutsideServiceError:
        return False


def _store_event(event_id: object, host: object, series: bool) -> Apply:
    """The event's id and organiser, and whether it repeats (a later update that ends the series must say so)."""

    def apply(conference: Conference) -> None:
        conference.calendar_event_id = int(str(event_id)) if str(event_id).isdigit() else None
        applied = {**(conference.applied or {})}
        if host is not None and str(host).isdigit():
            applied["calendar_host"] = int(str(host))
        if series:
            applied["calendar_series"] = True
        else:
            applied.pop("calendar_series", None)
        conference.applied = applied

    return apply


STEP = CalendarEventStep()
