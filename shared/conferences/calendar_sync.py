"""Changes people make in the Bitrix24 calendar flow back: a deleted event cancels its conference, a moved
event moves it. OnCalendarEntryDelete / OnCalendarEntryUpdate (bound at install) are hints that something
changed; what changed is read from the portal with the owner's own pair. Events can be lost (Bitrix24
never sends one twice), so a beat job also reads linked events back now and then (`reconcile`).

The portal echoes the app's own writes: OnCalendarEntryUpdate / Delete fire for changes made "manually or
via calendar.event.update/delete" (b24restdocs api-reference/calendar/calendar-event/events/index.md),
late, through a queue (api-reference/events/index.md, "Features of Operation"). An echo must never undo a
newer edit nor tell invitees of a change nobody made. What the app last wrote is known exactly when the
conference's calendar step is done: the portal then holds the conference's own time and name, and a read
that shows something else was changed by someone after that write. While a write of ours is due, under
way or failed, the portal may still show an older write of ours, so a read then proves nothing and is
let go: our write brings the calendar to the newest edit (the app's edit wins a tie), and its own echo
brings a later read. A read during which our write landed is let go too (the step's attempt count moved).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import cast

from sqlalchemy import select, update

from shared import occurrences
from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.errors import OutsideServiceError
from shared.conferences.versions import new_version
from shared.db import Database
from shared.models import Conference, Step, StepState, utcnow
from shared.pipeline import bitrix_text
from shared.pipeline.batch import run_batches
from shared.pipeline.steps import calendar_event

log = logging.getLogger(__name__)
# The reconciliation reads up to this many linked events a run (beat: every 5 minutes), the longest unread
# first, each owner's in one batch request with their own pair (one unit of the portal's rate limit for up
# to 50 reads, DESIGN §4 rule 7), and of this many owners at most: ten requests in five minutes, against a
# budget of two a second that people's work needs.
RECONCILE_BATCH = 50
RECONCILE_OWNERS = 10
WriteMark = tuple[int, int]  # (conference version, calendar step attempts) of a write known to have landed


def _linked(session, portal: str, event_id: int) -> list[Conference]:
    return list(
        session.scalars(
            select(Conference).where(
                Conference.portal == portal,
                Conference.calendar_event_id == event_id,
                Conference.cancel_requested.is_(False),
            )
        )
    )


def conferences_of_event(db: Database, portal: str, event_id: int) -> list[int]:
    with db.read() as session:
        return [c.id for c in _linked(session, portal, event_id)]


def _moment(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if str(value or "").isdigit() else None


def is_gone(event) -> bool:
    """calendar.event.getbyid answers "the fields of the event entity or null" (b24restdocs
    api-reference/calendar/calendar-event-get-by-id.md); a record marked DELETED=Y is gone as well."""
    return not isinstance(event, dict) or not event or str(event.get("DELETED") or "N").upper() == "Y"


def write_mark(conference: Conference) -> WriteMark | None:
    """Names the app's last write when the calendar step is done for the current version (an edit reopens
    it, and a step that finishes for an older version goes back to pending): the portal then holds what
    the conference says. None while a write is due, under way or failed."""
    step = next((s for s in conference.steps if s.name == calendar_event.NAME), None)
    if step is None or step.state != StepState.DONE.value:
        return None
    return conference.version, step.attempts


def follow_event(
    db: Database, bitrix_for: Callable[[Conference], Bitrix24Client], conference_id: int
) -> bool:
    """Reads the conference's event from the portal and follows what the portal says, never what an event
    posted to the app claims (anyone can post one: DESIGN §5). Gone: the conference is cancelled the same
    way as from the app, minus deleting the event again. Moved or renamed since our last write: the
    conference follows. Answers whether the conference changed (then its steps run again: invitees hear of it).
    """
    with db.read() as session:
        conference = session.get(Conference, conference_id)
        if conference is None or conference.calendar_event_id is None or conference.cancel_requested:
            return False
        event_id, mark = conference.calendar_event_id, write_mark(conference)
    event = bitrix_for(conference).result("calendar.event.getbyid", {"id": event_id})
    return follow_read(db, conference_id, event_id, event, mark)


def follow_read(db: Database, conference_id: int, event_id: int, event, mark: WriteMark | None) -> bool:
    """Follows what calendar.event.getbyid answered for `event_id`, read after the write named by `mark`."""
    if is_gone(event):  # the app deletes only what it cancels: a deletion is never an echo of a write of ours
        return _cancel_for_deleted_event(db, conference_id, event_id)
    start, end = _moment(event.get("DATE_FROM_TS_UTC")), _moment(event.get("DATE_TO_TS_UTC"))
    if start is None or end is None or end <= start:
        return False
    duration = max(1, min(24 * 60, round((end - start) / timedelta(minutes=1))))
    shown_name = str(event.get("NAME") or "").strip()[:255] or None
    with db.write() as session:
        conference = session.get(Conference, conference_id, with_for_update=True)
        if conference is None or conference.cancel_requested or conference.calendar_event_id != event_id:
            return False
        # The name as the app wrote it, neutralised (steps/calendar_event.py), is the conference's name.
        name = conference.name if shown_name in (None, bitrix_text.bb_text(conference.name)) else shown_name
        if _another_occurrence(conference, start, duration) and conference.start_at is not None:
            start = conference.start_at  # the series as the app wrote it, read at one of its occurrences
        if (conference.start_at, conference.duration_minutes, conference.name) == (start, duration, name):
            return False
        if mark is None or write_mark(conference) != mark:
            # A failed write (no access to the calendar, say) counts too: the portal then shows an older version,
            # and following it would undo the edit the app could not write. A deletion is followed even so.
            log.info(
                "conference %s: its calendar event %s shows another time or name, read while a write of "
                "ours was due, under way or failed; not followed (the write brings the calendar to the "
                "conference)",
                conference_id,
                event_id,
            )
            return False
        conference.start_at, conference.duration_minutes, conference.name = start, duration, name
        new_version(conference)
    log.info(
        "conference %s follows its calendar event: %s, %d min", conference_id, start.isoformat(), duration
    )
    return True


def _another_occurrence(conference: Conference, start: datetime, duration: int) -> bool:
    """Whether a series' event read back shows one of its later occurrences. calendar-event-get-by-id.md's
    example answers a series' DATE_FROM with its RRULE, but no page says whether that is the first occurrence
    or the one nearest now (UNVERIFIED): a later occurrence at the series' own length is the same series,
    never a move. The rule itself is not read back: a rule changed in the portal is not followed."""
    if not conference.recurrence or start == conference.start_at or duration != conference.duration_minutes:
        return False
    later = islice(occurrences.starts(conference), 1000)  # more than a counted series has (schemas); bounded
    return any(occurrence == start for occurrence in later)


def _cancel_for_deleted_event(db: Database, conference_id: int, event_id: int) -> bool:
    with db.write() as session:
        conference = session.get(Conference, conference_id, with_for_update=True)
        if conference is None or conference.cancel_requested or conference.calendar_event_id != event_id:
            return False
        conference.calendar_event_id = None
        conference.cancel_requested = True
        new_version(conference)
    log.info(
        "conference %s cancelled: the portal says its calendar event %s is gone", conference_id, event_id
    )
    return True


# --- reconciliation -------------------------------------------------------------------------------


def _due_for_reading(
    db: Database, limit: int, owners: int
) -> dict[tuple[str, int], list[tuple[int, int, WriteMark | None]]]:
    """Upcoming conferences whose calendar event the app last wrote, the longest unread first, of at most
    `owners` owners (one request each), {(portal, owner): [(id, event id, mark)]}; stamped read at once,
    so that the next run reads others."""
    now = utcnow()
    with db.write() as session:
        conferences = session.scalars(
            select(Conference)
            .join(Step, Step.conference_id == Conference.id)
            .where(
                Conference.calendar_event_id.is_not(None),
                Conference.cancel_requested.is_(False),
                Conference.start_at > now,
                Step.name == calendar_event.NAME,
                Step.state == StepState.DONE.value,
            )
            .order_by(Conference.calendar_checked_at.asc().nulls_first(), Conference.id)
            .limit(limit)
        )
        due: dict[tuple[str, int], list[tuple[int, int, WriteMark | None]]] = defaultdict(list)
        for c in conferences:
            if (c.portal, c.owner_id) in due or len(due) < owners:
                # The query keeps linked conferences only: calendar_event_id is set.
                due[(c.portal, c.owner_id)].append((c.id, cast(int, c.calendar_event_id), write_mark(c)))
        ids = [conference_id for linked in due.values() for conference_id, _, _ in linked]
        if ids:
            session.execute(
                update(Conference)
                .where(Conference.id.in_(ids))
                .values(calendar_checked_at=now, updated_at=Conference.updated_at)
            )
    return due


def reconcile(
    db: Database,
    bitrix_for: Callable[[str, int], Bitrix24Client],
    limit: int = RECONCILE_BATCH,
    owners: int = RECONCILE_OWNERS,
) -> list[int]:
    """Reads linked calendar events back and follows what an event lost on the way would have told
    (moved, renamed, deleted). `bitrix_for(portal, owner_id)` is the owner's own client. Answers the
    conferences that changed. Stops at the first transient failure: the portal's budget is for people."""
    changed: list[int] = []
    for (portal, owner_id), linked in _due_for_reading(db, limit, owners).items():
        try:
            bitrix = bitrix_for(portal, owner_id)
            commands = {f"event_{cid}": ("calendar.event.getbyid", {"id": eid}) for cid, eid, _ in linked}
            results, errors = run_batches(bitrix, commands)
        except (
            OutsideServiceError
        ) as error:  # no pair of the owner's: their events wait for their next launch
            errors, results = {"all": error}, {}
        if any(e.transient for e in errors.values()):
            log.info(
                "calendar reconciliation paused at %s's user %s: %s",
                portal,
                owner_id,
                next(iter(errors.values())),
            )
            break
        for conference_id, event_id, mark in linked:
            key = f"event_{conference_id}"
            if key in results and follow_read(db, conference_id, event_id, results[key], mark):
                changed.append(conference_id)
    return changed
