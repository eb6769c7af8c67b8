"""The settings page's API (issue 17): administrators only, every change recorded, and every later meeting
follows the portal's defaults and its broadcast rule, whether made through the API or by an automation rule.
Through the real web, worker and emulators."""
from __future__ import annotations

import csv
import io

from .test_robot_meetings import result_of, run_robot, tomorrow

NOTES_AND_ADMINS = {
    "defaults": {"waiting_room_level": "ORGANIZATION", "duration_minutes": 30, "reminder_minutes": 5,
                 "auto_summary": True},
    "broadcasts": "admins",
}


def room_of(stack, conference: dict) -> dict:
    return next(room for room in stack.telemost_state()["conferences"] if room["id"] == conference["telemost_id"])


def test_only_an_administrator_sees_and_changes_the_settings_and_each_change_is_recorded(stack, anna, ivan):
    assert anna.request("GET", "/api/settings").status_code == 403
    refused = anna.request("PUT", "/api/settings", json=NOTES_AND_ADMINS)
    assert refused.status_code == 403 and refused.json()["error"]["reason"] == "settings_admin_only"
    assert anna.request("GET", "/api/settings/changes").status_code == 403

    first = ivan.request("GET", "/api/settings").json()
    assert first["defaults"] == {"waiting_room_level": "PUBLIC", "duration_minutes": 60, "reminder_minutes": 15,
                                 "auto_summary": False}
    assert (first["broadcasts"], first["updated_by"]) == ("everyone", None)

    saved = ivan.request("PUT", "/api/settings", json=NOTES_AND_ADMINS)
    assert saved.status_code == 200, saved.text
    assert saved.json()["defaults"] == NOTES_AND_ADMINS["defaults"]
    assert saved.json()["updated_by"] == {"id": 1, "name": "Ivan Petrov"}
    assert ivan.request("PUT", "/api/settings", json=NOTES_AND_ADMINS).status_code == 200  # no change: no record
    bad = ivan.request("PUT", "/api/settings", json={"broadcasts": "nobody", "defaults": {"duration_minutes": 0}})
    assert bad.status_code == 422 and {"broadcasts", "defaults.duration_minutes"} <= set(bad.json()["error"]["fields"])

    changes = ivan.request("GET", "/api/settings/changes").json()
    assert changes["total"] == 1
    assert changes["items"][0]["user"] == {"id": 1, "name": "Ivan Petrov"}
    assert changes["items"][0]["changes"]["defaults.auto_summary"] == {"from": False, "to": True}
    assert changes["items"][0]["changes"]["broadcasts"] == {"from": "everyone", "to": "admins"}


def test_the_service_application_secret_is_write_only_and_never_recorded(stack, ivan):
    without = {**NOTES_AND_ADMINS, "yandex": {"service_app": {"client_id": "service-app"}}}
    assert ivan.request("PUT", "/api/settings", json=without).status_code == 422  # the first time needs it
    given = {**NOTES_AND_ADMINS, "yandex": {"service_app": {"client_id": "service-app", "client_secret": "s3cr3t"}}}
    answer = ivan.request("PUT", "/api/settings", json=given).json()
    assert answer["yandex"]["service_app"] == {"client_id": "service-app", "secret_set": True}
    assert ivan.request("PUT", "/api/settings", json=without).json()["yandex"]["service_app"]["secret_set"]
    changes = ivan.request("GET", "/api/settings/changes").json()["items"][0]["changes"]
    assert changes["yandex.service_app.client_secret"] == {"from": None, "to": "changed"}
    assert "s3cr3t" not in str(ivan.request("GET", "/api/settings/changes").json())


def test_later_meetings_follow_the_defaults_and_the_broadcast_rule_from_the_api_and_the_robot(stack, anna, ivan):
    assert ivan.request("PUT", "/api/settings", json=NOTES_AND_ADMINS).status_code == 200

    made = anna.wait_final(anna.create({"name": "Notes by default"})["id"])
    assert (made["auto_summary"], made["duration_minutes"], made["waiting_room_level"], made["reminder_minutes"]) == (
        True, 30, "ORGANIZATION", 5)
    assert room_of(stack, made)["is_auto_summarization_enabled"] is True
    asked = anna.create({"name": "Said otherwise", "auto_summary": False, "duration_minutes": 90})
    assert (asked["auto_summary"], asked["duration_minutes"]) == (False, 90)  # what is asked wins
    assert anna.request("GET", "/api/settings/defaults").json() == {
        "defaults": NOTES_AND_ADMINS["defaults"], "broadcasts": "admins"}  # the form starts from them
    renamed = anna.request("PUT", f"/api/conferences/{asked['id']}", json={"name": "Renamed only"}).json()
    assert (renamed["auto_summary"], renamed["duration_minutes"]) == (False, 90)  # an edit keeps them

    broadcast = {"type": "broadcast", "name": "Town hall", "live_stream": {"title": "Town hall"}}
    refused = anna.request("POST", "/api/conferences", json=broadcast)
    assert refused.status_code == 403 and refused.json()["error"]["reason"] == "broadcasts_admins_only"
    assert "administrators" in refused.json()["error"]["message"]
    assert ivan.request("POST", "/api/conferences", json=broadcast).status_code == 202

    ran = run_robot(stack, properties={"name": "From the workflow", "start_at": tomorrow()})
    conference_id = result_of(stack, ran["event_token"])["return_values"]["conference_id"]
    from_robot = ivan.request("GET", "/api/conferences?scope=all&q=From+the+workflow").json()["items"][0]
    assert from_robot["id"] == int(conference_id)
    assert (from_robot["auto_summary"], from_robot["duration_minutes"]) == (True, 30)

    exported = ivan.request("GET", "/api/conferences/export.csv?scope=all")
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {"Notes by default", "Town hall", "From the workflow"} <= {row["name"] for row in rows}
    assert anna.request("GET", "/api/conferences/export.csv?scope=all").status_code == 403
