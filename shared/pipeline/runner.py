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
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from shared.clients.errors import OutsideServiceError, PermanentError
from shared.db import Database
from shared.models import Conference, StepState, utcnow
from shared.pipeline import registry
from shared.pipeline.batch import namespaced, run_batches, slice_of
from shared.pipeline.state import Claim, claim, fail, is_stale, succeed
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
        claimed = [
            (step, c)
            for step in registry.in_lane(Lane.BITRIX24)
            if (c := self._claim_if_runnable(conference_id, step)) is not None
        ]
        if claimed:
            with self._recorded_failure([c for _, c in claimed]):  # the conference gone meanwhile, say
                self._bitrix_attempt(conference_id, claimed)
        return self.load(conference_id)

    def _bitrix_attempt(self, conference_id: int, claimed: list[tuple[Step, Claim]]) -> None:
        conference = self._loaded(conference_id)
        outside = Outside(self.clients, conference)
        planned: list[tuple[BitrixStep, Claim, Commands]] = []
        for step, claim_ in claimed:
            assert isinstance(step, BitrixStep)
            with self._recorded_failure([claim_]):  # a failed look-up fails that step only
                found = step.recover(outside, conference) if claim_.recovering else None
                planned.append((step, claim_, step.commands(outside, conference, found)))
        if not planned:
            return
        with self._recorded_failure([c for _, c, _ in planned]):
            notes: dict = {}
            for step, _, commands in planned:
                notes.update(step.before_sending(conference, commands) or {})
            if notes:
                self._note(conference_id, notes)
            batch: Commands = {}
            for step, _, commands in planned:
                batch.update(namespaced(step.name, commands))
            results, errors = run_batches(outside.bitrix, batch) if batch else ({}, {})
            for step, claim_, commands in planned:
                with self._recorded_failure([claim_]):
                    answers = Answers(slice_of(step.name, results), slice_of(step.name, errors))
                    self._record(step, claim_, step.record(outside, conference, commands, answers))

    # --- what every step shares --------------------------------------------------------------------

    def _claim_if_runnable(self, conference_id: int, step: Step) -> Claim | None:
        conference = self.load(conference_id)
        if conference is None or not runnable(conference, step):
            return None
        return claim(self.db, conference_id, step.name, self.stale_after)

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

    def _note(self, conference_id: int, notes: dict) -> None:
        with self.db.write() as session:
            locked = session.scalars(
                select(Conference).where(Conference.id == conference_id).with_for_update()
            ).one_or_none()
            if locked is not None:
                locked.applied = {**(locked.applied or {}), **notes}


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
