"""crm_link's decisions: one to-do per record, updated on change, cancelled and completed on cancel or move, a
lost add found again (shared/pipeline/steps/crm_link.py). The calls follow b24restdocs api-reference/crm/
timeline/activities/todo/crm-activity-todo-add.md and crm-activity-todo-update.md (ownerTypeId, ownerId,
deadline required; answer {"id"}), activity-base/crm-activity-update.md (COMPLETED) and crm-activity-list.md
(filter with the % LIKE prefix); the emulator meets them in tests/integration/test_crm_meetings.py."""
from __future__ import annotations

from shared.clients.errors import TransientError
from shared.pipeline.step import Answers
from shared.pipeline.steps import calendar_event, crm_link
from tests.unit.pipeline.fakes import FakeBitrix, applied, conference, outside

STEP = crm_link.STEP
DEAL = {"entity_type": "deal", "entity_id": 5, "title": "Supply", "responsible_id": 3}


def run(made, found=None, results=None, errors=None):
    commands = STEP.commands(outside(conference_=made), made, found)
    answers = Answers(results=results if results is not None else {
        k: {"id": 901} if k == "add" else True for k in commands}, errors=errors or {})
    applied(STEP.record(outside(conference_=made), made, commands, answers), made)
    return commands


def test_a_meeting_about_a_deal_gets_one_todo_with_its_link_at_its_time():
    made = conference(crm=DEAL)
    assert STEP.wanted(made)
    method, params = run(made)["add"]
    assert method == "crm.activity.todo.add"
    assert (params["ownerTypeId"], params["ownerId"], params["responsibleId"]) == (2, 5, 2)  # deal = 2
    assert params["deadline"] == "2031-05-06T07:00:00+00:00" and made.join_url in params["description"]
    assert params["title"] == "Meeting in Yandex Telemost: Planning"
    assert made.applied["crm_todos"] == [{"entity_type": "deal", "entity_id": 5, "activity_id": 901,
                                          "shows": made.applied["crm_todos"][0]["shows"]}]
    assert run(made) == {}  # nothing changed: nothing sent


def test_an_edit_updates_the_todo_and_a_cancel_marks_it_cancelled_and_completes_it():
    made = conference(crm=DEAL)
    run(made)
    made.name = "Planning, moved"
    update = run(made)["update_0"]
    assert update[0] == "crm.activity.todo.update" and update[1]["id"] == 901
    assert (update[1]["ownerTypeId"], update[1]["ownerId"]) == (2, 5) and "moved" in update[1]["title"]
    made.cancel_requested = True
    commands = run(made)
    assert commands["update_0"][1]["title"].startswith("Cancelled:")
    assert commands["complete_0"] == ("crm.activity.update", {"id": 901, "fields": {
        "OWNER_TYPE_ID": 2, "OWNER_ID": 5, "RESPONSIBLE_ID": 2, "COMPLETED": "Y"}})
    assert run(made) == {}


def test_a_move_to_another_record_cancels_the_old_todo_and_adds_one_there():
    made = conference(crm=DEAL)
    run(made)
    made.crm = {"entity_type": "lead", "entity_id": 8, "title": "Inquiry", "responsible_id": None}
    commands = run(made, results={"update_0": True, "complete_0": True, "add": {"id": 902}})
    assert commands["add"][1]["ownerTypeId"] == 1 and commands["update_0"][1]["title"].startswith("Cancelled:")
    assert [(t["entity_type"], t["activity_id"]) for t in made.applied["crm_todos"]] == [("deal", 901), ("lead", 902)]


def test_an_add_whose_answer_was_lost_is_noted_then_found_by_its_link_and_never_made_twice():
    made = conference(crm=DEAL)
    commands = STEP.commands(outside(conference_=made), made, None)
    assert STEP.before_sending(made, commands) == {"crm_adding": {"entity_type": "deal", "entity_id": 5}}
    made.applied = {**made.applied, "crm_adding": {"entity_type": "deal", "entity_id": 5}}
    lost = TransientError("bitrix24", "timed out")
    applied(STEP.record(outside(conference_=made), made, commands, Answers(errors={"add": lost})), made)
    assert made.applied["crm_adding"] == {"entity_type": "deal", "entity_id": 5}
    portal = FakeBitrix({"crm.activity.list": [{"ID": "77", "DESCRIPTION": f"Join: {made.join_url}"}]})
    found = STEP.recover(outside(bitrix=portal, conference_=made), made)
    assert found == {"entity_type": "deal", "entity_id": 5, "activity_id": 77, "shows": None}
    assert list(run(made, found=found)) == ["update_0"]  # brought up to date, not added again
    assert made.applied["crm_todos"][0]["activity_id"] == 77 and made.applied["crm_adding"] is None


def test_a_failed_completion_is_sent_again():
    made = conference(crm=DEAL)
    run(made)
    made.cancel_requested = True
    commands = STEP.commands(outside(conference_=made), made, None)
    busy = TransientError("bitrix24", "busy")
    outcome = STEP.record(outside(conference_=made), made, commands,
                          Answers(results={"update_0": True}, errors={"complete_0": busy}))
    assert outcome.error is busy
    applied(outcome, made)
    assert set(STEP.commands(outside(conference_=made), made, None)) == {"update_0", "complete_0"}


def test_the_calendar_event_is_linked_to_the_record_by_its_prefixed_id():
    """calendar-event-add.md: crm_fields, CRM identifiers with prefixes (crm/data-types.md: D_ a deal)."""
    made = conference(crm=DEAL, create_calendar_event=True)
    assert calendar_event.calendar_event(made)["crm_fields"] == ["D_5"]
    assert "crm_fields" not in calendar_event.calendar_event(conference())


def test_a_todo_someone_completed_in_the_crm_is_left_as_it_is():
    """crm-activity-todo-update.md: CAN_NOT_UPDATE_COMPLETED_TODO, "Completed activity cannot be modified"."""
    from shared.clients.errors import PermanentError

    made = conference(crm=DEAL)
    run(made)
    made.name = "Renamed"
    closed = PermanentError("bitrix24", "Completed activity cannot be modified", code="CAN_NOT_UPDATE_COMPLETED_TODO")
    commands = STEP.commands(outside(conference_=made), made, None)
    outcome = STEP.record(outside(conference_=made), made, commands, Answers(errors={"update_0": closed}))
    assert outcome.error is None
    applied(outcome, made)
    assert STEP.commands(outside(conference_=made), made, None) == {}
