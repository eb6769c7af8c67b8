"""A series' calendar event read back is not mistaken for a moved one (shared/conferences/calendar_sync.py).

calendar-event-get-by-id.md's example answers a recurring event with its RRULE and a DATE_FROM; no page says
whether DATE_FROM is the series' first occurrence or another one (UNVERIFIED), so both must change nothing.
"""
from __future__ import annotations

from datetime import timedelta

from shared.conferences.calendar_sync import follow_read
from shared.models import Conference, StepState

from tests.unit.conferences.test_calendar_sync import EVENT_ID, START, conference, mark_of, shown
from tests.unit.pipeline.test_state_transitions import db, new_conference  # noqa: F401  (db is a fixture)


def provisioned_series(db) -> int:  # noqa: F811
    cid = new_conference(db, start_at=START.isoformat(), duration_minutes=60, invitees=[3], invite_users=True,
                         recurrence={"freq": "WEEKLY", "count": 5})
    with db.write() as session:
        made = session.get(Conference, cid)
        made.calendar_event_id = EVENT_ID
        for step in made.steps:
            step.state, step.attempts = StepState.DONE.value, 1
    return cid


def test_a_series_read_at_its_first_or_a_later_occurrence_changes_nothing(db):  # noqa: F811
    cid = provisioned_series(db)
    for start in (START, START + timedelta(weeks=2)):
        assert follow_read(db, cid, EVENT_ID, shown(start), mark_of(db, cid)) is False
    assert conference(db, cid).version == 1


def test_a_series_moved_off_its_occurrences_is_followed(db):  # noqa: F811
    cid = provisioned_series(db)
    moved = START + timedelta(days=1)
    assert follow_read(db, cid, EVENT_ID, shown(moved), mark_of(db, cid)) is True
    assert conference(db, cid).start_at == moved


def test_a_later_occurrence_at_another_length_is_a_change(db):  # noqa: F811
    cid = provisioned_series(db)
    assert follow_read(db, cid, EVENT_ID, shown(START + timedelta(weeks=1), 30), mark_of(db, cid)) is True
    after = conference(db, cid)
    assert (after.start_at, after.duration_minutes) == (START + timedelta(weeks=1), 30)
