"""CONTRACT §6: work survives a killed worker and a Redis that lost its data, through the sweeper."""
from __future__ import annotations

import time
from datetime import timedelta

import redis
import requests

from shared.clients.bitrix24 import php_query
from shared.models import Conference
from shared.pipeline import bitrix_text
from shared.pipeline.steps.calendar_event import calendar_event

from tests.support.processes import wait_until

from .stack import WORKERS
from .test_edit_cancel import edit
from .test_pipeline import meeting, step


def test_a_worker_killed_mid_step_is_recovered_without_a_second_event_or_invitation(stack, anna, database):
    # Bitrix24 answers slowly, so the worker is surely inside the batch when it dies; the portal
    # still makes the event after that (as a real one would): the recovery must find it, not add one.
    stack.bitrix_faults(latency_ms=3000, path="batch")
    created = anna.create(meeting())
    wait_until(lambda: any(s["name"] == "calendar_event" and s["state"] == "running" for s in anna.get(created["id"])["steps"]),
               20, "the calendar step running")
    stack.process("worker-bitrix").kill()
    time.sleep(3.5)  # the portal finishes the batch the dead worker sent
    stack.clear_faults()
    let_the_dead_workers_time_pass(stack, database, created["id"])
    stack.start("worker-bitrix")

    done = anna.wait_final(created["id"], timeout=120)

    assert done["status"] == "ready", done["steps"]
    bitrix = stack.bitrix_state()
    assert len(bitrix["events"]) == 1 and bitrix["events"][0]["id"] == done["calendar_event_id"]
    assert sorted(n["user_id"] for n in bitrix["notifications"]) == [3, 4, 5]
    assert len(stack.telemost_state()["conferences"]) == 1


def let_the_dead_workers_time_pass(stack, database, conference_id: int) -> None:
    """What would otherwise take 40 s: its running steps become stale (started 6 x HTTP_TIMEOUT_SECONDS
    + 10 s ago, shared/pipeline/state.py is_stale) and its sender's leases lapse (15 s, worker/context.py
    senders; tests/integration/test_leases.py shows them lapse)."""
    with database.write() as session:
        for row in session.get(Conference, conference_id).steps:
            if row.state == "running":
                row.started_at -= timedelta(minutes=5)
    leases = redis.Redis(port=stack.redis_port)
    for key in leases.keys("telemost:bitrix-sender:*"):
        leases.delete(key)


def test_work_lost_with_redis_data_is_sent_again_by_the_sweeper(stack, anna):
    for name in WORKERS:
        stack.stop(name)
    try:
        created = anna.create(meeting())
        redis.Redis(port=stack.redis_port).flushall()  # the queued task is gone
    finally:
        for name in WORKERS:
            stack.start(name)

    done = anna.wait_final(created["id"], timeout=90)

    assert done["status"] == "ready"
    assert len(stack.telemost_state()["conferences"]) == 1


def created_with_a_lost_calendar_answer(stack, database, api) -> dict:
    """A conference whose first batch reached the portal, which made the event, while the answer was
    lost: the app saw a failure (told to wait 5 s) and does not know the event's id."""
    stack.bitrix_faults(error_rate=1, status=503, retry_after=5, path="batch", count=1)
    created = api.create(meeting())
    wait_until(lambda: step(api.get(created["id"]), "calendar_event")["attempts"] == 1
               and step(api.get(created["id"]), "calendar_event")["state"] == "pending", 20, "the first batch failed")
    with database.read() as session:
        conference = session.get(Conference, created["id"])
        event = calendar_event(conference)
        invitations = [bitrix_text.invitation(conference, user_id, None) for user_id in conference.invitees]
    token = requests.post(f"{stack.bitrix_url}/_sandbox/tokens", json={"user_id": 2}, timeout=5).json()["access_token"]
    for method, params in [("calendar.event.add", event), *(("im.notify.system.add", i) for i in invitations)]:
        made = requests.post(f"{stack.bitrix_url}/rest/{method}", data=php_query({**params, "auth": token}),
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
        assert made.status_code == 200, made.text
    return created


def test_a_cancel_after_a_lost_calendar_answer_deletes_the_event_the_portal_made_anyway(stack, database, anna):
    created = created_with_a_lost_calendar_answer(stack, database, anna)
    assert anna.request("DELETE", f"/api/conferences/{created['id']}").status_code == 202

    done = anna.wait_final(created["id"], timeout=60)

    assert done["status"] == "cancelled", done["steps"]
    bitrix = stack.bitrix_state()
    assert bitrix["events"] == []
    assert sorted(n["user_id"] for n in bitrix["notifications"] if "cancel" in n["message"].lower()) == [3, 4, 5]


def test_an_edit_after_a_lost_calendar_answer_reaches_the_event_the_portal_made_anyway(stack, database, anna):
    created = created_with_a_lost_calendar_answer(stack, database, anna)
    assert edit(anna, created, name="Weekly sync, moved").status_code == 202

    done = anna.wait_final(created["id"], timeout=60)

    assert done["status"] == "ready", done["steps"]
    events = stack.bitrix_state()["events"]
    assert [(e["id"], e["name"]) for e in events] == [(done["calendar_event_id"], "Weekly sync, moved")]


def first_batch_carried_out_late(stack, api) -> dict:
    """The portal carries the first batch out 8 s after it came, 3 s after the worker (5 s timeout) gave up."""
    stack.bitrix_faults(latency_ms=8000, path="batch")
    created = api.create(meeting())
    wait_until(lambda: step(api.get(created["id"]), "calendar_event")["state"] == "running", 20, "the batch sent")
    time.sleep(1)
    stack.clear_faults()  # only the batch already on its way is slow
    wait_until(lambda: step(api.get(created["id"]), "calendar_event")["attempts"] == 1
               and step(api.get(created["id"]), "calendar_event")["state"] == "pending", 20, "the worker gave up")
    return created


def test_a_request_carried_out_after_the_timeout_is_found_not_made_again(stack, anna):
    created = first_batch_carried_out_late(stack, anna)

    done = anna.wait_final(created["id"], timeout=60)

    assert done["status"] == "ready", done["steps"]
    assert [e["id"] for e in stack.bitrix_state()["events"]] == [done["calendar_event_id"]]


def test_a_cancel_right_after_a_timeout_still_finds_the_event_made_late(stack, anna):
    created = first_batch_carried_out_late(stack, anna)
    assert anna.request("DELETE", f"/api/conferences/{created['id']}").status_code == 202

    done = anna.wait_final(created["id"], timeout=60)

    assert done["status"] == "cancelled", done["steps"]
    assert stack.bitrix_state()["events"] == []
