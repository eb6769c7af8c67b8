"""The steps of the pipeline: `STEPS` is the only list of them, in the order they run within a lane.

Every other table is derived from it when asked (so that a test can add a step): the steps of a new
conference, those an edit reopens, what waits for what, which lane runs what, and what the sweeper
re-sends. Adding an outside effect is one module in steps/ and one line here (CONTRIBUTING.md).
"""

from __future__ import annotations

from shared.models import Conference, StepState, utcnow
from shared.models import Step as StepRow
from shared.pipeline.step import Lane, Step
from shared.pipeline.steps import (
    calendar_event,
    chat_message,
    cohosts,
    crm_link,
    invitations,
    robot_result,
    room,
)

STEPS: tuple[Step, ...] = (
    room.STEP,
    cohosts.STEP,
    calendar_event.STEP,
    chat_message.STEP,
    crm_link.STEP,
    invitations.STEP,
    robot_result.STEP,
)


def steps() -> tuple[Step, ...]:
    return STEPS


def by_name(name: str) -> Step | None:
    return next((step for step in STEPS if step.name == name), None)


def in_lane(lane: Lane) -> tuple[Step, ...]:
    return tuple(step for step in STEPS if step.lane == lane)


def names_in_lane(lane: Lane) -> tuple[str, ...]:
    return tuple(step.name for step in in_lane(lane))


def dependants(name: str) -> tuple[Step, ...]:
    return tuple(step for step in STEPS if step.waits_for == name)


def initial_steps(conference: Conference) -> list[StepRow]:
    """The steps of a conference being made: pending where its first version wants them, else skipped."""
    return [
        StepRow(
            name=step.name,
            state=StepState.PENDING if step.wanted(conference) else StepState.SKIPPED,
            attempts=0,
            attempts_at_retry=0,
        )
        for step in STEPS
    ]


def reopen(conference: Conference) -> None:
    """Every step that is not running is due again for a new version, or skipped where it has nothing to
    do (a running one re-runs when it ends, state._again_if_outdated). A cancel reopens every step: each
    undoes its part. A step added to the registry after the conference was made joins it now."""
    rows = {row.name: row for row in conference.steps}
    for step in STEPS:
        if step.name not in rows:
            rows[step.name] = StepRow(
                name=step.name, state=StepState.SKIPPED, attempts=0, attempts_at_retry=0
            )
            conference.steps.append(rows[step.name])
    now = utcnow()
    for row in conference.steps:
        registered = by_name(row.name)
        if row.state == StepState.RUNNING.value or registered is None:
            continue
        wanted = registered.wanted(conference) or conference.cancel_requested
        waiting = (
            row.state == StepState.PENDING.value
            and row.next_attempt_at is not None
            and row.next_attempt_at > now
        )
        row.state = StepState.PENDING if wanted else StepState.SKIPPED
        # A step waiting out a Retry-After, or a request the service may still be carrying out, keeps
        # its wait: an edit must not make it look for what that request made before it is there.
        row.next_attempt_at = row.next_attempt_at if waiting and wanted else None
        row.error = row.error_code = None
        row.attempts_at_retry = row.attempts
