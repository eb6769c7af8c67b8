"""Beat's reminders of each occurrence (shared/housekeeping/reminders.py), against a real database.

remind_at is the next reminder due, reminded_at the start last reminded of (shared/models.py); a claim is an
UPDATE on the remind_at read, which moves the conference on to its next occurrence.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from shared.clients.bitrix24 import BatchResult
from shared.clients.errors import TransientError
from shared.conferences import service as conferences
from shared.housekeeping import reminders
from shared.models import Conference
from shared.schemas import ConferenceIn

from tests.unit.pipeline.test_state_transitions import ANNA, db  # noqa: F401  (db is a fixture)

START = datetime(2031, 3, 3, 7, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Moscow
DAILY = {"freq": "DAILY", "count": 3}


class Portal:
    """Records each batch of notifications; answers as told."""

    def __init__(self, answer: Exception | None = None) -> None:
        self.sent: list[dict] = []
        self.answer = answer
        self.lock = threading.Lock()

    def batch(self, commands, halt: bool = False) -> BatchResult:
        if self.answer:
            raise self.answer
        with self.lock:
            self.sent.append(dict(commands))
        return BatchResult(results={key: 1 for key in commands})

    def messages(self) -> list[str]:
        return [params["MESSAGE"] for batch in self.sent for _, params in batch.values()]


def body(**fields) -> ConferenceIn:
    return ConferenceIn.model_validate({
        "name": "Stand-up", "start_at": START.isoformat(), "timezone": "Europe/Moscow", "invitees": [3, 4],
        "invite_users": True, "create_calendar_event": False, "reminder_minutes": 15, **fields})


def series(db, **fields) -> int:  # noqa: F811
    conference, _ = conferences.create(db, ANNA, body(recurrence=DAILY, **fields), None)
    with db.write() as session:
        session.get(Conference, conference.id).join_url = "https://telemost.example/j/1"
    return conference.id


def read(db, cid: int) -> Conference:  # noqa: F811
    with db.read() as session:
        return session.get(Conference, cid)


def run_at(monkeypatch, db, portal: Portal, when: datetime) -> list[int]:  # noqa: F811
    monkeypatch.setattr(reminders, "utcnow", lambda: when)
    return reminders.send_reminders(db, lambda _: portal, "app")


def test_a_daily_series_reminds_once_per_occurrence(db, monkeypatch):  # noqa: F811
    cid = series(db)
    assert read(db, cid).remind_at == START - timedelta(minutes=15)
    portal = Portal()
    assert run_at(monkeypatch, db, portal, START - timedelta(minutes=16)) == []  # not due yet
    for day in range(3):
        due = START + timedelta(days=day) - timedelta(minutes=14)
        assert run_at(monkeypatch, db, portal, due) == [cid]
        assert run_at(monkeypatch, db, portal, due + timedelta(minutes=1)) == []  # once
        assert read(db, cid).reminded_at == START + timedelta(days=day)
    assert len(portal.sent) == 3 and read(db, cid).remind_at is None  # the series is over
    assert "starts on 2031-03-04 10:00 (Europe/Moscow) (meeting 2 of 3)" in portal.messages()[2]


def test_two_runs_at_once_send_once(db, monkeypatch):  # noqa: F811
    cid = series(db)
    portal = Portal()
    monkeypatch.setattr(reminders, "utcnow", lambda: START - timedelta(minutes=10))
    barrier, answers = threading.Barrier(2), []

    def run() -> None:
        barrier.wait()
        answers.append(reminders.send_reminders(db, lambda _: portal, "app"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [[], [cid]]
    assert len(portal.sent) == 1 and sorted(portal.sent[0]) == ["remind_3", "remind_4"]


def test_a_late_run_skips_to_the_next_occurrence(db, monkeypatch):  # noqa: F811
    """Beat was down over the first start: nothing is sent late, the next occurrence is reminded of."""
    cid = series(db)
    portal = Portal()
    assert run_at(monkeypatch, db, portal, START + timedelta(minutes=5)) == []
    after = read(db, cid)
    assert portal.sent == [] and after.remind_at == START + timedelta(days=1, minutes=-15)
    assert run_at(monkeypatch, db, portal, START + timedelta(days=1, minutes=-15)) == [cid]


def test_a_run_days_late_skips_every_missed_occurrence_at_once(db, monkeypatch):  # noqa: F811
    cid = series(db)
    assert run_at(monkeypatch, db, Portal(), START + timedelta(days=1, hours=1)) == []
    assert read(db, cid).remind_at == START + timedelta(days=2, minutes=-15)


def test_an_edit_keeping_the_time_does_not_remind_again(db, monkeypatch):  # noqa: F811
    cid = series(db)
    portal = Portal()
    assert run_at(monkeypatch, db, portal, START - timedelta(minutes=10)) == [cid]
    monkeypatch.setattr(conferences, "utcnow", lambda: START - timedelta(minutes=5))
    conferences.edit(db, ANNA, cid, body(recurrence=DAILY, name="Stand-up, renamed"))
    assert read(db, cid).remind_at == START + timedelta(days=1, minutes=-15)
    assert run_at(monkeypatch, db, portal, START - timedelta(minutes=4)) == []
    assert len(portal.sent) == 1


def test_a_transient_failure_puts_the_claim_back(db, monkeypatch):  # noqa: F811
    cid = series(db)
    failing = Portal(TransientError("Bitrix24", "try later"))
    assert run_at(monkeypatch, db, failing, START - timedelta(minutes=10)) == []
    after = read(db, cid)
    assert (after.remind_at, after.reminded_at) == (START - timedelta(minutes=15), None)
    portal = Portal()
    assert run_at(monkeypatch, db, portal, START - timedelta(minutes=9)) == [cid]


@pytest.mark.parametrize("fields", [
    {"create_calendar_event": True}, {"invite_users": False}, {"reminder_minutes": 0},
])
def test_conferences_that_are_not_reminded(db, monkeypatch, fields):  # noqa: F811
    """A calendar event reminds by itself; no invitations, no reminders; 0 minutes means none."""
    series(db, **fields)
    portal = Portal()
    assert run_at(monkeypatch, db, portal, START - timedelta(minutes=10)) == []
    assert portal.sent == []


def test_a_single_meeting_is_reminded_of_its_start(db, monkeypatch):  # noqa: F811
    conference, _ = conferences.create(db, ANNA, body(), None)
    with db.write() as session:
        session.get(Conference, conference.id).join_url = "https://telemost.example/j/1"
    portal = Portal()
    assert run_at(monkeypatch, db, portal, START - timedelta(minutes=10)) == [conference.id]
    assert read(db, conference.id).remind_at is None
    assert portal.messages()[0].startswith("Reminder: «Stand-up» with [B]Anna Smirnova[/B] starts on 2031-03-03 10:00")
