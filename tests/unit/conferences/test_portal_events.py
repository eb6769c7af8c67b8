"""Stored Bitrix24 events (issue 13, B6), against a real database: the portal sends each event once ("No
retries", b24restdocs api-reference/events/index.md), so a row lives until a worker has processed it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from shared.models import InboundEvent, utcnow
from shared.conferences import portal_events as events

from tests.unit.pipeline.test_state_transitions import db  # noqa: F401  (a fixture)

SUBJECT = events.calendar_subject(42)


def test_a_flood_of_one_hint_is_one_row_until_a_worker_takes_it(db):  # noqa: F811
    first = events.store(db, "portal", SUBJECT, "ONCALENDARENTRYUPDATE", 100)
    assert first is not None
    assert [events.store(db, "portal", SUBJECT, "ONCALENDARENTRYDELETE", 101 + i) for i in range(5)] == [None] * 5
    assert events.store(db, "other-portal", SUBJECT, "ONCALENDARENTRYUPDATE", 100) is not None
    taken = events.take(db, first)
    assert (taken.event, taken.ts, taken.attempts) == ("ONCALENDARENTRYDELETE", 105, 1)
    assert events.take(db, first) is None  # another worker has it
    later = events.store(db, "portal", SUBJECT, "ONCALENDARENTRYUPDATE", 106)  # after the read: read again
    assert later is not None and later != first
    assert events.calendar_event_id(taken.subject) == 42 and events.calendar_event_id(events.UNINSTALL) is None


def test_a_row_whose_task_never_came_or_whose_worker_died_is_sent_again(db):  # noqa: F811
    waiting = events.store(db, "portal", SUBJECT, "ONCALENDARENTRYUPDATE", 100)
    dead = events.store(db, "portal", events.UNINSTALL, "ONAPPUNINSTALL", 100)
    events.take(db, dead)
    assert events.due_ids(db, 30) == []  # both have their task on the way
    with db.write() as session:
        session.execute(update(InboundEvent).values(sent_at=utcnow() - timedelta(minutes=1)))
        session.execute(update(InboundEvent).where(InboundEvent.id == dead)
                        .values(taken_at=utcnow() - events.TAKEN_STALE_AFTER))
    assert events.due_ids(db, 30) == [waiting, dead]
    assert events.take(db, dead) is not None  # a stale taking is taken over
    events.done(db, dead)
    assert events.take(db, dead) is None


def test_a_released_row_waits_again_unless_a_newer_one_does_or_it_was_tried_too_often(db):  # noqa: F811
    first = events.store(db, "portal", SUBJECT, "ONCALENDARENTRYUPDATE", 100)
    assert events.release(db, events.take(db, first)) is True
    taken = events.take(db, first)
    newer = events.store(db, "portal", SUBJECT, "ONCALENDARENTRYUPDATE", 101)
    assert events.release(db, taken) is False  # the newer row does the same check
    assert events.take(db, first) is None and events.take(db, newer) is not None
    last = events.store(db, "portal", events.UNINSTALL, "ONAPPUNINSTALL", 100)
    for _ in range(events.MAX_ATTEMPTS - 1):
        events.release(db, events.take(db, last))
    assert events.release(db, events.take(db, last)) is False  # dropped, with a warning
    assert events.take(db, last) is None


def test_a_portal_with_too_many_hints_waiting_gets_no_more_rows(db, monkeypatch):  # noqa: F811
    """The application token that events carry is public (DESIGN §5): a portal's waiting rows are capped, and
    what is over the cap is dropped (the beat reconciliation of calendar events catches up on it)."""
    monkeypatch.setattr(events, "MAX_WAITING_PER_PORTAL", 3)
    rows = [events.store(db, "portal", events.calendar_subject(i), "ONCALENDARENTRYUPDATE", 100) for i in range(5)]
    assert rows[3:] == [None, None] and None not in rows[:3]
    assert events.store(db, "other-portal", SUBJECT, "ONCALENDARENTRYUPDATE", 100) is not None
    events.take(db, rows[0])  # a taken row no longer waits: room for one more
    assert events.store(db, "portal", events.calendar_subject(9), "ONCALENDARENTRYUPDATE", 100) is not None
