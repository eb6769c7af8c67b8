"""Beat's periodic jobs: the sweeper, reminders, retention, and keeping idle portals' tokens alive."""

from __future__ import annotations

import logging

from shared import metrics
from shared.conferences import portal_events as inbound_events
from shared.conferences.service import mark_enqueued
from shared.housekeeping.reminders import send_reminders
from shared.housekeeping.retention import forget_idempotency_keys, purge_old
from shared.housekeeping.sweeper import due_conference_ids, queued_messages, resend_after_seconds
from shared.jobs import KEEP_TOKENS_ALIVE_TASK, REMINDERS_TASK, RETENTION_TASK, SWEEP_TASK
from shared.portal import rest_log
from shared.portal.access import keep_alive
from worker.celery_app import app
from worker.context import bitrix_access, database, yandex_accounts
from worker.tasks.conferences import provision
from worker.tasks.portals import process_event

log = logging.getLogger(__name__)


@app.task(name=SWEEP_TASK)
def sweep() -> int:
    metrics.beat(bitrix_access().locks)  # /health shows how long ago a worker last did this
    resend_after = resend_after_seconds(
        app.settings.resend_after_seconds, queued_messages(bitrix_access().locks)
    )
    resend_stored_events(resend_after)
    ids = due_conference_ids(database(), resend_after, app.settings.stale_running_after_seconds)
    for conference_id in ids:
        provision.delay(conference_id)
    mark_enqueued(database(), ids)
    if ids:
        log.info("sweeper sent %d conference(s) back to the queue", len(ids))
    return len(ids)


def resend_stored_events(resend_after: float) -> int:
    """Bitrix24 events the web stored whose task never came, or whose worker died (never lost: B6)."""
    events = inbound_events.due_ids(database(), resend_after)
    for row_id in events:
        process_event.delay(row_id)
    inbound_events.mark_sent(database(), events)
    if events:
        log.info("sweeper sent %d stored Bitrix24 event(s) back to the queue", len(events))
    return len(events)


@app.task(name=KEEP_TOKENS_ALIVE_TASK)
def keep_tokens_alive() -> int:
    renewed = keep_alive(bitrix_access())
    if renewed:
        log.info("renewed %d Bitrix24 token pair(s) before their refresh tokens ran out", renewed)
    # Yandex refresh tokens die with their access tokens: connected accounts are renewed well ahead.
    yandex = yandex_accounts().refresh_ahead()
    if yandex:
        log.info("renewed %d Yandex account token pair(s) well before they run out", yandex)
    return renewed + yandex


@app.task(name=RETENTION_TASK)
def retention() -> int:
    return (
        len(forget_idempotency_keys(database()))
        + len(purge_old(database(), app.settings.retention_days))
        + rest_log.forget_old(database())
    )


@app.task(name=REMINDERS_TASK)
def reminders() -> int:
    access = bitrix_access()
    return len(
        send_reminders(
            database(),
            lambda c: access.client(c.portal, c.owner_id),
            app.settings.bitrix24_client_id or "telemost-bitrix-app",
        )
    )
