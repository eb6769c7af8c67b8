"""What a calendar event read back from the portal changes (issue 13, B3), against a real database.

The portal echoes the app's own writes: OnCalendarEntryUpdate / Delete fire for changes made "manually or
via calendar.event.update/delete" (b24restdocs api-reference/calendar/calendar-event/events/index.md), late,
through a queue (api-reference/events/index.md, "Features of Operation"). getbyid's fields: NAME,
DATE_FROM_TS_UTC, DATE_TO_TS_UTC (api-reference/calendar/calendar-event/calendar-event-get-by-id.md).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.models import Conference, StepState
from shared.conferences.calendar_sync import follow_read, write_mark

from tests.unit.pipeline.test_state_transitions import db, new_conference  # noqa: F401  (db is a fixture)

EVENT_ID = 42
START = datetime(2027, 2, 1, 7, 0, tzinfo=timezone.utc)


def provisioned(db) -> int:  # noqa: F811
    """A conference whose steps are all done: its calendar event holds what it says."""
    cid = new_conference(db, start_at=START.isoformat(), duration_minutes=60, invitees=[3], invite_users=True)
    with db.write() as session:
        conference = session.get(Conference, cid)
        conference.calendar_event_id = EVENT_ID
        for step in conference.steps:
            step.state, step.attempts = StepState.DONE.value, 1
    return cid


def shown(start: datetime = START, minutes: int = 60, name: str = "Sync") -> dict:
    return {"ID": str(EVENT_ID), "NAME": name, "DATE_FROM_TS_UTC": str(int(start.timestamp())),
            "DATE_TO_TS_UTC": str(int((start + timedelta(minutes=minutes)).timestamp()))}


def mark_of(db, cid: int):  # noqa: F811
    with db.read() as session:
        return write_mark(session.get(Conference, cid))


def conference(db, cid: int) -> Conference:  # noqa: F811
    with db.read() as session:
        return session.get(Conference, cid)


def calendar_step(db, cid: int, state: StepState, attempts: int) -> None:  # noqa: F811
    with db.write() as session:
        step = session.get(Conference, cid).step("calendar_event")
        step.state, step.attempts = state.value, attempts


def test_a_change_made_after_our_last_write_is_followed(db):  # noqa: F811
    cid = provisioned(db)
    assert follow_read(db, cid, EVENT_ID, shown(START + timedelta(days=1), 30, "Moved"), mark_of(db, cid)) is True
    after = conference(db, cid)
    assert (after.start_at, after.duration_minutes, after.name, after.version) == (START + timedelta(days=1), 30, "Moved", 2)


def test_the_echo_of_our_own_write_changes_nothing(db):  # noqa: F811
    cid = provisioned(db)
    assert follow_read(db, cid, EVENT_ID, shown(), mark_of(db, cid)) is False
    assert conference(db, cid).version == 1


def test_a_read_while_our_write_is_due_is_let_go_but_a_deletion_is_not(db):  # noqa: F811
    """The portal may still show an older write of ours: following it would undo the newer edit."""
    cid = provisioned(db)
    calendar_step(db, cid, StepState.PENDING, 1)  # an edit is on its way to the calendar
    assert mark_of(db, cid) is None
    assert follow_read(db, cid, EVENT_ID, shown(name="An older write of ours"), None) is False
    assert conference(db, cid).version == 1
    assert follow_read(db, cid, EVENT_ID, None, None) is True  # the app deletes only what it cancels
    assert conference(db, cid).cancel_requested is True


def test_a_read_during_which_our_write_landed_is_let_go(db):  # noqa: F811
    cid = provisioned(db)
    before = mark_of(db, cid)
    calendar_step(db, cid, StepState.DONE, 2)  # a write of ours finished after the read was sent
    assert follow_read(db, cid, EVENT_ID, shown(name="Read before that write"), before) is False
    assert conference(db, cid).name == "Sync"
