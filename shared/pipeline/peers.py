"""Which other conferences' Bitrix24 steps may ride in a conference's batch requests (issue 18).

A `batch` is one HTTP request with one `auth`: every command in it runs as the user whose token it
carries (b24restdocs settings/how-to-call-rest-api/batch.md shows one "auth" per request, and no way
to give a command its own). So commands of several conferences share a batch only when they would be
sent with the same credential anyway: the same portal and the same owner (the owner's own pair, or the
portal's webhook for all of them). Every request is one unit of the portal's bucket whatever it holds
(limits.md: "The rate limit accounts for HTTP requests"), so a burst of one person's conferences, a
robot's say, drains fifty commands a unit instead of five.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from shared.db import Database
from shared.models import Conference, StepState, utcnow
from shared.models import Step as StepRow
from shared.pipeline import registry
from shared.pipeline.step import Lane
from shared.pipeline.steps import room

CANDIDATES = 25  # looked at per batch: ten conferences of five commands fill one, some are taken by others


def due_peers(db: Database, conference: Conference, limit: int = CANDIDATES) -> list[int]:
    """Conferences of the same portal and owner, other than this one, with a Bitrix24 step due now whose
    room is made, oldest first (the ones whose room is still coming are left for their own task)."""
    query = (
        _due_steps()
        .where(
            Conference.portal == conference.portal,
            Conference.owner_id == conference.owner_id,
            Conference.id != conference.id,
        )
        .group_by(StepRow.conference_id)
        .order_by(StepRow.conference_id)
        .limit(limit)
    )
    with db.read() as session:
        return list(session.scalars(query))


def due_owners(db: Database, portal: str, limit: int) -> list[int]:
    """The oldest due conference (as due_peers counts them) of each of the portal's `limit` owners who have
    waited longest: whom a portal's sender hands on to as it leaves, so that no owner's work is stranded
    while the portal's senders are all busy with others' (worker/tasks/conferences.py)."""
    oldest = func.min(StepRow.conference_id)
    query = (
        _due_steps()
        .with_only_columns(oldest)
        .where(Conference.portal == portal)
        .group_by(Conference.owner_id)
        .order_by(oldest)
        .limit(limit)
    )
    with db.read() as session:
        return list(session.scalars(query))


def _due_steps() -> Select:
    """Bitrix24 steps pending and due now, of conferences whose room is made."""
    made = aliased(StepRow)
    now = utcnow()
    return (
        select(StepRow.conference_id)
        .join(Conference, Conference.id == StepRow.conference_id)
        .join(
            made,
            and_(
                made.conference_id == StepRow.conference_id,
                made.name == room.NAME,
                made.state == StepState.DONE.value,
            ),
        )
        .where(
            StepRow.name.in_(registry.names_in_lane(Lane.BITRIX24)),
            StepRow.state == StepState.PENDING.value,
            or_(StepRow.next_attempt_at.is_(None), StepRow.next_attempt_at <= now),
        )
    )


def room_made(conference: Conference) -> bool:
    """The rule _due_steps applies in SQL, for a loaded conference."""
    return any(s.name == room.NAME and s.state == StepState.DONE.value for s in conference.steps)
