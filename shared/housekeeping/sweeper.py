"""What the beat sweeper finds: conferences with work that is due and no task on the way for it.

It is what finishes a conference saved while Redis was down, one whose message Redis lost, and one
whose worker died mid-step (DESIGN §4 rules 1 and 3).
"""

from __future__ import annotations

from datetime import timedelta

import redis
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from shared.db import Database
from shared.jobs import BITRIX_QUEUE, CONFERENCES_QUEUE
from shared.models import Conference, ConferenceStatus, Step, StepState, utcnow
from shared.pipeline import registry

ACTIVE_STATUSES = [
    ConferenceStatus.PENDING.value,
    ConferenceStatus.PROVISIONING.value,
    ConferenceStatus.SYNCING.value,
    ConferenceStatus.CANCELLING.value,
]


# While messages wait in the queues (a portal's rate limit holding Bitrix24 work back, a burst of
# creates), a conference's own message is most likely among them: sending more only floods the queue
# (the benchmark's drain saw six no-op messages per conference). It is sent again only after this long.
BACKLOG_RESEND_AFTER_SECONDS = 600


def queued_messages(client: redis.Redis) -> int:
    """Messages waiting in the conference queues; 0 when Redis cannot say (then resending is the safe side)."""
    try:
        return sum(client.llen(queue) for queue in (CONFERENCES_QUEUE, BITRIX_QUEUE))
    except redis.RedisError:
        return 0


def resend_after_seconds(normal: float, queued: int) -> float:
    return normal if queued == 0 else max(normal, BACKLOG_RESEND_AFTER_SECONDS)


def due_conference_ids(
    db: Database, resend_after_seconds: float, stale_after_seconds: float, limit: int = 500
) -> list[int]:
    """Conferences with a due or stuck step that were not sent to the queue in the last `resend_after_seconds`."""
    now = utcnow()
    due_step = exists().where(
        Step.conference_id == Conference.id,
        # A step that waits for another has nothing to send while that one is not done (backing off, say).
        _waited_for_is_done(),
        or_(
            and_(
                Step.state == StepState.PENDING.value,
                or_(Step.next_attempt_at.is_(None), Step.next_attempt_at <= now),
            ),
            and_(
                Step.state == StepState.RUNNING.value,
                Step.started_at <= now - timedelta(seconds=stale_after_seconds),
            ),
        ),
    )
    quiet = or_(
        Conference.enqueued_at.is_(None),
        Conference.enqueued_at <= now - timedelta(seconds=resend_after_seconds),
    )
    with db.read() as session:
        return list(
            session.scalars(
                select(Conference.id)
                .where(Conference.status.in_(ACTIVE_STATUSES), quiet, due_step)
                .order_by(Conference.id)
                .limit(limit)
            )
        )


def _waited_for_is_done():
    """SQL: the step (Step) waits for nothing in the registry, or what it waits for is done."""
    waiting = [step for step in registry.steps() if step.waits_for is not None]
    done = []
    for step in waiting:
        needed = aliased(Step)
        done.append(
            and_(
                Step.name == step.name,
                exists().where(
                    needed.conference_id == Conference.id,
                    needed.name == step.waits_for,
                    needed.state == StepState.DONE.value,
                ),
            )
        )
    return or_(Step.name.not_in([step.name for step in waiting]), *done)
