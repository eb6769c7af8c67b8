"""Portal tasks: the Bitrix24 events the web stored, checked with the portal before they are believed (DESIGN §5)."""

from __future__ import annotations

import logging

from shared.clients.errors import TransientError
from shared.conferences import portal_events as inbound_events
from shared.jobs import LEGACY_CONFIRM_UNINSTALL_TASK, PROCESS_EVENT_TASK
from shared.pipeline.state import backoff_seconds
from worker.celery_app import app
from worker.context import bitrix_access, database
from worker.tasks.conferences import provision

log = logging.getLogger(__name__)
RETRIES = 5  # then the sweeper sends the stored event again, a while later
RETRY_WAIT_CAP_SECONDS = 10.0  # a countdown waits unacknowledged in Redis: keep it short (shared/jobs.py)


@app.task(name=PROCESS_EVENT_TASK, bind=True, max_retries=RETRIES)
def process_event(self, row_id: int) -> None:
    """One stored event: taken (so an event from now on makes a new row and a later read), checked, then
    deleted. A transient failure puts it back to wait and tries again; the row outlives any message."""
    taken = inbound_events.take(database(), row_id)
    if taken is None:
        return  # done already, or another worker has it
    try:
        changed = inbound_events.process(bitrix_access(), taken)
    except TransientError as error:
        if inbound_events.release(database(), taken) and self.request.retries < RETRIES:
            wait = min(RETRY_WAIT_CAP_SECONDS, backoff_seconds(self.request.retries + 1, error.retry_after))
            raise self.retry(countdown=wait, exc=error) from error
        log.info("Bitrix24 event %s for %s waits for the sweeper: %s", taken.event, taken.subject, error)
        return
    except Exception:
        inbound_events.release(
            database(), taken
        )  # a bug must not lose the event either; attempts are counted
        raise
    inbound_events.done(database(), row_id)
    for conference_id in changed:
        provision.delay(conference_id)


@app.task(name=LEGACY_CONFIRM_UNINSTALL_TASK)
def confirm_uninstall(member_id: str, ts: int) -> None:
    """An uninstall hint queued by a release before events were stored (the task of that name then): it is
    stored now and checked as every other one, so an upgrade with messages in Redis loses none."""
    row_id = inbound_events.store(
        database(), str(member_id), inbound_events.UNINSTALL, "ONAPPUNINSTALL", int(ts)
    )
    if row_id is not None:
        process_event.delay(row_id)
