"""Beat's retention: Idempotency-Keys forgotten after 24 h, cancelled and failed conferences purged after
RETENTION_DAYS. Each is one conditional statement, so two runs at once do each once; each logs one line."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, update

from shared.conferences.service import IDEMPOTENCY_WINDOW
from shared.db import Database
from shared.models import Conference, ConferenceStatus, utcnow

log = logging.getLogger(__name__)
PURGED_STATUSES = [ConferenceStatus.CANCELLED.value, ConferenceStatus.FAILED.value]


def forget_idempotency_keys(db: Database) -> list[int]:
    """Keys are honoured for 24 h; after that they are removed (and may be used again)."""
    with db.write() as session:
        ids = list(
            session.scalars(
                update(Conference)
                .where(
                    Conference.idempotency_key.is_not(None),
                    Conference.created_at < utcnow() - IDEMPOTENCY_WINDOW,
                )
                .values(idempotency_key=None, updated_at=Conference.updated_at)
                .returning(Conference.id)
            )
        )
    for conference_id in ids:
        log.info("conference %s: Idempotency-Key removed after 24 h", conference_id)
    return ids


def purge_old(db: Database, retention_days: int) -> list[int]:
    """Cancelled and failed conferences older than the retention go, with their steps; ready ones never do."""
    with db.write() as session:
        ids = list(
            session.scalars(
                delete(Conference)
                .where(
                    Conference.status.in_(PURGED_STATUSES),
                    Conference.updated_at < utcnow() - timedelta(days=retention_days),
                )
                .returning(Conference.id)
            )
        )
    for conference_id in ids:
        log.info(
            "conference %s purged: cancelled or failed more than %d days ago", conference_id, retention_days
        )
    return ids
