"""PUT and DELETE reach the room, the cohosts, the calendar and every invitee (issue: edit and cancel)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from tests.support.processes import wait_until

from .test_pipeline import meeting, step


def later(hours: int) -> str:
    return (datetime.fromisoformat(meeting()["start_at"]) + timedelta(hours=hours)).isoformat()


def ready(api, body: dict) -> dict:
    done = api.wait_final(api.create(body)["id"])
    assert done["status"] == "ready", done["steps"]
    return done


def edit(api, conference: dict, **changes) -> requests.Response:
    body = {k: conference[k] for k in ("type", "name", "description", "start_at", "duration_minutes", "timezone",
                                       "waiting_room_level", "live_stream", "cohosts", "invitees",
                                       "create_calendar_event", "invite_users")}
    return api.request("PUT", f"/api/conferences/{conference['id']}", json={**body, **changes})


def notifications(stack) -> dict[int, str]:
    return {n["user_id"]: n["message"] for n in stack.bitrix_state()["notifications"]}


def test_an_edit_reaches_the_room_the_cohosts_the_calendar_and_each_invitee(stack, anna):
    before = ready(anna, meeting(cohosts=["anna@example.com", "boris@yandex.ru"], invitees=[3, 4, 5]))

    response = edit(anna, before, name="Weekly sync (moved)", start_at=later(1), waiting_room_level="ADMINS",
                    cohosts=["boris@yandex.ru", "clara@example.com"], invitees=[4, 5, 6])
    assert response.status_code == 202 and response.json()["status"] == "syncing"
    after = anna.wait_final(before["id"])

    assert after["status"] == "ready" and after["version"] == 2, after["steps"]
    room = stack.telemost_state()["conferences"][0]
    assert room["waiting_room_level"] == "ADMINS"
    assert sorted(room["cohosts"]) == ["boris@yandex.ru", "clara@example.com"]
    event = stack.bitrix_state()["events"][0]
    assert event["name"] == "Weekly sync (moved)" and event["from"] == after["start_at"]
    assert sorted(a["user_id"] for a in event["attendees"]) == [2, 4, 5, 6]
    told = notifications(stack)
    assert "no longer invites" in told[3]
    assert "changed" in told[4] and "changed" in told[5]
    assert "invites you" in told[6]
    assert len(stack.bitrix_state()["notifications"]) == 4  # one each: the TAG replaces earlier ones


def test_an_edit_that_changes_neither_time_nor_link_does_not_disturb_invitees(stack, anna):
    before = ready(anna, meeting(invitees=[3]))
    first_message = notifications(stack)[3]

    edit(anna, before, description="New agenda")
    anna.wait_final(before["id"])

    assert notifications(stack)[3] == first_message


def test_an_unknown_cohost_is_named_and_the_rest_of_the_edit_is_applied(stack, anna):
    before = ready(anna, meeting(cohosts=["anna@example.com"], invitees=[]))

    edit(anna, before, cohosts=["anna@example.com", "ghost@nowhere.example", "clara@example.com"])
    after = anna.wait_final(before["id"])

    assert after["status"] == "partially_failed"
    assert "ghost@nowhere.example" in step(after, "sync_cohosts")["error"]
    assert sorted(stack.telemost_state()["conferences"][0]["cohosts"]) == ["anna@example.com", "clara@example.com"]


def test_two_quick_edits_end_in_the_last_one(stack, anna):
    before = ready(anna, meeting(invitees=[3]))
    stack.bitrix_faults(latency_ms=1500, path="batch")

    assert edit(anna, before, name="Second").status_code == 202
    wait_until(lambda: step(anna.get(before["id"]), "calendar_event")["state"] == "running", 20, "edit running")
    assert edit(anna, before, name="Third", start_at=later(2)).status_code == 202
    after = anna.wait_final(before["id"], timeout=90)

    assert after["status"] == "ready" and after["version"] == 3
    event = stack.bitrix_state()["events"][0]
    assert (event["name"], event["from"]) == ("Third", after["start_at"])


def test_a_broadcasts_live_stream_follows_an_edit(stack, anna):
    before = ready(anna, {"type": "broadcast", "name": "Town hall", "live_stream": {"title": "Old title"}})
    edit(anna, before, live_stream={"title": "New title", "access_level": "ORGANIZATION"})
    anna.wait_final(before["id"])
    live = stack.telemost_state()["conferences"][0]["live_stream"]
    assert (live["title"], live["access_level"]) == ("New title", "ORGANIZATION")


def test_the_type_cannot_change_and_a_bad_body_changes_nothing(stack, anna):
    before = ready(anna, {"name": "Plain"})
    response = edit(anna, before, type="broadcast", live_stream={"title": "x"})
    assert response.status_code == 422 and "type" in response.json()["error"]["fields"]
    assert edit(anna, before, name="").status_code == 422
    assert anna.get(before["id"])["version"] == 1


def test_cancel_deletes_the_event_tells_invitees_and_closes_the_room(stack, anna):
    before = ready(anna, meeting(cohosts=["boris@yandex.ru"], invitees=[3, 4]))

    response = anna.request("DELETE", f"/api/conferences/{before['id']}")
    assert response.status_code == 202 and response.json()["status"] == "cancelling"
    after = anna.wait_final(before["id"])

    assert after["status"] == "cancelled" and after["calendar_event_id"] is None
    assert stack.bitrix_state()["events"] == []
    assert all("cancelled" in message for message in notifications(stack).values())
    room = stack.telemost_state()["conferences"][0]
    assert room["waiting_room_level"] == "ADMINS" and room["cohosts"] == []
    assert edit(anna, after, name="Too late").status_code == 409
    assert anna.request("DELETE", f"/api/conferences/{before['id']}").status_code == 202
    assert anna.get(before["id"])["status"] == "cancelled"
    assert anna.get(before["id"]) in anna.request("GET", "/api/conferences?status=cancelled").json()["items"]


def test_cancel_while_creation_is_running_ends_cancelled_with_nothing_left_open(stack, anna):
    stack.telemost_faults(latency_ms=2000)
    created = anna.create(meeting(cohosts=["boris@yandex.ru"], invitees=[3, 4]))
    wait_until(lambda: step(anna.get(created["id"]), "create_room")["state"] == "running", 20, "creation running")

    anna.request("DELETE", f"/api/conferences/{created['id']}")
    after = anna.wait_final(created["id"], timeout=90)

    assert after["status"] == "cancelled", after["steps"]
    assert stack.bitrix_state()["events"] == []
    assert all("cancelled" in message for message in notifications(stack).values())
    for room in stack.telemost_state()["conferences"]:
        assert room["waiting_room_level"] == "ADMINS" and room["cohosts"] == []


def test_an_event_already_gone_from_the_calendar_counts_as_deleted(stack, anna):
    before = ready(anna, meeting(invitees=[]))
    token = requests.post(f"{stack.bitrix_url}/_sandbox/tokens", json={"user_id": 2}).json()["access_token"]
    gone = requests.post(f"{stack.bitrix_url}/rest/calendar.event.delete.json",
                         json={"id": before["calendar_event_id"], "auth": token})
    assert gone.json().get("result") is True

    anna.request("DELETE", f"/api/conferences/{before['id']}")
    after = anna.wait_final(before["id"])

    assert after["status"] == "cancelled"
    assert step(after, "calendar_event")["state"] == "done"


# --- changes made in the Bitrix24 calendar --------------------------------------------------------

def portal_call(stack, user_id: int, method: str, params: dict) -> dict:
    token = requests.post(f"{stack.bitrix_url}/_sandbox/tokens", json={"user_id": user_id}).json()["access_token"]
    answer = requests.post(f"{stack.bitrix_url}/rest/{method}.json", json={**params, "auth": token}).json()
    assert "error" not in answer, answer
    return answer


def portal_event(stack, event: str, event_id: int, user_id: int = 2) -> list:
    response = requests.post(f"{stack.bitrix_url}/_sandbox/events",
                             json={"event": event, "data": {"id": event_id}, "user_id": user_id})
    assert response.status_code == 200, response.text
    return response.json()


def test_deleting_the_event_in_bitrix24_cancels_the_conference(stack, anna):
    before = ready(anna, meeting(invitees=[3]))
    portal_call(stack, 2, "calendar.event.delete", {"id": before["calendar_event_id"]})
    portal_event(stack, "ONCALENDARENTRYDELETE", before["calendar_event_id"])

    # The event is a hint: the worker reads the event from the portal, finds it gone, then cancels.
    wait_until(lambda: anna.get(before["id"])["version"] == 2, 30, "the conference follows the calendar")
    after = anna.wait_final(before["id"])

    assert after["status"] == "cancelled"
    assert "cancelled" in notifications(stack)[3]
    assert stack.telemost_state()["conferences"][0]["waiting_room_level"] == "ADMINS"


def test_moving_the_event_in_bitrix24_moves_the_conference_and_tells_invitees(stack, anna):
    before = ready(anna, meeting(invitees=[3], duration_minutes=45))
    moved = datetime.fromisoformat(before["start_at"]) + timedelta(days=1)
    portal_call(stack, 2, "calendar.event.update", {
        "id": before["calendar_event_id"], "type": "user", "ownerId": 2, "name": before["name"],
        "from": moved.isoformat(), "to": (moved + timedelta(minutes=90)).isoformat()})
    portal_event(stack, "ONCALENDARENTRYUPDATE", before["calendar_event_id"])

    wait_until(lambda: anna.get(before["id"])["version"] == 2, 30, "the conference follows the calendar")
    after = anna.wait_final(before["id"])

    assert datetime.fromisoformat(after["start_at"]) == moved and after["duration_minutes"] == 90
    assert after["status"] == "ready"
    assert "changed" in notifications(stack)[3]


def test_a_calendar_event_without_the_application_token_changes_nothing(stack, anna):
    before = ready(anna, meeting(invitees=[]))
    launch = stack.launch(2)
    forged = requests.post(f"{stack.web_url}/bitrix/events", data={
        "event": "ONCALENDARENTRYDELETE", "data[id]": str(before["calendar_event_id"]), "ts": "1",
        "auth[member_id]": launch["form"]["member_id"], "auth[application_token]": "guess"})
    assert forged.status_code == 401
    assert anna.get(before["id"])["status"] == "ready"
