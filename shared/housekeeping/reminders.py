"""Beat's reminders: invitees of a conference with no calendar event (which would remind them itself) hear
shortly before it starts. Each reminder is claimed by a conditional statement, so two runs at once (or
a run after a crash) send it once, and each logs one line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.errors import OutsideServiceError
from shared.db import Database
from shared.models import Conference, utcnow
from shared.pipeline import bitrix_text
from shared.pipeline.batch import run_batches

log = logging.getLogger(__name__)


def send_reminders(
    db: Database, minutes: int, bitrix_for: Callable[[Conference], Bitrix24Client], client_id: str | None
) -> list[int]:
    """Invitees of a conference with no calendar event (which would remind them itself) hear shortly before."""
    now = utcnow()
    with db.read() as session:
        due = list(
            session.scalars(
                select(Conference).where(
                    Conference.reminded_at.is_(None),
                    Conference.cancel_requested.is_(False),
                    Conference.create_calendar_event.is_(False),
                    Conference.invite_users.is_(True),
                    Conference.join_url.is_not(None),
                    Conference.start_at > now,
                    Conference.start_at <= now + timedelta(minutes=minutes),
                )
            )
        )
    sent = []
    for conference in due:
        if not conference.invitees or not _claim_reminder(db, conference.id):
            continue
        try:
            bitrix = bitrix_for(conference)
            commands = {
                f"remind_{user_id}": (
                    "im.notify.system.add",
                    bitrix_text.reminder(conference, user_id, client_id),
                )
                for user_id in conference.invitees
            }
            _, errors = run_batches(bitrix, commands)
        except OutsideServiceError as error:
            errors = {"all": error}
        if errors and all(e.transient for e in errors.values()):
            _release_reminder(db, conference.id)  # a later run tries again
            log.warning(
                "conference %s: reminder not sent yet (%s)", conference.id, next(iter(errors.values()))
            )
            continue
        log.info(
            "conference %s: reminder sent to %d invitee(s)%s",
            conference.id,
            len(conference.invitees),
            f", {len(errors)} failed" if errors else "",
        )
        sent.append(conference.id)
    return sent


def _claim_reminder(db: Database, conference_id: int) -> bool:
    with db.write() as session:
        # An UPDATE answers a CursorResult, which has the rowcount; Session.execute's stubs say Result.
        claimed = cast(
            "CursorResult[Any]",
            session.execute(
                update(Conference)
                .where(
                    Conference.id == conference_id,
                    Conference.reminded_at.is_(None),
                )
                .values(reminded_at=utcnow(), updated_at=Conference.updated_at)
            ),
        )
        return claimed.rowcount == 1


def _release_reminder(db: Database, conference_id: int) -> None:
    with db.write() as session:
        session.execute(
            update(Conference)
            .where(Conference.id == conference_id)
            .values(reminded_at=None, updated_at=Conference.updated_at)
        )
