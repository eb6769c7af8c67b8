"""Beat's reminders: invitees of a conference with no calendar event (which would remind them itself) hear
reminder_minutes before each occurrence. The next one due is kept on the conference (remind_at, planned by
conferences/occurrences.py), so beat reads one indexed range. Each reminder is claimed by a conditional
statement on the remind_at it read, which moves the conference on to its next occurrence at once: two runs
at once (or a run after a crash) send it once, and each logs one line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from shared import occurrences
from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.errors import OutsideServiceError
from shared.db import Database
from shared.models import Conference, utcnow
from shared.pipeline import bitrix_text
from shared.pipeline.batch import run_batches

log = logging.getLogger(__name__)
# Reminders claimed a run (beat: every minute), the earliest due first; the rest wait for the next run.
REMINDER_BATCH = 200


def send_reminders(
    db: Database, bitrix_for: Callable[[Conference], Bitrix24Client], client_id: str | None
) -> list[int]:
    """Sends the reminders due now; answers the conferences whose invitees were reminded. A reminder found
    due once its occurrence has started is not sent late: the conference moves on to its next occurrence."""
    now = utcnow()
    with db.read() as session:
        due = list(
            session.scalars(
                select(Conference)
                .where(
                    Conference.remind_at <= now,
                    Conference.cancel_requested.is_(False),
                    Conference.create_calendar_event.is_(False),
                    Conference.invite_users.is_(True),
                    Conference.join_url.is_not(None),
                )
                .order_by(Conference.remind_at, Conference.id)
                .limit(REMINDER_BATCH)
            )
        )
    sent = []
    for conference in due:
        read_at, reminded_before = conference.remind_at, conference.reminded_at
        assert read_at is not None  # selected by it
        start = read_at + timedelta(minutes=conference.reminder_minutes)
        late = start <= now
        # Past the start, the next reminder is of the first occurrence still to come (not of each one missed).
        following = occurrences.reminder_after(conference, max(start, now) if late else start)
        if not _claim_reminder(db, conference.id, read_at, start, following):
            continue  # another run has it, or an edit planned it anew
        if late:
            log.info(
                "conference %s: reminder of %s skipped, it has started", conference.id, start.isoformat()
            )
            continue
        if not conference.invitees:
            continue
        try:
            bitrix = bitrix_for(conference)
            commands = {
                f"remind_{user_id}": (
                    "im.notify.system.add",
                    bitrix_text.reminder(conference, user_id, client_id, start),
                )
                for user_id in conference.invitees
            }
            _, errors = run_batches(bitrix, commands)
        except OutsideServiceError as error:
            errors = {"all": error}
        if errors and all(e.transient for e in errors.values()):
            _release_reminder(db, conference.id, (start, following), (read_at, reminded_before))
            log.warning(
                "conference %s: reminder not sent yet (%s)", conference.id, next(iter(errors.values()))
            )
            continue
        log.info(
            "conference %s: reminder of %s sent to %d invitee(s)%s",
            conference.id,
            start.isoformat(),
            len(conference.invitees),
            f", {len(errors)} failed" if errors else "",
        )
        sent.append(conference.id)
    return sent


def _claim_reminder(
    db: Database, conference_id: int, read_at: datetime, start: datetime, following: datetime | None
) -> bool:
    """Takes the reminder of `start` if remind_at is still what was read: reminded_at becomes that start,
    remind_at the next occurrence's reminder (or NULL)."""
    with db.write() as session:
        # An UPDATE answers a CursorResult, which has the rowcount; Session.execute's stubs say Result.
        claimed = cast(
            "CursorResult[Any]",
            session.execute(
                update(Conference)
                .where(Conference.id == conference_id, Conference.remind_at == read_at)
                .values(reminded_at=start, remind_at=following, updated_at=Conference.updated_at)
            ),
        )
        return claimed.rowcount == 1


def _release_reminder(
    db: Database,
    conference_id: int,
    claimed: tuple[datetime, datetime | None],
    before: tuple[datetime, datetime | None],
) -> None:
    """Puts the claim back for a later run, unless an edit has planned the conference's reminders since."""
    start, following = claimed
    read_at, reminded_before = before
    with db.write() as session:
        session.execute(
            update(Conference)
            .where(
                Conference.id == conference_id,
                Conference.reminded_at == start,
                Conference.remind_at.is_(None) if following is None else Conference.remind_at == following,
            )
            .values(remind_at=read_at, reminded_at=reminded_before, updated_at=Conference.updated_at)
        )
