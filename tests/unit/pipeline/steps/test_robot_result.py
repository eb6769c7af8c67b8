"""robot_result's decisions: the workflow hears the link once, or the room's failure; a lost answer is not
sent twice (shared/pipeline/steps/robot_result.py), after b24restdocs api-reference/bizproc/bizproc-robot/
bizproc-event-send.md (EVENT_TOKEN, RETURN_VALUES, LOG_MESSAGE; ACCESS_DENIED for a token not valid and
current). Whether a second send is refused is not documented: the step is safe both ways (last test)."""
from __future__ import annotations

from shared.clients.errors import PermanentError, TransientError
from shared.models import Conference
from shared.pipeline import runner
from shared.pipeline.step import Answers
from shared.pipeline.steps import robot_result
from shared.portal import robot
from tests.unit.pipeline.fakes import applied, conference, outside

STEP = robot_result.STEP
ROBOT = {"event_token": "tok|A1|x", "code": robot.CODE, "document_id": ["crm", "CCrmDocumentDeal", "DEAL_1"]}


def attempt(made: Conference, results=None, errors=None) -> dict:
    commands = STEP.commands(outside(conference_=made), made, None)
    applied(STEP.record(outside(conference_=made), made, commands, Answers(results=results or {}, errors=errors or {})),
            made)
    return commands


def test_the_link_goes_back_to_the_workflow_once():
    made = conference(robot=ROBOT)
    assert STEP.wanted(made)
    method, params = attempt(made, results={"send": True})["send"]
    assert method == "bizproc.event.send" and params["EVENT_TOKEN"] == "tok|A1|x"
    assert params["RETURN_VALUES"] == {"join_url": made.join_url, "watch_url": "", "conference_id": 7, "error": ""}
    assert not STEP.wanted(made) and STEP.commands(outside(conference_=made), made, None) == {}


def test_a_room_that_failed_for_good_is_an_error_the_workflow_hears():
    made = conference(robot=ROBOT, telemost_id=None, join_url=None,
                      steps={"create_room": "failed"})
    made.steps[0].error = "Telemost refused the token"
    assert runner.runnable(made, STEP)  # what it waits for failed without a room: it runs all the same
    values = STEP.commands(outside(conference_=made), made, None)["send"][1]["RETURN_VALUES"]
    assert values["join_url"] == "" and "Telemost refused the token" in values["error"]


def test_a_transient_failure_is_retried_and_a_refused_first_send_fails():
    made = conference(robot=ROBOT)
    busy = TransientError("bitrix24", "busy")
    outcome = STEP.record(outside(conference_=made), made, {"send": ("bizproc.event.send", {})},
                          Answers(errors={"send": busy}))
    assert outcome.error is busy
    denied = PermanentError("bitrix24", "Access denied!", code="ACCESS_DENIED")
    attempt(made, errors={"send": denied})
    assert STEP.wanted(made)  # not sent: the step fails, for a person to see


def test_after_a_lost_answer_a_refusal_of_the_same_token_means_the_first_send_arrived():
    made = conference(robot=ROBOT)
    commands = STEP.commands(outside(conference_=made), made, None)
    assert STEP.before_sending(made, commands) == {"robot_sending": True}
    made.applied = {**made.applied, "robot_sending": True}  # noted before the batch whose answer was lost
    denied = PermanentError("bitrix24", "Access denied!", code="ACCESS_DENIED")
    attempt(made, errors={"send": denied})
    assert not STEP.wanted(made)
    # Had the portal accepted the second send instead, that is done too.
    again = conference(robot=ROBOT, applied={"robot_sending": True})
    attempt(again, results={"send": True})
    assert not STEP.wanted(again)


def test_what_a_workflow_sends_becomes_the_api_body_and_its_deal_the_crm_record():
    """Values both ways where the docs do not show them: a user as "user_5" or 5, a date as the portal prints
    it or ISO 8601, a Multiple property as a list or as PHP-indexed keys."""
    body = robot.conference_body({"name": " Review ", "start_at": "07.12.2031 15:30:00", "duration_minutes": "45",
                                  "invitees": {"0": "user_3", "1": "5", "2": "user_3"}})
    assert body == {"type": "conference", "name": "Review", "start_at": "2031-12-07T15:30:00+03:00",
                    "timezone": "Europe/Moscow", "duration_minutes": 45, "invitees": [3, 5]}
    assert robot.conference_body({"name": "x", "start_at": "2031-12-07T15:30:00+03:00"})["start_at"] == (
        "2031-12-07T15:30:00+03:00")
    assert robot.conference_body({"name": "x", "type": "broadcast"})["live_stream"] == {"title": "x"}
    assert robot.crm_record(["crm", "CCrmDocumentDeal", "DEAL_12"]) == {"entity_type": "deal", "entity_id": 12}
    assert robot.crm_record({"0": "crm", "1": "CCrmDocumentLead", "2": "LEAD_3"})["entity_type"] == "lead"
    assert robot.crm_record(["lists", "BizprocDocument", "77"]) is None
