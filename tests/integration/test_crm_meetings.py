"""A meeting about a CRM record, or with an employee (issue 16): the record is checked with the portal as the
caller, the meeting lands in its timeline as a to-do with the link and its calendar event is linked to it;
an edit updates the to-do, a cancel marks it cancelled and completes it. Through the real API, worker and
the Bitrix24 emulator's CRM (tests/sandbox/test_bitrix24_crm.py holds it to b24restdocs api-reference/crm/
universal/crm-item-get.md and crm/timeline/activities/todo/...)."""
from __future__ import annotations

from .test_edit_cancel import edit, ready
from .test_pipeline import meeting, step

DEAL = {"entity_type": "deal", "entity_id": 1}


def record(stack, entity_type: str, entity_id: int) -> dict:
    return next(e for e in stack.bitrix_state()["crm"] if (e["entity_type"], e["entity_id"]) == (entity_type, entity_id))


def event_of(stack, event_id: int) -> dict:
    return next(e for e in stack.bitrix_state()["events"] if e["id"] == event_id)


def test_a_record_and_a_person_are_answered_as_the_portal_shows_them_to_the_caller(stack, anna):
    deal = record(stack, "deal", 1)
    answer = anna.request("GET", "/api/bitrix/crm/deal/1")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"entity_type": "deal", "entity_id": 1, "title": deal["title"],
                             "responsible": answer.json()["responsible"]}
    assert answer.json()["responsible"]["id"] == deal["responsible_id"]
    outsider = stack.login(5)  # neither responsible nor observer of the deal
    assert outsider.request("GET", "/api/bitrix/crm/deal/1").status_code == 404
    assert anna.request("GET", "/api/bitrix/crm/deal/999").status_code == 404
    assert anna.request("GET", "/api/bitrix/crm/invoice/1").status_code == 404
    person = anna.request("GET", "/api/bitrix/users/3")
    assert person.status_code == 200 and person.json()["id"] == 3 and person.json()["name"]
    assert anna.request("GET", "/api/bitrix/users/999").status_code == 404


def test_a_meeting_about_a_record_the_caller_may_not_see_is_refused_naming_the_field(stack):
    outsider = stack.login(5)
    answer = outsider.request("POST", "/api/conferences", json=meeting(crm=DEAL))
    assert answer.status_code == 422
    assert answer.json()["error"]["field_codes"]["crm.entity_id"]["code"] == "not_a_visible_record"
    bad = outsider.request("POST", "/api/conferences", json=meeting(crm={"entity_type": "invoice", "entity_id": 1}))
    assert bad.status_code == 422 and "crm.entity_type" in bad.json()["error"]["fields"]
    assert stack.telemost_state()["conferences"] == []  # nothing made


def test_a_meeting_about_a_deal_lands_in_its_timeline_follows_an_edit_and_closes_on_cancel(stack, anna):
    done = ready(anna, meeting(crm=DEAL, invitees=[3]))
    assert done["crm"] == {**DEAL, "title": record(stack, "deal", 1)["title"]}
    assert step(done, "crm_link")["state"] == "done"
    timeline = record(stack, "deal", 1)["timeline"]
    assert len(timeline) == 1
    todo = timeline[0]
    assert done["join_url"] in todo["description"] and "Weekly sync" in todo["title"]
    assert todo["responsible_id"] == 2 and todo["author_id"] == 2 and not todo["completed"]
    # calendar-event-add.md, crm_fields: the event is linked to the deal by its prefixed id.
    assert event_of(stack, done["calendar_event_id"])["crm_fields"] == ["D_1"]

    assert edit(anna, done, name="Weekly sync (moved)", crm=DEAL).status_code == 202
    edited = anna.wait_final(done["id"])
    assert edited["status"] == "ready", edited["steps"]
    timeline = record(stack, "deal", 1)["timeline"]
    assert len(timeline) == 1 and "Weekly sync (moved)" in timeline[0]["title"]

    assert anna.request("DELETE", f"/api/conferences/{done['id']}").status_code == 202
    cancelled = anna.wait_final(done["id"])
    assert cancelled["status"] == "cancelled", cancelled["steps"]
    timeline = record(stack, "deal", 1)["timeline"]
    assert len(timeline) == 1 and timeline[0]["title"].startswith("Cancelled:") and timeline[0]["completed"]
