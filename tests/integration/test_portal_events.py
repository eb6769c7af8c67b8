"""Bitrix24 events as the real portal sends them (issue 13: B3, B6).

Sources: an event is sent once: "If your server does not respond or returns an error, the Bitrix24 queue
server will log the failure but will not resend the event" (b24restdocs api-reference/events/index.md, "No
retries"). OnCalendarEntryUpdate / Delete fire for changes made "manually or via calendar.event.update/delete"
(api-reference/calendar/calendar-event/events/index.md), so the app hears its own writes back, late, through
the portal's queue ("Features of Operation"); the emulator sends them so (sandbox/bitrix24/calendar_echoes.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import redis
import requests
from sqlalchemy import func, select, update

from shared.config import load_settings
from shared.crypto import TokenBox
from shared.models import Conference, InboundEvent, Portal, utcnow
from shared.conferences import calendar_sync
from shared.portal.access import BitrixAccess
from tests.support.processes import wait_until

from tests.deploy.test_health_schema import _migrate, web_on  # noqa: F401  (a fixture)

from .stack import WORKERS
from .test_edit_cancel import edit, later, notifications, portal_call, portal_event, ready
from .test_pipeline import meeting, step


def requests_of(stack, method: str) -> int:
    return stack.bitrix_state()["requests"].get(method, 0)


def echoes_wait(stack, seconds: float) -> None:
    """How long the portal's queue holds the events of REST writes (a reset brings back the default)."""
    requests.post(f"{stack.bitrix_url}/_sandbox/echoes", json={"delay_seconds": seconds}, timeout=5).raise_for_status()


def stored_events(database) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(InboundEvent))


def test_an_event_whose_queued_task_redis_lost_is_still_processed(stack, anna, database):
    """B6: the hint lived only in Redis; with Redis's data gone, the deleted event never cancelled anything."""
    before = ready(anna, meeting(invitees=[3]))
    echoes_wait(stack, 60)  # the deletion's own event is delivered once, by hand, below
    portal_call(stack, 2, "calendar.event.delete", {"id": before["calendar_event_id"]})
    for name in WORKERS:
        stack.stop(name)
    try:
        [delivered] = portal_event(stack, "ONCALENDARENTRYDELETE", before["calendar_event_id"])["delivered"]
        assert delivered["status"] == 200, delivered
        redis.Redis(port=stack.redis_port).flushall()  # the task that would have processed it is gone
    finally:
        for name in WORKERS:
            stack.start(name)

    wait_until(lambda: anna.get(before["id"])["status"] == "cancelled", 30, "the stored event processed")
    assert "cancelled" in notifications(stack)[3]
    assert stored_events(database) == 0


def test_an_event_that_cannot_be_stored_is_not_answered_200(web_on):
    """B6: the portal sends an event once, so a 200 must mean it is stored; without its table (the database
    behind the code) the answer is 503, never 200 for an event that lives only in Redis, nor a bare 500."""
    url, client = web_on
    _migrate(url, "0006")
    box = client.application.extensions["box"]
    with client.application.extensions["db"].write() as session:
        session.add(Portal(member_id="m-1", domain="x.bitrix24.ru", client_endpoint="https://x.bitrix24.ru/rest/",
                           application_token_digest=box.digest("app-token")))
    response = client.post("/bitrix/events", data={
        "event": "ONAPPUNINSTALL", "ts": "1800000000",
        "auth[member_id]": "m-1", "auth[application_token]": "app-token"})
    assert response.status_code == 503 and "could not be stored" in response.json["error"]["message"]


def test_the_echo_of_a_first_edit_does_not_undo_a_second_or_tell_anyone(stack, anna, database):
    """B3: the first edit's echo was read while the second edit's write was held back; the conference went
    back to the first edit (a version nobody asked for) and invitees were told of that change."""
    before = ready(anna, meeting(invitees=[3]))
    echoes_wait(stack, 0.5)
    edit(anna, before, name="Second")
    first = anna.wait_final(before["id"])
    stack.bitrix_faults(error_rate=1, status=503, retry_after=1, path="batch")  # the second edit's write waits
    reads = requests_of(stack, "calendar.event.getbyid")
    assert edit(anna, first, name="Third", start_at=later(2)).status_code == 202

    # The first edit's echo arrives, is stored, and is read while the portal still shows "Second".
    wait_until(lambda: requests_of(stack, "calendar.event.getbyid") > reads and stored_events(database) == 0,
               30, "the echo of the first edit processed")
    assert stack.bitrix_state()["events"][0]["name"] == "Second"
    stack.clear_faults()
    after = anna.wait_final(before["id"], timeout=60)

    assert after["status"] == "ready" and after["version"] == 3, after["steps"]
    event = stack.bitrix_state()["events"][0]
    assert (event["name"], event["from"]) == ("Third", after["start_at"])
    assert "Third" in notifications(stack)[3]


def test_a_move_and_a_deletion_whose_events_were_lost_are_found_by_the_reconciliation(stack, anna, database):
    """B6: with an event lost, a moved or deleted calendar event stayed unknown to the app for good. The
    reconciliation reads the owner's linked events in one batch request, with the owner's own pair."""
    moved, deleted = ready(anna, meeting(invitees=[3])), ready(anna, meeting(invitees=[4], name="Retro"))
    admin = requests.post(f"{stack.bitrix_url}/_sandbox/tokens", json={"user_id": 1}, timeout=5).json()["access_token"]
    for event in ("ONCALENDARENTRYUPDATE", "ONCALENDARENTRYDELETE"):  # the portal's events of what follows: lost
        requests.post(f"{stack.bitrix_url}/rest/event.unbind.json", json={"auth": admin, "event": event}, timeout=5)
    start = datetime.fromisoformat(moved["start_at"]) + timedelta(days=1)
    portal_call(stack, 2, "calendar.event.update", {
        "id": moved["calendar_event_id"], "type": "user", "ownerId": 2, "name": moved["name"],
        "from": start.isoformat(), "to": (start + timedelta(minutes=30)).isoformat()})
    portal_call(stack, 2, "calendar.event.delete", {"id": deleted["calendar_event_id"]})
    with database.write() as session:  # earlier tests' conferences, whose events the sandbox reset deleted, wait
        session.execute(update(Conference).where(Conference.id.not_in([moved["id"], deleted["id"]]))
                        .values(calendar_checked_at=utcnow() + timedelta(days=1)))
    settings = load_settings(stack.env, env_file=None)
    access = BitrixAccess(settings, database, TokenBox(settings.secret_key), redis.Redis(port=stack.redis_port),
                          requests.Session())
    batches, reads = requests_of(stack, "batch"), requests_of(stack, "batch:calendar.event.getbyid")

    changed = calendar_sync.reconcile(database, access.client, limit=2)

    assert sorted(changed) == sorted([moved["id"], deleted["id"]])
    assert (requests_of(stack, "batch"), requests_of(stack, "batch:calendar.event.getbyid")) == (batches + 1, reads + 2)
    # The sweeper sends both on: the invitees hear of it.
    after = anna.wait_final(moved["id"])
    assert datetime.fromisoformat(after["start_at"]) == start and after["duration_minutes"] == 30
    assert "changed" in notifications(stack)[3]
    assert anna.wait_final(deleted["id"])["status"] == "cancelled"
    assert "cancelled" in notifications(stack)[4]
    assert step(after, "calendar_event")["state"] == "done"
    assert calendar_sync.reconcile(database, access.client, limit=1) == []  # read again: nothing new


def test_an_uninstall_check_queued_by_an_earlier_release_is_still_done(stack, database):
    """Before events were stored (B6), ONAPPUNINSTALL queued portals.confirm_uninstall(member_id, ts): such a
    message, in Redis at an upgrade, is stored and checked the new way (one app.info with the app's pair)."""
    from celery import Celery

    from shared.jobs import BITRIX_QUEUE, LEGACY_CONFIRM_UNINSTALL_TASK

    with database.read() as session:
        member_id = session.scalars(select(Portal.member_id)).one()
    asked = stack.bitrix_state()["requests"].get("app.info", 0)
    sender = Celery(broker=stack.env["REDIS_URL"])
    sender.send_task(LEGACY_CONFIRM_UNINSTALL_TASK, args=[member_id, 1800000000], queue=BITRIX_QUEUE)
    wait_until(lambda: stack.bitrix_state()["requests"].get("app.info", 0) > asked, 30, "the portal asked")
    wait_until(lambda: stored_events(database) == 0, 10, "the stored hint done")
    with database.read() as session:
        assert session.scalars(select(Portal.installed)).one() is True  # the portal still honours the app
