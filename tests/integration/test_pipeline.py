"""A conference from POST to its final state, through real Redis, a real worker and the emulators."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

SANDBOX_USERS = {3: "sergey.ivanov@example.com", 4: "olga.kuznetsova@example.com", 5: "dmitry.sokolov@example.com"}


def tomorrow_at_ten() -> str:
    day = datetime.now(timezone(timedelta(hours=3))) + timedelta(days=1)
    return day.replace(hour=10, minute=0, second=0, microsecond=0).isoformat()


def meeting(**overrides) -> dict:
    body = {"name": "Weekly sync", "description": "Plans for the week", "start_at": tomorrow_at_ten(),
            "duration_minutes": 45, "timezone": "Europe/Moscow", "waiting_room_level": "ORGANIZATION",
            "cohosts": ["anna@example.com", "boris@yandex.ru"], "invitees": [3, 4, 5]}
    body.update(overrides)
    return body


def step(conference: dict, name: str) -> dict:
    return next(s for s in conference["steps"] if s["name"] == name)


def test_meeting_with_cohosts_calendar_and_invitees_becomes_ready(stack, anna):
    created = anna.create(meeting())
    assert created["status"] == "pending"
    # The page says what a waiting step waits for and how much a step did (issue 15).
    assert step(created, "sync_cohosts")["waits_for"] == "create_room"
    assert step(created, "create_room")["waits_for"] is None
    assert step(created, "sync_cohosts")["done_count"] == 0

    done = anna.wait_final(created["id"])
    assert step(done, "sync_cohosts")["done_count"] == 2
    assert step(done, "notify_invitees")["done_count"] == 3
    assert step(done, "calendar_event")["done_count"] is None

    assert done["status"] == "ready", done["steps"]
    assert done["join_url"].startswith("https://telemost.yandex.ru/j/")
    rooms = stack.telemost_state()["conferences"]
    assert len(rooms) == 1
    assert rooms[0]["id"] == done["telemost_id"]
    assert sorted(rooms[0]["cohosts"]) == ["anna@example.com", "boris@yandex.ru"]
    assert rooms[0]["waiting_room_level"] == "ORGANIZATION"
    bitrix = stack.bitrix_state()
    events = bitrix["events"]
    assert len(events) == 1 and events[0]["id"] == done["calendar_event_id"]
    assert done["join_url"] in events[0]["description"]
    assert events[0]["owner_id"] == 2 and events[0]["timezone_from"] == "Europe/Moscow"
    assert events[0]["from"] == created["start_at"]
    # Made with Anna's own token (from her launch): she is the organiser, the invitees attend.
    assert events[0]["host_id"] == 2
    assert sorted(a["user_id"] for a in events[0]["attendees"]) == [2, 3, 4, 5]
    assert sorted(n["user_id"] for n in bitrix["notifications"]) == [3, 4, 5]
    assert all(done["join_url"] in n["message"] for n in bitrix["notifications"])


def test_calendar_event_and_invitations_travel_in_one_batch(stack, anna):
    before = stack.bitrix_state()["requests"]
    done = anna.wait_final(anna.create(meeting())["id"])

    seen = stack.bitrix_state()["requests"]
    assert done["status"] == "ready"
    assert seen.get("batch", 0) - before.get("batch", 0) == 1
    assert (seen.get("batch:calendar.event.add"), seen.get("batch:im.notify.system.add")) == (1, 3)
    assert "calendar.event.add" not in seen and "im.notify.system.add" not in seen


def test_broadcast_gets_a_watch_url(stack, anna):
    body = {"type": "broadcast", "name": "All hands",
            "live_stream": {"title": "All hands", "description": "Quarterly results", "access_level": "ORGANIZATION"}}
    done = anna.wait_final(anna.create(body)["id"])

    assert done["status"] == "ready"
    assert done["watch_url"].startswith("https://telemost.yandex.ru/live/")
    room = stack.telemost_state()["conferences"][0]
    assert room["live_stream"]["title"] == "All hands"
    assert room["live_stream"]["access_level"] == "ORGANIZATION"


def test_conference_without_time_or_invitees_needs_only_a_room(stack, anna):
    done = anna.wait_final(anna.create({"name": "Quick call"})["id"])

    assert done["status"] == "ready"
    assert [s["state"] for s in done["steps"]] == ["done", "skipped", "skipped", "skipped", "skipped",
                                                      "skipped", "skipped"]
    assert stack.bitrix_state()["events"] == []


def test_idempotency_key_repeat_returns_the_same_conference_and_makes_no_second_room(stack, anna):
    headers = {"Idempotency-Key": "create-weekly-sync-1"}
    first = anna.request("POST", "/api/conferences", json=meeting(), headers=headers)
    second = anna.request("POST", "/api/conferences", json=meeting(), headers=headers)

    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]
    anna.wait_final(first.json()["id"])
    assert len(stack.telemost_state()["conferences"]) == 1


def test_the_same_key_from_another_user_is_another_conference(stack, anna, ivan):
    headers = {"Idempotency-Key": "shared-key"}
    a = anna.request("POST", "/api/conferences", json={"name": "A"}, headers=headers)
    b = ivan.request("POST", "/api/conferences", json={"name": "B"}, headers=headers)

    assert (a.status_code, b.status_code) == (202, 202)
    assert a.json()["id"] != b.json()["id"]


@pytest.mark.parametrize("status, retry_after", [(500, None), (503, None), (429, 1)])
def test_a_burst_of_transient_telemost_errors_ends_ready_with_one_room(stack, anna, status, retry_after):
    stack.telemost_faults(error_rate=1.0, status=status, count=3,
                          **({"retry_after": retry_after} if retry_after else {}))

    done = anna.wait_final(anna.create(meeting(invitees=[]))["id"])

    assert done["status"] == "ready"
    assert step(done, "create_room")["attempts"] == 4
    assert len(stack.telemost_state()["conferences"]) == 1


def test_telemost_timeouts_are_retried(stack, anna):
    stack.telemost_faults(timeout_rate=1.0, hang_ms=6000, count=1)

    done = anna.wait_final(anna.create({"name": "Slow day"})["id"], timeout=60)

    assert done["status"] == "ready"
    assert step(done, "create_room")["attempts"] == 2


def test_a_permanent_refusal_fails_at_once_and_retry_after_the_fix_ends_ready(stack, anna):
    stack.telemost_faults(error_rate=1.0, status=403)
    created = anna.create(meeting())

    failed = anna.wait_final(created["id"])
    assert failed["status"] == "failed"
    room_step = step(failed, "create_room")
    assert room_step["state"] == "failed" and room_step["attempts"] == 1
    assert "Yandex 360 for Business" in room_step["error"]
    time.sleep(4)  # several sweeps: none of them picks up a permanent failure
    assert step(anna.get(created["id"]), "create_room")["attempts"] == 1

    stack.telemost_faults()
    retried = anna.request("POST", f"/api/conferences/{created['id']}/retry")
    assert retried.status_code == 202
    done = anna.wait_final(created["id"])
    assert done["status"] == "ready"
    assert step(done, "create_room")["error"] is None
    assert len(stack.telemost_state()["conferences"]) == 1


def test_an_unknown_cohost_is_named_and_costs_not_the_room(stack, anna):
    # yandex.com/dev/telemost/doc/ru/cohosts-add: NoSuchUserPrincipalsFound names the addresses (finding Y3).
    done = anna.wait_final(anna.create(meeting(cohosts=["ghost@nowhere.example"]))["id"])

    assert done["status"] == "partially_failed" and done["join_url"]
    assert step(done, "create_room")["state"] == "done"
    assert "ghost@nowhere.example" in step(done, "sync_cohosts")["error"]


def test_bitrix_rate_limit_is_retried_and_the_event_is_made_once(stack, anna):
    stack.bitrix_faults(error_rate=1.0, status=503, count=2, path="batch")

    done = anna.wait_final(anna.create(meeting())["id"])

    assert done["status"] == "ready", stack.bitrix_state()["requests"]
    # Each step retries on its own jittered schedule, so which of them met the two 503s varies.
    assert step(done, "calendar_event")["attempts"] + step(done, "notify_invitees")["attempts"] >= 4
    assert len(stack.bitrix_state()["events"]) == 1
    assert len(stack.bitrix_state()["notifications"]) == 3


def test_a_failed_calendar_step_leaves_the_room_usable(stack, anna):
    stack.bitrix_faults(error_rate=1.0, status=403, path="batch")

    done = anna.wait_final(anna.create(meeting())["id"])

    assert done["status"] == "partially_failed"
    assert done["join_url"]
    assert step(done, "calendar_event")["state"] == "failed"
    assert step(done, "calendar_event")["error"]


def test_a_conference_saved_while_redis_is_down_is_finished_by_the_sweeper(stack, anna):
    stack.stop("redis")
    try:
        response = anna.request("POST", "/api/conferences", json=meeting())
        assert response.status_code == 202
        assert anna.get(response.json()["id"])["status"] == "pending"
    finally:
        stack.start("redis")

    done = anna.wait_final(response.json()["id"], timeout=90)

    assert done["status"] == "ready"
    assert len(stack.telemost_state()["conferences"]) == 1
