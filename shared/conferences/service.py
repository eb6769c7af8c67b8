"""What the API does with conferences: create (idempotently), list, read, retry. No HTTP here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.db import Database
from shared.models import Conference, Step, StepName, StepState, utcnow
from shared.schemas import ConferenceIn, ListQuery
from shared.pipeline.state import refresh_status

IDEMPOTENCY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Caller:
    """Who is asking: a verified user of a portal. Every query is scoped by both."""

    portal: str
    user_id: int
    name: str
    is_admin: bool = False


class NotFound(Exception):
    pass


class Conflict(Exception):
    """The change cannot apply in the conference's present state; the message says why."""


class Unchangeable(Exception):
    """A field that cannot change after creation: {field: message}."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(fields.values()))
        self.fields = fields


def _initial_steps(data: ConferenceIn) -> list[Step]:
    wanted = {
        StepName.CREATE_ROOM: True,
        # Cohosts are added after the room is made, never with it: an unknown one cannot cost the room (Y3).
        StepName.SYNC_COHOSTS: bool(data.cohosts),
        StepName.CALENDAR_EVENT: data.create_calendar_event,
        StepName.NOTIFY_INVITEES: data.invite_users and bool(data.invitees),
    }
    return [Step(name=name.value, state=(StepState.PENDING if on else StepState.SKIPPED).value, attempts=0,
                 attempts_at_retry=0)
            for name, on in wanted.items()]


def _find_by_key(session: Session, caller: Caller, key: str) -> Conference | None:
    return session.scalars(select(Conference).where(
        Conference.portal == caller.portal, Conference.owner_id == caller.user_id,
        Conference.idempotency_key == key)).one_or_none()


def create(db: Database, caller: Caller, data: ConferenceIn, idempotency_key: str | None) -> tuple[Conference, bool]:
    """Saves a new conference with its steps; answers (conference, created).

    With an Idempotency-Key seen from the same user within 24 h, answers the earlier conference.
    """
    try:
        with db.write() as session:
            if idempotency_key:
                earlier = _find_by_key(session, caller, idempotency_key)
                if earlier is not None and earlier.created_at > utcnow() - IDEMPOTENCY_WINDOW:
                    return earlier, False
                if earlier is not None:  # an expired key is free to use again
                    earlier.idempotency_key = None
                    session.flush()
            conference = Conference(
                portal=caller.portal, owner_id=caller.user_id, owner_name=caller.name, type=data.type,
                name=data.name, description=data.description, start_at=data.start_at,
                duration_minutes=data.duration_minutes, timezone=data.timezone,
                waiting_room_level=data.waiting_room_level,
                live_stream=data.live_stream.model_dump() if data.live_stream else None,
                cohosts=list(data.cohosts), invitees=list(data.invitees),
                create_calendar_event=data.create_calendar_event, invite_users=data.invite_users,
                idempotency_key=idempotency_key, steps=_initial_steps(data), enqueued_at=utcnow(),
            )
            refresh_status(conference)
            session.add(conference)
        return conference, True
    except IntegrityError:
        # Two requests with one key raced; the unique index let one through: answer that one.
        with db.read() as session:
            earlier = _find_by_key(session, caller, idempotency_key)
            if earlier is None:
                raise
            return earlier, False


def get(session: Session, caller: Caller, conference_id: int) -> Conference:
    conference = session.get(Conference, conference_id)
    if conference is None or conference.portal != caller.portal or conference.owner_id != caller.user_id:
        raise NotFound()
    return conference


def list_page(session: Session, caller: Caller, query: ListQuery) -> tuple[list[Conference], int]:
    """The caller's conferences; with scope=all (administrators only, checked by the caller) the portal's."""
    where = [Conference.portal == caller.portal]
    if query.scope == "mine":
        where.append(Conference.owner_id == caller.user_id)
    if query.type:
        where.append(Conference.type == query.type)
    if query.status:
        where.append(Conference.status == query.status)
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(_name_matches(session, pattern.lower()))
    total = session.scalar(select(func.count()).select_from(Conference).where(*where))
    items = session.scalars(select(Conference).where(*where)
                            .order_by(Conference.created_at.desc(), Conference.id.desc())
                            .limit(query.per_page).offset((query.page - 1) * query.per_page)).all()
    return list(items), total


def _name_matches(session: Session, pattern: str):
    """Case-insensitive substring search of the name. SQLite's lower() is the app's Python function (it folds
    Cyrillic too) and costs a call per row; for an ASCII-only term SQLite's own LIKE, which ignores ASCII case,
    finds the same rows several times faster (bench/README.md, the list figure)."""
    if pattern.isascii() and session.get_bind().dialect.name == "sqlite":
        return Conference.name.like(pattern, escape="\\")
    return func.lower(Conference.name).like(pattern, escape="\\")


def retry(db: Database, caller: Caller, conference_id: int) -> Conference:
    """Puts failed steps back to pending; answers the conference (unchanged when nothing had failed)."""
    with db.write() as session:
        conference = get(session, caller, conference_id)
        for step in conference.steps:
            if step.state == StepState.FAILED.value:
                step.state, step.next_attempt_at, step.error_code = StepState.PENDING.value, None, None
                step.attempts_at_retry = step.attempts
        conference.enqueued_at = utcnow()
        refresh_status(conference)
    return conference


def _fields(data: ConferenceIn) -> dict:
    return {"name": data.name, "description": data.description, "start_at": data.start_at,
            "duration_minutes": data.duration_minutes, "timezone": data.timezone,
            "waiting_room_level": data.waiting_room_level,
            "live_stream": data.live_stream.model_dump() if data.live_stream else None,
            "cohosts": list(data.cohosts), "invitees": list(data.invitees),
            "create_calendar_event": data.create_calendar_event, "invite_users": data.invite_users}


def reopen_steps(conference: Conference) -> None:
    """Every step that is not running is due again for the new version (a running one re-runs when it ends)."""
    needed = {
        StepName.CREATE_ROOM: True,
        StepName.SYNC_COHOSTS: True,
        StepName.CALENDAR_EVENT: conference.create_calendar_event or conference.calendar_event_id is not None,
        StepName.NOTIFY_INVITEES: bool(conference.invitees) or bool((conference.applied or {}).get("invitees")),
    }
    for step in conference.steps:
        if step.state == StepState.RUNNING.value:
            continue
        wanted = needed[StepName(step.name)] or conference.cancel_requested
        waiting = step.state == StepState.PENDING.value and step.next_attempt_at is not None \
            and step.next_attempt_at > utcnow()
        step.state = (StepState.PENDING if wanted else StepState.SKIPPED).value
        # A step waiting out a Retry-After, or a request the service may still be carrying out, keeps
        # its wait: an edit must not make it look for what that request made before it is there.
        step.next_attempt_at = step.next_attempt_at if waiting and wanted else None
        step.error = step.error_code = None
        step.attempts_at_retry = step.attempts


def edit(db: Database, caller: Caller, conference_id: int, data: ConferenceIn) -> Conference:
    """Saves the new desired state at once; the worker brings the room, calendar and invitees to it."""
    with db.write() as session:
        conference = get(session, caller, conference_id)
        if conference.cancel_requested:
            raise Conflict("The conference is cancelled and cannot be changed")
        if data.type != conference.type:
            raise Unchangeable({"type": "cannot change after creation; create a new conference instead"})
        for field, value in _fields(data).items():
            setattr(conference, field, value)
        conference.version += 1
        conference.enqueued_at = utcnow()
        reopen_steps(conference)
        refresh_status(conference)
    return conference


def cancel(db: Database, caller: Caller, conference_id: int) -> Conference:
    """Cancelling, then cancelled: the calendar event goes, invitees are told, the room is closed."""
    with db.write() as session:
        conference = get(session, caller, conference_id)
        if not conference.cancel_requested:
            conference.cancel_requested = True
            conference.version += 1
            conference.enqueued_at = utcnow()
            reopen_steps(conference)
            refresh_status(conference)
    return conference


def mark_enqueued(db: Database, conference_ids: list[int]) -> None:
    if conference_ids:
        with db.write() as session:
            # updated_at stays: being sent to the queue again is not a change the user made.
            session.execute(update(Conference).where(Conference.id.in_(conference_ids))
                            .values(enqueued_at=utcnow(), updated_at=Conference.updated_at))


def to_dict(conference: Conference) -> dict:
    zone = ZoneInfo(conference.timezone)
    return {
        "id": conference.id,
        "type": conference.type,
        "name": conference.name,
        "description": conference.description,
        "start_at": conference.start_at.astimezone(zone).isoformat() if conference.start_at else None,
        "duration_minutes": conference.duration_minutes,
        "timezone": conference.timezone,
        "waiting_room_level": conference.waiting_room_level,
        "live_stream": conference.live_stream,
        "cohosts": conference.cohosts,
        "invitees": conference.invitees,
        "create_calendar_event": conference.create_calendar_event,
        "version": conference.version,
        "invite_users": conference.invite_users,
        "owner": {"id": conference.owner_id, "name": conference.owner_name},
        "status": conference.status,
        "steps": [{"name": s.name, "state": s.state, "attempts": s.attempts, "error": s.error,
                   "error_code": s.error_code,
                   "updated_at": s.updated_at.isoformat()} for s in conference.steps],
        "join_url": conference.join_url,
        "watch_url": conference.watch_url,
        "telemost_id": conference.telemost_id,
        "calendar_event_id": conference.calendar_event_id,
        "created_at": conference.created_at.isoformat(),
        "updated_at": conference.updated_at.isoformat(),
    }
