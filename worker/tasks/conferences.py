"""Conference tasks: they carry ids only and read the current state from the database (DESIGN §4 rule 1)."""

from __future__ import annotations

import logging
from datetime import datetime

from shared.conferences.calendar_sync import reconcile
from shared.conferences.service import mark_enqueued
from shared.jobs import MAX_COUNTDOWN_SECONDS, PROVISION_TASK, RECONCILE_CALENDAR_TASK, SYNC_BITRIX_TASK
from shared.logs import about_conference
from shared.models import utcnow
from shared.pipeline.step import Lane
from worker.celery_app import app
from worker.context import bitrix_access, database, runner

log = logging.getLogger(__name__)


@app.task(name=PROVISION_TASK)
def provision(conference_id: int) -> None:
    """The room and its cohosts; then hands the Bitrix24 steps, once they can run, to their own queue."""
    with about_conference(conference_id):
        conference = runner().run_telemost(conference_id)
        if conference is not None:
            _again(sync_bitrix, conference_id, runner().due(conference, Lane.BITRIX24))
            _again(provision, conference_id, runner().due(conference, Lane.TELEMOST))


@app.task(name=SYNC_BITRIX_TASK)
def sync_bitrix(conference_id: int) -> None:
    """The calendar event and the invitations, paced by the portal's rate limit; other conferences of the
    same portal and owner that are due ride in the same batch requests (shared/pipeline/peers.py)."""
    with about_conference(conference_id):
        for conference in runner().share_bitrix(conference_id):
            _again(sync_bitrix, conference.id, runner().due(conference, Lane.BITRIX24))


def _again(task, conference_id: int, due: datetime | None) -> None:
    if due is None:
        return
    wait = max(0.0, (due - utcnow()).total_seconds())
    if wait > MAX_COUNTDOWN_SECONDS:
        return  # the sweeper sends it when due; a long countdown would sit unacknowledged in Redis
    task.apply_async(args=[conference_id], countdown=wait)
    mark_enqueued(database(), [conference_id])


@app.task(name=RECONCILE_CALENDAR_TASK)
def reconcile_calendar() -> int:
    """Beat: linked calendar events of upcoming conferences, read back with their owners' own pairs, in case
    the portal's event of a move or a deletion was lost (it sends none twice); then invitees hear of it."""
    access = bitrix_access()
    changed = reconcile(database(), access.client)
    for conference_id in changed:
        provision.delay(conference_id)
    if changed:
        log.info("calendar reconciliation: %d conference(s) follow their calendar events", len(changed))
    return len(changed)
