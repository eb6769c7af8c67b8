"""Conference tasks: they carry ids only and read the current state from the database (DESIGN §4 rule 1)."""
from __future__ import annotations

import logging

from shared.clients.errors import OutsideServiceError
from shared.logs import about_conference
from shared.jobs import MAX_COUNTDOWN_SECONDS, PROVISION_TASK, PULL_CALENDAR_TASK
from shared.services.calendar_sync import pull_event_change
from shared.models import utcnow
from shared.services.conferences import mark_enqueued

from ..celery_app import app
from ..context import bitrix_access, database, provisioner

log = logging.getLogger(__name__)


@app.task(name=PROVISION_TASK)
def provision(conference_id: int) -> None:
    with about_conference(conference_id):
        _provision(conference_id)


def _provision(conference_id: int) -> None:
    due = provisioner().run(conference_id)
    if due is None:
        return
    wait = max(0.0, (due - utcnow()).total_seconds())
    if wait > MAX_COUNTDOWN_SECONDS:
        return  # the sweeper sends it when due; a long countdown would sit unacknowledged in Redis
    provision.apply_async(args=[conference_id], countdown=wait)
    mark_enqueued(database(), [conference_id])


@app.task(name=PULL_CALENDAR_TASK, autoretry_for=(OutsideServiceError,), retry_backoff=True, max_retries=5)
def pull_calendar_change(conference_id: int) -> None:
    """An event moved in Bitrix24: bring the conference along, then let the pipeline tell the invitees."""
    access = bitrix_access()
    with about_conference(conference_id):
        if pull_event_change(database(), lambda c: access.client(c.portal, c.owner_id), conference_id):
            provision.delay(conference_id)
