"""What the runner owns (shared/pipeline/runner.py): claims, the guarded error handling, one batch for
every Bitrix24 step with keys namespaced by step, each step's slice, notes before a batch goes, and
recovery asked for only after a lost answer. Steps here are test doubles in a patched registry; the
state machine is real, on SQLite."""
from __future__ import annotations

from datetime import timedelta

import pytest

from shared.clients.bitrix24 import BatchResult
from shared.clients.errors import PermanentError, TransientError
from shared.db import Database
from shared.models import Base, Conference
from shared.pipeline import registry
from shared.pipeline.runner import Runner
from shared.pipeline.state import claim, fail
from shared.pipeline.step import BitrixStep, Outcome, OutsideClients, TelemostStep, remember
from tests.unit.pipeline.fakes import FakeBitrix, conference


class Made(TelemostStep):
    name, waits_for = "made", None

    def __init__(self, error=None):
        self.error, self.found = error, []

    def wanted(self, c):
        return True

    def recover(self, outside, c):
        self.found.append("looked")
        return "earlier"

    def run(self, outside, c, found):
        if self.error is not None:
            raise self.error
        c_id = c.id
        return Outcome(apply=lambda conf: setattr(conf, "telemost_id", f"room-{c_id}"))


class Says(BitrixStep):
    waits_for = "made"

    def __init__(self, name, note=None, fail_commands=False):
        self.name, self.note, self.fail_commands, self.seen = name, note, fail_commands, None

    def wanted(self, c):
        return True

    def commands(self, outside, c, found):
        if self.fail_commands:
            raise TransientError("Bitrix24", "look-up failed")
        return {"one": ("im.notify.system.add", {"USER_ID": 1}), "two": ("user.get", {"ID": "$result[one]"})}

    def before_sending(self, c, commands):
        return self.note

    def record(self, outside, c, commands, answers):
        self.seen = answers
        if answers.errors:
            return Outcome(error=next(iter(answers.errors.values())))
        return Outcome(apply=remember(**{self.name: sorted(answers.results)}))


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'runner.db'}")
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def pipeline(monkeypatch, db, *steps, bitrix=None):
    monkeypatch.setattr(registry, "STEPS", steps)
    with db.write() as session:
        made = conference(telemost_id=None, applied={})
        made.id = None
        made.steps = registry.initial_steps(made)
        session.add(made)
        session.flush()
        conference_id = made.id
    clients = OutsideClients(telemost_for=lambda _: None, bitrix_for=lambda _: bitrix or FakeBitrix())
    return Runner(db, clients, timedelta(seconds=60)), conference_id


def states(db, conference_id):
    with db.read() as session:
        c = session.get(Conference, conference_id)
        return {row.name: (row.state, row.error) for row in c.steps}, c


def test_every_bitrix24_step_shares_one_batch_and_gets_only_its_own_answers(monkeypatch, db):
    bitrix = FakeBitrix()
    first, second = Says("first", note={"noted": True}), Says("second")
    runner, cid = pipeline(monkeypatch, db, Made(), first, second, bitrix=bitrix)
    assert runner.run(cid) is None

    assert bitrix.batches == [{"first__one": ("im.notify.system.add", {"USER_ID": 1}),
                               "first__two": ("user.get", {"ID": "$result[first__one]"}),
                               "second__one": ("im.notify.system.add", {"USER_ID": 1}),
                               "second__two": ("user.get", {"ID": "$result[second__one]"})}]
    assert set(first.seen.results) == {"one", "two"} and set(second.seen.results) == {"one", "two"}
    rows, c = states(db, cid)
    assert rows == {"made": ("done", None), "first": ("done", None), "second": ("done", None)}
    assert c.applied == {"noted": True, "first": ["one", "two"], "second": ["one", "two"]}
    assert c.status == "ready"


def test_a_failed_command_fails_its_own_step_only(monkeypatch, db):
    bitrix = FakeBitrix()
    bitrix.batch_answer = BatchResult(results={"first__one": 1, "first__two": 2, "second__two": 2},
                                      errors={"second__one": PermanentError("Bitrix24", "refused")})
    runner, cid = pipeline(monkeypatch, db, Made(), Says("first"), Says("second"), bitrix=bitrix)
    runner.run(cid)
    rows, c = states(db, cid)
    assert rows["first"] == ("done", None) and rows["second"] == ("failed", "refused")
    assert c.status == "partially_failed"


def test_a_failed_look_up_fails_that_step_and_the_others_still_go(monkeypatch, db):
    bitrix = FakeBitrix()
    runner, cid = pipeline(monkeypatch, db, Made(), Says("first", fail_commands=True), Says("second"), bitrix=bitrix)
    runner.run(cid)
    rows, _ = states(db, cid)
    assert rows["first"] == ("pending", "look-up failed") and rows["second"] == ("done", None)
    assert list(bitrix.batches[0]) == ["second__one", "second__two"]


def test_a_lost_batch_request_fails_every_step_in_it_for_a_later_attempt(monkeypatch, db):
    bitrix = FakeBitrix()
    bitrix.batch_answer = TransientError("Bitrix24", "timed out")
    runner, cid = pipeline(monkeypatch, db, Made(), Says("first"), Says("second"), bitrix=bitrix)
    runner.run(cid)
    rows, _ = states(db, cid)
    assert rows["first"] == ("pending", "timed out") and rows["second"] == ("pending", "timed out")


def test_a_bug_in_a_step_ends_it_with_a_message_instead_of_leaving_it_running(monkeypatch, db):
    runner, cid = pipeline(monkeypatch, db, Made(error=KeyError("bug")), Says("first"))
    runner.run(cid)
    rows, c = states(db, cid)
    assert rows["made"][0] == "failed" and "unexpected error (KeyError)" in rows["made"][1]
    assert rows["first"][0] == "pending"  # it waits for what will not come


def test_recovery_is_asked_for_only_after_an_attempt_whose_answer_may_be_lost(monkeypatch, db):
    made = Made()
    runner, cid = pipeline(monkeypatch, db, made)
    fail(db, claim(db, cid, "made", timedelta(seconds=60)), PermanentError("Telemost", "refused"))
    assert made.found == []
    with db.write() as session:  # a retry: the earlier attempt may have reached Telemost
        row = session.get(Conference, cid).steps[0]
        row.state = "pending"
    runner.run(cid)
    assert made.found == ["looked"]


def test_a_conference_that_cannot_be_loaded_fails_its_claimed_steps_instead_of_raising(monkeypatch, db):
    runner, cid = pipeline(monkeypatch, db, Made(), Says("first"))
    runner.run_telemost(cid)

    def gone(_conference_id):
        raise PermanentError("app", "The conference is gone")

    monkeypatch.setattr(runner, "_loaded", gone)
    runner.run_bitrix(cid)
    rows, _ = states(db, cid)
    assert rows["first"] == ("failed", "The conference is gone")  # not left running for the sweeper
