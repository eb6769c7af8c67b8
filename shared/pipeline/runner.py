"""The conference pipeline (DESIGN §4): every step of the registry brought to the conference's desired
state, whether it was just created, edited or cancelled.

The runner owns what every step shares: it claims a due step and loads the conference, gives the step
the clients of this attempt, records the step's Outcome in the step's own transaction, and turns every
failure into a recorded one. On the Bitrix24 lane it puts the commands of every due step into the same
`batch` requests, under keys namespaced by step, and hands each step its own slice of the answers.
A worker task calls `run_telemost` or `run_bitrix` with a conference id (worker/tasks/conferences.py);
each answers the conference as the steps left it, for the task to see what is due next.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from shared.clients.bitrix24 import MAX_BATCH_COMMANDS
from shared.clients.errors import OutsideServiceError, PermanentError
from shared.db import Database
from shared.models import Conference, StepState, utcnow
from shared.pipeline import registry
from shared.pipeline.batch import namespaced, packed, run_chunks, slice_of
from shared.pipeline.peers import due_peers
from shared.pipeline.state import Claim, claim_each, fail, is_stale, release, succeed
from shared.pipeline.step import (
    Answers,
    Apply,
    BitrixStep,
    Commands,
    Lane,
    Outcome,
    Outside,
    OutsideClients,
    Step,
    TelemostStep,
)

log = logging.getLogger(__name__)


def runnable(conference: Conference, step: Step) -> bool:
    """A step runs once what it waits for is settled: done, or failed where a room exists or is being
    cancelled (a cancel whose room cannot be closed still deletes the event and tells the invitees)."""
    if step.waits_for is None:
        return True
    needed = next((s for s in conference.steps if s.name == step.waits_for), None)
    if needed is None:
        return False
    if needed.state == StepState.FAILED.value:
        return step.runs_after_failure or conference.cancel_requested or conference.telemost_id is not None
    return needed.state == StepState.DONE.value


def next_due(
    conference: Conference, lane: Lane | None = None, stale_after: timedelta | None = None
) -> datetime | None:
    """When the earliest runnable pending step (of `lane`, or any) can run; None when none is left to run.
    With `stale_after`, a step whose worker died (running that long) is due now, to be taken over."""
    now = utcnow()
    names = {step.name: step for step in registry.steps() if lane is None or step.lane == lane}
    times = [
        row.next_attempt_at or now
        for row in conference.steps
        if row.state == StepState.PENDING.value
        and row.name in names
        and runnable(conference, names[row.name])
    ]
    if stale_after is not None and any(
        row.name in names and is_stale(row, now, stale_after) for row in conference.steps
    ):
        times.append(now)
    return min(times) if times else None


def fail_unexpectedly(db: Database, claims: Sequence[Claim], error: Exception) -> None:
    log.exception("unexpected error in a step of conference %s", claims[0].conference_id, exc_info=error)
    message = (
        f"The app hit an unexpected error ({type(error).__name__}); it is logged for the team. Retry later."
    )
    for claimed in claims:
        fail(db, claimed, PermanentError("app", message))  # no-op for a claim already recorded


@dataclass(frozen=True)
class Plan:
    """One conference's claimed Bitrix24 steps and the commands each will send."""

    conference: Conference
    outside: Outside
    planned: list[tuple[BitrixStep, Claim, Commands]]

    @property
    def size(self) -> int:
        return sum(len(commands) for _, _, commands in self.planned)

    @property
    def owner(self) -> str:
        return f"c{self.conference.id}"

    def commands(self, shared: bool) -> Commands:
        """Every step's commands under keys namespaced by step, and by conference when others share the batch."""
        merged: Commands = {}
        for step, _, commands in self.planned:
            merged.update(namespaced(step.name, commands))
        return namespaced(self.owner, merged) if shared else merged

    def own(self, answers: dict, shared: bool) -> dict:
        """This conference's answers out of a shared batch's."""
        return slice_of(self.owner, answers) if shared else answers


class Runner:
    def __init__(self, db: Database, clients: OutsideClients, stale_after: timedelta) -> None:
        self.db = db
        self.clients = clients
        self.stale_after = stale_after

    def load(self, conference_id: int) -> Conference | None:
        with self.db.read() as session:
            return session.get(Conference, conference_id)

    def run(self, conference_id: int) -> datetime | None:
        """Every due step in one go; the worker runs the two lanes from separate queues."""
        self.run_telemost(conference_id)
        conference = self.run_bitrix(conference_id)
        return None if conference is None else next_due(conference)

    def due(self, conference: Conference, lane: Lane) -> datetime | None:
        """When a step of `lane` should run next, counting one left running by a dead worker."""
        return next_due(conference, lane, self.stale_after)

    # --- the Telemost lane: one step after another, each with its own calls -------------------------

    def run_telemost(self, conference_id: int) -> Conference | None:
        for step in registry.in_lane(Lane.TELEMOST):
            assert isinstance(step, TelemostStep)
            claimed = self._claim_if_runnable(conference_id, step)
            if claimed is None:
                continue
            with self._recorded_failure([claimed]):
                conference = self._loaded(conference_id)
                outside = Outside(self.clients, conference)
                found = step.recover(outside, conference) if claimed.recovering else None
                self._record(step, claimed, step.run(outside, conference, found))
        return self.load(conference_id)

    # --- the Bitrix24 lane: every due step's commands in the same batch requests ---------------------

    def run_bitrix(self, conference_id: int) -> Conference | None:
        """This conference's due Bitrix24 steps, in batches of their own."""
        plan = self._plan(conference_id)
        if plan is not None:
            self._send([plan])
        return self.load(conference_id)

    def share_bitrix(self, conference_id: int) -> list[Conference]:
        """This conference's due Bitrix24 steps, and those of other conferences of its portal and owner
        while their commands fit in the same batch (shared/pipeline/peers.py): the conferences whose steps
        ran, this one first (none when it is gone)."""
        plan = self._plan(conference_id)
        plans = [] if plan is None else [plan, *self._peer_plans(plan)]
        if plans:
            self._send(plans)
        ids = [conference_id, *(p.conference.id for p in plans[1:])]
        with self.db.read() as session:
            loaded = {c.id: c for c in session.scalars(select(Conference).where(Conference.id.in_(ids)))}
        return [loaded[i] for i in ids if i in loaded]

    def _plan(self, conference_id: int) -> Plan | None:
        """Claims the conference's runnable Bitrix24 steps and asks each for its commands (a failed look-up
        fails that step only); None when there is nothing to send."""
        steps = {step.name: step for step in registry.in_lane(Lane.BITRIX24)}
        claims = claim_each(
            self.db, conference_id, list(steps), self.stale_after, lambda c, name: runnable(c, steps[name])
        )
        claimed = [(steps[c.name], c) for c in claims]
        if not claimed:
            return None
        planned: list[tuple[BitrixStep, Claim, Commands]] = []
        with self._recorded_failure([c for _, c in claimed]):  # the conference gone meanwhile, say
            conference = self._loaded(conference_id)
            outside = Outside(self.clients, conference)
            for step, claim_ in claimed:
                assert isinstance(step, BitrixStep)
                with self._recorded_failure([claim_]):
                    found = step.recover(outside, conference) if claim_.recovering else None
                    planned.append((step, claim_, step.commands(outside, conference, found)))
            return Plan(conference, outside, planned) if planned else None
        return None

    def _peer_plans(self, first: Plan) -> list[Plan]:
        """Plans of due conferences of the same portal and owner while the batch has room; a conference
        that does not fit is given back untouched, for its own task or the next batch."""
        room = MAX_BATCH_COMMANDS - first.size
        plans: list[Plan] = []
        if room <= 0:
            return plans
        for peer_id in due_peers(self.db, first.conference):
            plan = self._plan(peer_id)
            if plan is None:
                continue
            if plan.size > room:
                for _, claim_, _ in plan.planned:
                    release(self.db, claim_)
                continue
            plans.append(plan)
            room -= plan.size
            if room <= 0:
                break
        return plans

    def _send(self, plans: list[Plan]) -> None:
        """The plans' commands in as few batches as hold each conference whole, sent with the first one's
        client (the same credential as every other's); each step records its own slice of the answers."""
        shared = len(plans) > 1
        with self._recorded_failure([c for plan in plans for _, c, _ in plan.planned]):
            notes: dict[int, dict] = {}
            for plan in plans:
                for step, _, commands in plan.planned:
                    notes.setdefault(plan.conference.id, {}).update(
                        step.before_sending(plan.conference, commands) or {}
                    )
            self._note({conference_id: n for conference_id, n in notes.items() if n})
            groups = [plan.commands(shared) for plan in plans]
            results, errors = run_chunks(plans[0].outside.bitrix, packed(groups)) if any(groups) else ({}, {})
            for plan in plans:
                own_results, own_errors = plan.own(results, shared), plan.own(errors, shared)
                for step, claim_, commands in plan.planned:
                    with self._recorded_failure([claim_]):
                        answers = Answers(slice_of(step.name, own_results), slice_of(step.name, own_errors))
                        outcome = step.record(plan.outside, plan.conference, commands, answers)
                        self._record(step, claim_, outcome)

    # --- what every step shares --------------------------------------------------------------------

    def _claim_if_runnable(self, conference_id: int, step: Step) -> Claim | None:
        """The step claimed if it can run, judged in the claim's own transaction."""
        claims = claim_each(
            self.db, conference_id, [step.name], self.stale_after, lambda c, _: runnable(c, step)
        )
        return claims[0] if claims else None

    def _loaded(self, conference_id: int) -> Conference:
        conference = self.load(conference_id)
        if conference is None:  # deleted while claimed (a clean uninstall): nothing left to record either
            raise PermanentError("app", "The conference is gone")
        return conference

    def _record(self, step: Step, claimed: Claim, outcome: Outcome) -> None:
        if outcome.error is None:
            succeed(self.db, claimed, apply=_then_wake_dependants(step, outcome.apply))
        else:
            fail(self.db, claimed, outcome.error, apply=outcome.apply)

    @contextmanager
    def _recorded_failure(self, claims: list[Claim]) -> Iterator[None]:
        """Every failure inside becomes the claimed steps' recorded one (and goes no further)."""
        try:
            yield
        except OutsideServiceError as error:
            for claimed in claims:
                fail(self.db, claimed, error)  # no-op for a claim already recorded
        except SQLAlchemyError:
            raise  # the database is busy or gone: the steps stay running and the sweeper takes them over
        except Exception as error:  # a bug must end the steps, not leave them running for the sweeper forever
            fail_unexpectedly(self.db, claims, error)

    def _note(self, notes: dict[int, dict]) -> None:
        """What each conference's steps are about to send, in one transaction for the whole batch. Rows are
        locked in id order, and every other writer locks one: no two wait for each other in a circle."""
        if not notes:
            return
        with self.db.write() as session:
            query = (
                select(Conference).where(Conference.id.in_(notes)).order_by(Conference.id).with_for_update()
            )
            for locked in session.scalars(query):
                locked.applied = {**(locked.applied or {}), **notes[locked.id]}


def _then_wake_dependants(step: Step, apply: Apply | None) -> Apply:
    """Records the step's success; a step waiting for it that was skipped but is wanted now runs too (a
    conference queued before cohosts followed the room has its cohosts step skipped)."""

    def record(conference: Conference) -> None:
        if apply is not None:
            apply(conference)
        for dependant in registry.dependants(step.name):
            row = next((r for r in conference.steps if r.name == dependant.name), None)
            if row is not None and row.state == StepState.SKIPPED.value and dependant.wanted(conference):
                row.state = StepState.PENDING

    return record
