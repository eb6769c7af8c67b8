"""A conference as the API shows it (shared/schemas.py ConferenceOut)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from shared.models import Conference
from shared.models import Step as StepRow
from shared.pipeline import registry


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
        "steps": [_step(conference, row) for row in conference.steps],
        "join_url": conference.join_url,
        "watch_url": conference.watch_url,
        "telemost_id": conference.telemost_id,
        "calendar_event_id": conference.calendar_event_id,
        "chat": {"dialog_id": conference.chat["dialog_id"], "title": conference.chat.get("title")}
        if conference.chat
        else None,
        "crm": {key: conference.crm.get(key) for key in ("entity_type", "entity_id", "title")}
        if conference.crm
        else None,
        "robot": {"code": conference.robot.get("code")} if conference.robot else None,
        "recurrence": conference.recurrence,
        "auto_summary": conference.auto_summary,
        "reminder_minutes": conference.reminder_minutes,
        "created_at": conference.created_at.isoformat(),
        "updated_at": conference.updated_at.isoformat(),
    }


def _step(conference: Conference, row: StepRow) -> dict:
    registered = registry.by_name(row.name)
    return {
        "name": row.name,
        "state": row.state,
        "attempts": row.attempts,
        "error": row.error,
        "error_code": row.error_code,
        # What the page says of the step: what it waits for ("ждёт комнату"), how much it did ("2 добавлены").
        "waits_for": registered.waits_for if registered else None,
        "done_count": registered.done_count(conference) if registered else None,
        "note": registered.note(conference) if registered else None,
        "updated_at": row.updated_at.isoformat(),
    }
