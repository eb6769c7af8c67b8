"""The state machine of steps, and the conference status derived from them.

Every transition happens in its own short write transaction (DESIGN §4 rule 2): claim and commit,
then the outside call with no transaction open, then record the result and commit at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.clients.errors import OutsideServiceError
from shared.db import Database
from shared.models import Conference, ConferenceStatus, Step, StepState, utcnow
from shared.pipeline.steps import room

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
RETRY_AFTER_CAP_SECONDS = 600.0

FINAL_STEP_STATES = {StepState.DONE.value, StepState.SKIPPED.value, StepState.FAILED.value}


@dataclass(frozen=True)
class Claim:
    """A step this worker now owns; `recovering` means an earlier attempt may have reached the service."""

    conference_id: int
    name: str  # the step's, as in the registry
    attempt: int
    recovering: bool
    version: int  # of the desired state this attempt works towards


def derive_status(conference: Conference) -> ConferenceStatus:
    states = {s.name: s.state for s in conference.steps}
    settled = all(state in FINAL_STEP_STATES for state in states.values())
    if conference.cancel_requested:
        # A cancel that could not reach everything still ends cancelled; the failed step says what is left.
        return ConferenceStatus.CANCELLED if settled else ConferenceStatus.CANCELLING
    if states.get(room.NAME) == StepState.FAILED.value and conference.telemost_id is None:
        return ConferenceStatus.FAILED  # no room at all; a failed edit of a room is a partial failure
    if all(state in (StepState.DONE.value, StepState.SKIPPED.value) for state in states.values()):
        return ConferenceStatus.READY
    if settled:
        return ConferenceStatus.PARTIALLY_FAILED
    if (conference.version or 1) > 1:
        return ConferenceStatus.SYNCING
    started = any(s.attempts > 0 for s in conference.steps)
    return ConferenceStatus.PROVISIONING if started else ConferenceStatus.PENDING


def refresh_status(conference: Conference) -> None:
    conference.status = derive_status(conference)


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (so retries of many conferences spread out), never before Retry-After.

    A Retry-After longer than RETRY_AFTER_CAP_SECONDS is taken as that: the sweeper keeps the wait in
    the database either way, and no answer should park a conference for a day.
    """
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, min(retry_after or 0.0, RETRY_AFTER_CAP_SECONDS))


def attempts_left(step: Step) -> int:
    """Attempts left before a transient failure becomes final; a manual retry gives a fresh allowance."""
    return MAX_ATTEMPTS - (step.attempts - step.attempts_at_retry)


def is_stale(step: Step, now: datetime, stale_after: timedelta) -> bool:
    return (
        step.state == StepState.RUNNING.value
        and step.started_at is not None
        and step.started_at <= now - stale_after
    )


def _is_due(step: Step, now: datetime, stale_after: timedelta) -> bool:
    if step.state == StepState.PENDING.value:
        return step.next_attempt_at is None or step.next_attempt_at <= now
    return is_stale(step, now, stale_after)


def _locked_step(session: Session, conference_id: int, name: str) -> Step | None:
    # The conference row is locked first: transitions of all its steps then run one at a time, so the
    # status derived from every step never reads a sibling that is changing (PostgreSQL's READ
    # COMMITTED would allow that; SQLite's BEGIN IMMEDIATE serialises writers anyway).
    conference = _locked_conference(session, conference_id)
    if conference is None:
        return None
    return next((s for s in conference.steps if s.name == name), None)


def _locked_conference(session: Session, conference_id: int) -> Conference | None:
    return session.scalars(
        select(Conference).where(Conference.id == conference_id).with_for_update()
    ).one_or_none()


def claim(db: Database, conference_id: int, name: str, stale_after: timedelta) -> Claim | None:
    """Marks the step running and counts the attempt, or answers None when it is not due or someone has it.

    A step running for longer than `stale_after` belongs to a worker that died, and is taken over,
    unless workers have died on it as often as a step may be tried: then it fails for good.
    """
    claims = claim_each(db, conference_id, [name], stale_after, lambda _conference, _name: True)
    return claims[0] if claims else None


def claim_each(
    db: Database,
    conference_id: int,
    names: Sequence[str],
    stale_after: timedelta,
    may_run: Callable[[Conference, str], bool],
) -> list[Claim]:
    """`claim` of each named step in turn, in one transaction (a Bitrix24 sender claims every step of a
    conference at once): `may_run(conference, name)` is asked of each as the ones before it left it."""
    now = utcnow()
    claims = []
    with db.write() as session:
        conference = _locked_conference(session, conference_id)
        for name in names:
            step = None if conference is None else next((s for s in conference.steps if s.name == name), None)
            if (
                step is not None
                and may_run(step.conference, name)
                and (taken := _take(step, now, stale_after))
            ):
                claims.append(taken)
    return claims


def _take(step: Step, now: datetime, stale_after: timedelta) -> Claim | None:
    if not _is_due(step, now, stale_after):
        return None
    if is_stale(step, now, stale_after) and attempts_left(step) <= 0:
        step.state = StepState.FAILED
        step.error = f"The worker stopped during this step {step.attempts} times in a row. Retry later."
        refresh_status(step.conference)
        return None
    # Any earlier attempt, even before a manual retry, may have reached the service before its
    # answer was lost: the step then looks for what it made before making it again.
    recovering = step.attempts > 0
    step.state, step.started_at, step.next_attempt_at = StepState.RUNNING, now, None
    step.attempts += 1
    refresh_status(step.conference)
    return Claim(step.conference_id, step.name, step.attempts, recovering, step.conference.version)


def _owned_step(session: Session, claimed: Claim) -> Step | None:
    """The step, if this claim still owns it (a stale claim may have been taken over meanwhile)."""
    step = _locked_step(session, claimed.conference_id, claimed.name)
    if step is None or step.state != StepState.RUNNING.value or step.attempts != claimed.attempt:
        return None
    return step


def succeed(db: Database, claimed: Claim, apply=None) -> bool:
    """Records success; `apply(conference)` writes what the service answered in the same transaction."""
    with db.write() as session:
        step = _owned_step(session, claimed)
        if step is None:
            return False
        if apply is not None:
            apply(step.conference)  # what was done is real, even if the desired state moved on meanwhile
        step.state, step.error, step.error_code, step.next_attempt_at = StepState.DONE, None, None, None
        _again_if_outdated(step, claimed)
        refresh_status(step.conference)
        return True


def _again_if_outdated(step: Step, claimed: Claim, not_before: datetime | None = None) -> None:
    """An edit or cancel arrived while this attempt ran: the step runs again for the newer desired state
    (after `not_before`, the wait a failed attempt has to keep)."""
    if step.conference.version != claimed.version:
        step.state, step.next_attempt_at = StepState.PENDING, not_before
        step.attempts_at_retry = step.attempts


def release(db: Database, claimed: Claim) -> bool:
    """Gives back a claim that sent nothing (a conference that did not fit in a shared batch): the step is
    pending again as it was, its attempt not counted."""
    with db.write() as session:
        step = _owned_step(session, claimed)
        if step is None:
            return False
        step.state, step.started_at, step.next_attempt_at = StepState.PENDING, None, None
        step.attempts -= 1
        refresh_status(step.conference)
        return True


def fail(db: Database, claimed: Claim, error: OutsideServiceError, apply=None) -> datetime | None:
    """Records a failure: a later attempt for a transient one, the end for a permanent one.

    `apply(conference)` records what was done before the failure (a partial success). Answers when
    the next attempt is due, or None when the step has failed for good.
    """
    with db.write() as session:
        step = _owned_step(session, claimed)
        if step is None:
            return None
        if apply is not None:
            apply(step.conference)
        step.error_code = error.code
        if error.transient and attempts_left(step) > 0:
            step.state = StepState.PENDING
            step.next_attempt_at = utcnow() + timedelta(
                seconds=backoff_seconds(step.attempts, error.retry_after)
            )
            step.error = error.message
        else:
            step.state = StepState.FAILED
            step.error = (
                error.message
                if not error.transient
                else f"{error.message.split(';')[0]}, and still failed after {step.attempts} attempts. Retry later."
            )
        # A transient failure's wait holds for the newer version too: the service asked for it
        # (Retry-After), or may still be carrying out the unanswered request.
        _again_if_outdated(
            step, claimed, step.next_attempt_at if step.state == StepState.PENDING.value else None
        )
        refresh_status(step.conference)
        return step.next_attempt_at if step.state == StepState.PENDING.value else None
