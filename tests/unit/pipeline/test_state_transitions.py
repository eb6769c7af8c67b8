"""The step state machine against a real database (SQLite here; PostgreSQL with TEST_DATABASE_URL)."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import text

from shared.clients.errors import PermanentError, TransientError
from shared.db import Database
from shared.models import Base, utcnow
from shared.schemas import ConferenceIn
from shared.conferences import service as conferences
from shared.conferences.service import Caller
from shared.pipeline.runner import Runner, next_due
from shared.pipeline.step import Lane, OutsideClients
from shared.pipeline.state import MAX_ATTEMPTS, claim, fail, succeed

STALE = timedelta(seconds=60)
ANNA = Caller(portal="portal", user_id=2, name="Anna Smirnova")


@pytest.fixture
def db(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL", "").replace("postgresql://", "postgresql+psycopg://", 1) \
        or f"sqlite:///{tmp_path / 'steps.db'}"
    database = Database(url)
    Base.metadata.drop_all(database.engine)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def new_conference(db, **body) -> int:
    conference, _ = conferences.create(db, ANNA, ConferenceIn.model_validate({"name": "Sync", **body}), None)
    return conference.id


def read(db, conference_id):
    with db.read() as session:
        return conferences.get(session, ANNA, conference_id)


def test_a_claimed_step_cannot_be_claimed_again_until_it_is_stale(db):
    cid = new_conference(db)
    first = claim(db, cid, "create_room", STALE)
    assert first is not None and first.recovering is False
    assert claim(db, cid, "create_room", STALE) is None
    taken_over = claim(db, cid, "create_room", timedelta(0))
    assert taken_over is not None and taken_over.recovering is True
    assert succeed(db, first) is False  # the first claim lost the step; its answer is not recorded
    assert succeed(db, taken_over) is True
    assert read(db, cid).status == "ready"


def test_transient_failures_wait_and_then_fail_for_good(db):
    cid = new_conference(db)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with db.write() as session:
            session.execute(text("UPDATE conference_steps SET next_attempt_at = NULL"))
        claimed = claim(db, cid, "create_room", STALE)
        assert claimed.attempt == attempt
        due = fail(db, claimed, TransientError("Telemost", "Telemost is busy (503); the app will try again"))
        assert (due is None) == (attempt == MAX_ATTEMPTS)
    step = read(db, cid).step("create_room")
    assert step.state == "failed" and f"after {MAX_ATTEMPTS} attempts" in step.error
    assert read(db, cid).status == "failed"


def test_a_manual_retry_keeps_the_count_and_still_looks_for_earlier_work(db):
    cid = new_conference(db)
    fail(db, claim(db, cid, "create_room", STALE), PermanentError("Telemost", "refused"))
    conferences.retry(db, ANNA, cid)

    again = claim(db, cid, "create_room", STALE)
    assert again.attempt == 2 and again.recovering is True
    due = fail(db, again, TransientError("Telemost", "busy; try again"))
    assert due is not None  # a fresh allowance of automatic attempts after the retry


def test_a_step_whose_workers_keep_dying_fails_instead_of_running_forever(db):
    cid = new_conference(db)
    for _ in range(MAX_ATTEMPTS):
        assert claim(db, cid, "create_room", timedelta(0)) is not None
    assert claim(db, cid, "create_room", timedelta(0)) is None
    step = read(db, cid).step("create_room")
    assert step.state == "failed" and "worker stopped" in step.error


class BrokenTelemost:
    """Stands for a bug in our own code on the step's path (not for Telemost, which the emulator plays)."""

    def create_room(self, **_):
        raise KeyError("bug")


def test_an_unexpected_error_ends_the_step_with_a_message_not_a_stuck_running_state(db):
    cid = new_conference(db)
    Runner(db, OutsideClients(telemost_for=lambda _: BrokenTelemost(), bitrix_for=lambda _: None), STALE).run(cid)

    step = read(db, cid).step("create_room")
    assert step.state == "failed" and "unexpected error (KeyError)" in step.error


def test_steps_waiting_for_the_room_are_not_due_while_it_backs_off(db):
    from shared.housekeeping.sweeper import due_conference_ids
    cid = new_conference(db, start_at=(utcnow() + timedelta(days=1)).isoformat())
    fail(db, claim(db, cid, "create_room", STALE), TransientError("Telemost", "busy; again", retry_after=300))
    with db.write() as session:
        session.execute(text("UPDATE conferences SET enqueued_at = NULL"))

    assert due_conference_ids(db, resend_after_seconds=30, stale_after_seconds=60) == []


def test_each_queue_sees_only_its_own_steps_as_due_and_a_dead_workers_step_as_due_now(db):
    cid = new_conference(db, create_calendar_event=True, start_at=(utcnow() + timedelta(days=1)).isoformat(),
                         invite_users=True, invitees=[3])
    with db.read() as session:
        conference = conferences.get(session, ANNA, cid)
    assert next_due(conference, Lane.TELEMOST) is not None
    assert next_due(conference, Lane.BITRIX24) is None  # they wait for the room

    room = claim(db, cid, "create_room", STALE)
    succeed(db, room)
    calendar = claim(db, cid, "calendar_event", STALE)
    claim(db, cid, "notify_invitees", STALE)
    with db.read() as session:
        conference = conferences.get(session, ANNA, cid)
    assert next_due(conference, Lane.TELEMOST) is None
    assert next_due(conference, Lane.BITRIX24, STALE) is None  # running, and its worker may be alive
    assert next_due(conference, Lane.BITRIX24, timedelta(0)) is not None  # running too long: taken over
    assert calendar is not None
