"""Conference tasks: they carry ids only and read the current state from the database (DESIGN §4 rule 1)."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from shared.conferences.calendar_sync import reconcile
from shared.conferences.service import mark_enqueued
from shared.jobs import MAX_COUNTDOWN_SECONDS, PROVISION_TASK, RECONCILE_CALENDAR_TASK, SYNC_BITRIX_TASK
from shared.limiter.leases import Lease
from shared.logs import about_conference
from shared.models import Conference, utcnow
from shared.pipeline.peers import due_owners, due_peers, room_made
from shared.pipeline.step import Lane
from worker.celery_app import app
from worker.context import bitrix_access, database, runner, senders

log = logging.getLogger(__name__)
SENDER_SECONDS = 20  # a sender hands on after this long: tasks take seconds (shared/jobs.py)
# One sender keeps a portal's bucket full (50 commands a request); a second lets one owner's few conferences
# pass another's burst. More would only hold threads asleep in the portal's rate limiter.
SENDERS_PER_PORTAL = 2


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
    """The calendar event and the invitations, paced by the portal's rate limit.

    One sender at a time per portal and owner (shared/limiter/leases.py): it sends this conference's
    commands with those of the owner's other due conferences in shared batches (shared/pipeline/peers.py)
    while any are due, so a burst fills batches of 50 and holds one worker thread. At most
    SENDERS_PER_PORTAL senders per portal, so a burst of many owners holds that many threads, not all,
    and leaves the others to other portals. A task that finds its owner's sender at work leaves its
    conference to it; one that finds the portal's senders all busy leaves it to the first that leaves,
    which hands on to the owners who have waited longest."""
    with about_conference(conference_id):
        conference = runner().load(conference_id)
        if conference is None:
            return
        if not room_made(conference):  # peers are only those with a room: this one goes alone
            _again_after(runner().run_bitrix(conference_id))
            return
        portal = conference.portal
        with senders().held(f"portal:{portal}", SENDERS_PER_PORTAL) as slot:
            if slot is None:
                return
            with senders().held(f"{portal}:{conference.owner_id}") as own:
                if own is None:
                    return  # its sender hands on as it leaves, so nothing is stranded by this return
                _send_while_due(conference, (slot, own))
        # Let go first, then hand on: a task that saw this sender still there finds it gone.
        for waiting in due_owners(database(), portal, SENDERS_PER_PORTAL):
            sync_bitrix.delay(waiting)


def _send_while_due(conference: Conference, leases: tuple[Lease, ...]) -> None:
    started = time.monotonic()
    next_id: int | None = conference.id
    while next_id is not None:
        for touched in runner().share_bitrix(next_id):
            _again_after(touched)
        for lease in leases:
            lease.renew()
        if time.monotonic() - started > SENDER_SECONDS:
            return  # handed on (above), so that no task runs for minutes
        left = due_peers(database(), conference, 1)
        next_id = left[0] if left else None


def _again_after(conference: Conference | None) -> None:
    if conference is not None:
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
