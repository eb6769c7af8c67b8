"""A new outside effect of a conference is one step module and one line in the registry (CONTRIBUTING.md,
"Adding a step"). Here a step that exists only in this test, a note to the organiser in Bitrix24 with the
room's link, is added to `registry.STEPS` and nothing else: the API makes the conference with it, the
runner claims it, sends its command in the same batch as the calendar event and the invitations (under
its own keys), records it, and the status counts it; an edit reopens it; the sweeper sees it due.

The app and the runner run in this process (tests/support/inprocess.py) so that the patched registry is
the one they read; Telemost and Bitrix24 are the stack's emulators over HTTP. im.notify.system.add with
USER_ID, MESSAGE and TAG follows b24restdocs api-reference/notifications/im-notify-system-add.md, as
the invitations step does.
"""
from __future__ import annotations

import pytest

from shared.housekeeping.sweeper import due_conference_ids
from shared.models import Conference
from shared.pipeline import registry
from shared.pipeline.step import Answers, BitrixStep, Commands, Outcome, Outside, remember
from tests.support.inprocess import in_process

ORGANISER_NOTE = "organiser_note"


class OrganiserNote(BitrixStep):
    """Tells the organiser the room's link once, and again when the link changes."""

    name = ORGANISER_NOTE
    waits_for = "create_room"

    def wanted(self, conference: Conference) -> bool:
        return not conference.cancel_requested

    def commands(self, outside: Outside, conference: Conference, found: object) -> Commands:
        if conference.cancel_requested or (conference.applied or {}).get("organiser_note") == conference.name:
            return {}
        return {"note": ("im.notify.system.add", {
            "USER_ID": conference.owner_id, "MESSAGE": f"Your room for «{conference.name}»: {conference.join_url}",
            # Through a webhook the portal honours TAG only with a CLIENT_ID (reference/bitrix24-rest.md §2).
            "TAG": f"telemost-note|{conference.public_id}", "CLIENT_ID": outside.notify_client_id})}

    def record(self, outside: Outside, conference: Conference, commands: Commands, answers: Answers) -> Outcome:
        if "note" in answers.errors:
            return Outcome(error=answers.errors["note"])
        return Outcome(apply=remember(organiser_note=conference.name) if commands else None)


@pytest.fixture
def app_with_the_step(stack, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "STEPS", (*registry.STEPS, OrganiserNote()))
    app = in_process(tmp_path, telemost_url=stack.telemost_url, bitrix_url=stack.bitrix_url)
    yield app
    app.close()


def notes_to(stack, user_id: int) -> list[str]:
    return [n["message"] for n in stack.bitrix_state()["notifications"]
            if n["user_id"] == user_id and n["message"].startswith("Your room")]


def test_a_step_added_to_the_registry_runs_end_to_end_with_no_other_change(stack, app_with_the_step):
    anna = app_with_the_step.client(user_id=2)
    made = anna.post("/api/conferences", json={
        "name": "Planning", "start_at": "2031-05-06T10:00:00+03:00", "duration_minutes": 30,
        "create_calendar_event": True, "invite_users": True, "invitees": [3]})
    assert made.status_code == 202, made.get_json()
    conference_id = made.get_json()["id"]
    assert [s["name"] for s in made.get_json()["steps"]][-1] == ORGANISER_NOTE
    assert due_conference_ids(app_with_the_step.db, 0, 60) == [conference_id]  # the sweeper would send it

    runner = app_with_the_step.runner()
    batches_before = stack.bitrix_state()["requests"].get("batch", 0)
    assert runner.run(conference_id) is None  # nothing left to run
    done = anna.get(f"/api/conferences/{conference_id}").get_json()

    assert done["status"] == "ready", done["steps"]
    assert {s["name"]: s["state"] for s in done["steps"]} == {
        "create_room": "done", "sync_cohosts": "skipped", "calendar_event": "done", "chat_message": "skipped", "crm_link": "skipped",
        "notify_invitees": "done", "robot_result": "skipped", ORGANISER_NOTE: "done"}
    assert notes_to(stack, 2) == [f"Your room for «Planning»: {done['join_url']}"]
    # One batch carried the event, its read-back, the invitation and the note: the step shared it.
    assert stack.bitrix_state()["requests"].get("batch", 0) - batches_before == 1
    assert done["calendar_event_id"] is not None and done["join_url"]

    renamed = anna.put(f"/api/conferences/{conference_id}", json={**{k: done[k] for k in (
        "name", "start_at", "duration_minutes", "create_calendar_event", "invite_users", "invitees")},
        "name": "Planning, moved"})
    assert renamed.status_code == 202, renamed.get_json()
    assert {s["name"]: s["state"] for s in renamed.get_json()["steps"]}[ORGANISER_NOTE] == "pending"
    runner.run(conference_id)
    assert anna.get(f"/api/conferences/{conference_id}").get_json()["status"] == "ready"
    assert notes_to(stack, 2) == [f"Your room for «Planning, moved»: {done['join_url']}"]  # its TAG replaced it
