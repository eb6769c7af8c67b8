"""What the API does with conferences: create (idempotently), list, read, retry. No HTTP here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.conferences.versions import new_version
from shared.db import Database
from shared.models import Conference, StepState, utcnow
from shared.occurrences import next_reminder
from shared.pipeline import registry
from shared.pipeline.state import refresh_status
from shared.portal import settings as portal_settings
from shared.portal.caller import Caller
from shared.problems import Problem
from shared.schemas import ConferenceIn, ListQuery

IDEMPOTENCY_WINDOW = timedelta(hours=24)


class NotFound(Exception):
    pass


class Conflict(Exception):
    """The change cannot apply in the conference's present state; the message says why."""


class Unchangeable(Exception):
    """A field that cannot change after creation: {field: message}."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(fields.values()))
        self.fields = fields


def _find_by_key(session: Session, caller: Caller, key: str | None) -> Conference | None:
    return session.scalars(
        select(Conference).where(
            Conference.portal == caller.portal,
            Conference.owner_id == caller.user_id,
            Conference.idempotency_key == key,
        )
    ).one_or_none()


@dataclass(frozen=True)
class Places:
    """Where in the portal the meeting lives besides its room, as the portal answered the caller about them
    (web/api/chats.py, web/api/crm.py): the chat it is posted to, the CRM record it is linked to."""

    chat: dict | None = None
    crm: dict | None = None
    robot: dict | None = None  # only on create: the automation rule that asked for it (web/robot.py)


def create(
    db: Database, caller: Caller, data: ConferenceIn, idempotency_key: str | None, places: Places = Places()
) -> tuple[Conference, bool]:
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
            data = _as_the_portal_allows(session, caller, data)
            conference = Conference(
                portal=caller.portal,
                owner_id=caller.user_id,
                owner_name=caller.name,
                owner_email=caller.email,
                type=data.type,
                **_fields(data),
                chat=places.chat,
                crm=places.crm,
                robot=places.robot,
                idempotency_key=idempotency_key,
                enqueued_at=utcnow(),
            )
            conference.remind_at = next_reminder(conference, utcnow())
            conference.steps = registry.initial_steps(conference)
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


def get(session: Session, caller: Caller, conference_id: int, for_update: bool = False) -> Conference:
    """for_update: locked, as a change must be (state._locked_step): on PostgreSQL's READ COMMITTED an
    unlocked read can see a step running whose worker then records it done for the old version before
    this change commits, and reopen leaves a running step to rerun itself: the change is then never
    carried out (a cancelled conference's room left open, the chaos run on PostgreSQL). SQLite's BEGIN
    IMMEDIATE serialises the two anyway."""
    conference = session.get(Conference, conference_id, with_for_update=for_update)
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
    items = session.scalars(
        select(Conference)
        .where(*where)
        .order_by(Conference.created_at.desc(), Conference.id.desc())
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    ).all()
    assert total is not None  # count() always answers one row
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
        conference = get(session, caller, conference_id, for_update=True)
        for step in conference.steps:
            if step.state == StepState.FAILED.value:
                step.state, step.next_attempt_at, step.error_code = StepState.PENDING, None, None
                step.attempts_at_retry = step.attempts
        conference.enqueued_at = utcnow()
        refresh_status(conference)
    return conference


def _as_the_portal_allows(session: Session, caller: Caller, data: ConferenceIn) -> ConferenceIn:
    effective = portal_settings.current(session, caller.portal)
    portal_settings.check_broadcast(caller, data, effective)
    return portal_settings.with_defaults(data, effective)


def _keeping_what_is_left_out(data: ConferenceIn, conference: Conference) -> ConferenceIn:
    """An edit that leaves out a field the portal has a default for keeps the conference's value: the default
    is for new meetings, and a page that only renames a meeting must not reset its length."""
    kept = {
        name: getattr(conference, name)
        for name in ConferenceIn.PORTAL_DEFAULTS
        if name not in data.model_fields_set
    }
    return data.model_copy(update=kept) if kept else data


def _fields(data: ConferenceIn) -> dict:
    return {
        "name": data.name,
        "description": data.description,
        "start_at": data.start_at,
        "duration_minutes": data.duration_minutes,
        "timezone": data.timezone,
        "waiting_room_level": data.waiting_room_level,
        "live_stream": data.live_stream.model_dump() if data.live_stream else None,
        "cohosts": list(data.cohosts),
        "invitees": list(data.invitees),
        "create_calendar_event": data.create_calendar_event,
        "invite_users": data.invite_users,
        "recurrence": data.recurrence.model_dump(mode="json") if data.recurrence else None,
        "auto_summary": data.auto_summary,
        "reminder_minutes": data.reminder_minutes,
    }


def edit(
    db: Database, caller: Caller, conference_id: int, data: ConferenceIn, places: Places = Places()
) -> Conference:
    """Saves the new desired state at once; the worker brings the room, calendar and invitees to it."""
    with db.write() as session:
        conference = get(session, caller, conference_id, for_update=True)
        if conference.cancel_requested:
            raise Conflict("The conference is cancelled and cannot be changed")
        if data.type != conference.type:
            raise Unchangeable(
                {
                    "type": Problem(
                        "cannot change after creation; create a new conference instead", "unchangeable"
                    )
                }
            )
        data = _keeping_what_is_left_out(data, conference)
        for field, value in _fields(data).items():
            setattr(conference, field, value)
        conference.chat, conference.crm = places.chat, places.crm
        conference.remind_at = next_reminder(conference, utcnow())
        new_version(conference)
    return conference


def cancel(db: Database, caller: Caller, conference_id: int) -> Conference:
    """Cancelling, then cancelled: the calendar event goes, invitees are told, the room is closed."""
    with db.write() as session:
        conference = get(session, caller, conference_id, for_update=True)
        if not conference.cancel_requested:
            conference.cancel_requested = True
            conference.remind_at = None
            new_version(conference)
    return conference


def mark_enqueued(db: Database, conference_ids: list[int]) -> None:
    if conference_ids:
        with db.write() as session:
            # updated_at stays: being sent to the queue again is not a change the user made.
            session.execute(
                update(Conference)
                .where(Conference.id.in_(conference_ids))
                .values(enqueued_at=utcnow(), updated_at=Conference.updated_at)
            )
