"""Beat's periodic job: the sweeper."""
from __future__ import annotations

import logging

from shared.jobs import SWEEP_TASK
from shared.services.conferences import mark_enqueued
from shared.services.sweeper import due_conference_ids

from ..celery_app import app
from ..context import database
from .conferences import provision

log = logging.getLogger(__name__)


@app.task(name=SWEEP_TASK)
def sweep() -> int:
    ids = due_conference_ids(database(), app.settings.resend_after_seconds,
                             app.settings.stale_running_after_seconds)
    for conference_id in ids:
        provision.delay(conference_id)
    mark_enqueued(database(), ids)
    if ids:
        log.info("sweeper sent %d conference(s) back to the queue", len(ids))
    return len(ids)
