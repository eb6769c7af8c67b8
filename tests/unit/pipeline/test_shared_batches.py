"""Conferences of one portal and owner share `batch` requests (shared/pipeline/runner.py share_bitrix,
shared/pipeline/peers.py, shared/pipeline/batch.py packed), issue 18.

What the sources settle:
- b24restdocs settings/how-to-call-rest-api/batch.md: at most 50 subqueries a batch; `$result[key]` names an
  earlier command of the same request; the OAuth example carries one "auth" for the whole request, so every
  command runs as that user: only conferences sent with the same credential (portal and owner) share one.
- b24restdocs limits.md: "The rate limit accounts for HTTP requests", and a batch is one of them.
What no source settles, safe both ways: whether a batch key may hold digits and underscores ("c12__event__x");
the keys before this held both ("user_3", "calendar_event__event").
The steps are test doubles in a patched registry; the state machine is real, on SQLite."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from shared.clients.bitrix24 import MAX_BATCH_COMMANDS, BatchResult
from shared.clients.errors import PermanentError, TransientError
from shared.db import Database
from shared.models import Base, Conference
from shared.pipeline import registry
from shared.pipeline.batch import packed
from shared.pipeline.peers import due_owners
from shared.pipeline.state import claim_each
from shared.pipeline.runner import Runner
from shared.pipeline.step import BitrixStep, Outcome, OutsideClients, TelemostStep, remember
from shared.pipeline.steps import room
from tests.unit.pipeline.fakes import FakeBitrix, conference


class Room(TelemostStep):
    name, waits_for = room.NAME, None

    def wanted(self, c):
        return True

    def run(self, outside, c, found):
        return Outcome(apply=lambda conf: setattr(conf, "telemost_id", "room"))


class Tells(BitrixStep):
    """`count` notifications, the second and later naming the first's answer."""

    name, waits_for = "tells", room.NAME

    def __init__(self, count=2):
        self.count, self.recovered = count, []

    def wanted(self, c):
        return True

    def recover(self, outside, c):
        self.recovered.append(c.id)

    def commands(self, outside, c, found):
        first = {"n0": ("im.notify.system.add", {"USER_ID": c.id})}
        return first | {f"n{i}": ("im.notify.system.add", {"MESSAGE": "$result[n0]"}) for i in range(1, self.count)}

    def record(self, outside, c, commands, answers):
        if answers.errors:
            return Outcome(error=answers.first_error())
        return Outcome(apply=remember(told=sorted(answers.results)))


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'shared.db'}")
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def made(db, owner_id=2, portal="portal.example"):
    """A saved conference whose Bitrix24 steps wait for its room."""
    with db.write() as session:
        c = conference(telemost_id=None, applied={}, owner_id=owner_id, portal=portal,
                       public_id=f"p{session.query(Conference).count()}")
        c.id = None
        c.steps = registry.initial_steps(c)
        session.add(c)
        session.flush()
        cid = c.id
    return cid


def setup(monkeypatch, db, tells, bitrix, count=3, **others):
    monkeypatch.setattr(registry, "STEPS", (Room(), tells))
    runner = Runner(db, OutsideClients(telemost_for=lambda _: None, bitrix_for=lambda _: bitrix),
                    timedelta(seconds=60))
    ids = [made(db) for _ in range(count)] + [made(db, **o) for o in others.values()]
    for cid in ids:
        runner.run_telemost(cid)
    return runner, ids


def step(db, cid):
    with db.read() as session:
        row = session.get(Conference, cid).steps[1]
        return row.state, row.error, row.attempts


def test_due_conferences_of_one_owner_ride_in_one_batch_each_with_its_own_answers(monkeypatch, db):
    bitrix = FakeBitrix()
    runner, ids = setup(monkeypatch, db, Tells(), bitrix)
    touched = runner.share_bitrix(ids[0])

    assert [c.id for c in touched] == ids  # this one first, then the peers it took, oldest first
    assert len(bitrix.batches) == 1
    a, b = ids[0], ids[1]
    assert bitrix.batches[0][f"c{b}__tells__n1"] == ("im.notify.system.add", {"MESSAGE": f"$result[c{b}__tells__n0]"})
    assert bitrix.batches[0][f"c{a}__tells__n0"] == ("im.notify.system.add", {"USER_ID": a})
    for c in touched:
        assert c.applied["told"] == ["n0", "n1"] and c.status == "ready"


def test_another_owner_or_portal_never_shares_the_batch(monkeypatch, db):
    """Another owner's commands would run as this owner (one auth a batch): they go in their own."""
    bitrix = FakeBitrix()
    runner, ids = setup(monkeypatch, db, Tells(), bitrix, count=1, other_owner={"owner_id": 3},
                        other_portal={"portal": "other.example"})
    assert [c.id for c in runner.share_bitrix(ids[0])] == [ids[0]]
    assert list(bitrix.batches[0]) == ["tells__n0", "tells__n1"]  # alone: the keys it always had
    assert step(db, ids[1])[0] == "pending" and step(db, ids[2])[0] == "pending"


def test_a_failed_command_fails_that_conference_only(monkeypatch, db):
    bitrix = FakeBitrix()
    runner, ids = setup(monkeypatch, db, Tells(), bitrix, count=2)
    a, b = ids
    bitrix.batch_answer = BatchResult(results={f"c{a}__tells__n0": 1, f"c{a}__tells__n1": 2, f"c{b}__tells__n1": 2},
                                      errors={f"c{b}__tells__n0": PermanentError("Bitrix24", "refused")})
    runner.share_bitrix(a)
    assert step(db, a)[:2] == ("done", None)
    assert step(db, b)[:2] == ("failed", "refused")


def test_a_lost_shared_batch_is_retried_and_recovered_per_conference(monkeypatch, db):
    bitrix, tells = FakeBitrix(), Tells()
    runner, ids = setup(monkeypatch, db, tells, bitrix, count=2)
    bitrix.batch_answer = TransientError("Bitrix24", "timed out")
    runner.share_bitrix(ids[0])
    assert [step(db, cid)[:2] for cid in ids] == [("pending", "timed out")] * 2

    bitrix.batch_answer = None
    with db.write() as session:  # their retry is due now
        for cid in ids:
            session.get(Conference, cid).steps[1].next_attempt_at = None
    runner.share_bitrix(ids[1])
    assert sorted(tells.recovered) == ids  # each looks for what the lost request may have made
    assert [step(db, cid)[0] for cid in ids] == ["done", "done"]


def test_a_conference_that_does_not_fit_is_given_back_as_it_was(monkeypatch, db):
    """Twenty commands a conference: two fit in a batch of 50, the third is released, its attempt
    uncounted, and the task answers only the two."""
    bitrix = FakeBitrix()
    runner, ids = setup(monkeypatch, db, Tells(count=20), bitrix, count=3)
    assert [c.id for c in runner.share_bitrix(ids[0])] == ids[:2]
    assert len(bitrix.batches) == 1 and len(bitrix.batches[0]) == 40
    assert step(db, ids[2]) == ("pending", None, 0)


def test_a_lone_conference_runs_alone_when_none_is_due(monkeypatch, db):
    bitrix = FakeBitrix()
    runner, ids = setup(monkeypatch, db, Tells(), bitrix, count=1)
    runner.run_bitrix(ids[0])  # the plain lane never looks for peers
    assert [list(b) for b in bitrix.batches] == [["tells__n0", "tells__n1"]]


def test_a_leaving_sender_hands_on_to_the_owners_who_waited_longest(monkeypatch, db):
    """peers.due_owners: per owner the oldest due conference, owners by that age, of this portal only; a
    conference still waiting for its room or already sent is no one's to hand on."""
    bitrix = FakeBitrix()
    runner, ids = setup(monkeypatch, db, Tells(), bitrix, count=2, b=dict(owner_id=3), c=dict(owner_id=4),
                        d=dict(owner_id=3), elsewhere=dict(owner_id=5, portal="other.example"))
    anna, _, boris, cyril, _, _ = ids
    roomless = made(db, owner_id=6)
    assert due_owners(db, "portal.example", 5) == [anna, boris, cyril]
    assert due_owners(db, "portal.example", 2) == [anna, boris]
    runner.run_bitrix(anna)
    assert due_owners(db, "portal.example", 5) == [ids[1], boris, cyril]
    assert roomless not in due_owners(db, "portal.example", 9)


def test_a_senders_claims_of_a_conference_are_one_transaction_each_step_seeing_the_ones_before(monkeypatch, db):
    """state.claim_each: the due steps are claimed and counted, a step not due is left, and `may_run` sees
    the steps claimed before it in the same transaction (running, not pending)."""
    bitrix = FakeBitrix()
    runner, (cid,) = setup(monkeypatch, db, Tells(), bitrix, count=1)
    seen = []

    def may_run(conference, name):
        seen.append({s.name: s.state for s in conference.steps})
        return True

    writes = []
    event.listen(db.engine, "commit", lambda conn: writes.append(1))
    claims = claim_each(db, cid, ["tells", room.NAME], timedelta(seconds=60), may_run)
    assert [(c.name, c.attempt, c.recovering) for c in claims] == [("tells", 1, False)]  # the room is done
    assert len(writes) == 1
    assert seen == [{room.NAME: "done", "tells": "pending"}, {room.NAME: "done", "tells": "running"}]
    assert claim_each(db, cid, ["tells"], timedelta(seconds=60), may_run) == []  # running: someone has it
    assert claim_each(db, 999, ["tells"], timedelta(seconds=60), may_run) == []


def test_packing_keeps_each_group_whole_and_splits_only_a_group_bigger_than_a_batch():
    def group(name, n):
        return {f"{name}{i}": ("m", {}) for i in range(n)}

    chunks = packed([group("a", 30), group("b", 15), group("c", 10), group("d", 60)])
    assert [sorted({k[0] for k in chunk}) for chunk in chunks] == [["a", "b"], ["c"], ["d"], ["d"]]
    assert [len(chunk) for chunk in chunks] == [45, 10, MAX_BATCH_COMMANDS, 10]
    assert packed([]) == [] and packed([{}]) == []
