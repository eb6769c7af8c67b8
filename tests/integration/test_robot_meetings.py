"""A meeting asked for by an automation rule (issue 16): the app registers "Create a Telemost meeting" at
install (bizproc.robot.add), the portal calls its handler as a workflow runs, the handler answers at once,
and the link goes back to the workflow with bizproc.event.send when the room is made; a repeated call makes
no second meeting, and input the meeting cannot be made from comes back as an error. Through the real web,
worker and the Bitrix24 emulator's robots (tests/sandbox/test_bitrix24_robots.py holds them to b24restdocs
api-reference/bizproc/bizproc-robot/...)."""
from __future__ import annotations

from datetime import datetime, timedelta

import requests

from shared.portal import robot
from tests.support.processes import wait_until

from .test_crm_meetings import record


def run_robot(stack, user_id: int = 2, **body) -> dict:
    answer = requests.post(f"{stack.bitrix_url}/_sandbox/robot",
                           json={"code": robot.CODE, "user_id": user_id, **body}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def result_of(stack, event_token: str, timeout: float = 30) -> dict:
    def results() -> list[dict]:
        return [r for r in stack.bitrix_state()["robots"]["results"] if r["event_token"] == event_token]
    wait_until(lambda: bool(results()), timeout, "the workflow hears back")
    return results()[0]


def tomorrow() -> str:
    return (datetime.now() + timedelta(days=1)).replace(hour=11, minute=30).strftime("%d.%m.%Y %H:%M:%S")


def test_the_robot_is_registered_at_install_with_its_handler(stack):
    registered = {r["code"]: r for r in stack.bitrix_state()["robots"]["registered"]}
    assert registered[robot.CODE]["handler"] == f"{stack.web_url}/bitrix/robot"
    assert registered[robot.CODE]["use_subscription"] == "Y"
    assert set(registered[robot.CODE]["return_properties"]) == {"join_url", "watch_url", "conference_id", "error"}


def test_a_workflow_gets_the_link_of_the_meeting_it_asked_for_once_even_when_called_twice(stack):
    """The user has never opened the app: the pair the robot's call brings is what the workers answer with."""
    ran = run_robot(stack, properties={"name": "Client call", "start_at": tomorrow(), "invitees": [3]},
                    document="deal:1")
    assert ran["status"] == 200 and '"accepted":true' in ran["body"].replace(" ", "")
    result = result_of(stack, ran["event_token"])
    values = result["return_values"]
    anna = stack.login(2)
    made = anna.get(int(values["conference_id"]))
    assert made["join_url"] == values["join_url"] and values["error"] == ""
    assert made["owner"]["id"] == 2 and made["name"] == "Client call" and made["invitees"] == [3]
    assert made["crm"]["entity_type"] == "deal" and made["crm"]["entity_id"] == 1  # the workflow's deal
    done = anna.wait_final(made["id"])
    assert done["status"] == "ready", done["steps"]
    assert len(record(stack, "deal", 1)["timeline"]) == 1

    again = run_robot(stack, properties={"name": "Client call", "start_at": tomorrow(), "invitees": [3]},
                      document="deal:1", event_token=ran["event_token"])
    assert again["status"] == 200 and '"repeated":true' in again["body"].replace(" ", "")
    assert len(stack.telemost_state()["conferences"]) == 1  # no second room
    assert len([r for r in stack.bitrix_state()["robots"]["results"] if r["event_token"] == ran["event_token"]]) == 1


def test_input_a_meeting_cannot_be_made_from_comes_back_to_the_workflow_as_an_error(stack):
    ran = run_robot(stack, properties={"name": "Call", "duration_minutes": 45, "start_at": "01.01.2001 10:00"})
    assert ran["status"] == 200
    result = result_of(stack, ran["event_token"])
    assert result["return_values"]["join_url"] == "" and "start_at" in result["return_values"]["error"]
    assert stack.telemost_state()["conferences"] == []


def test_a_forged_call_makes_nothing(stack):
    forged = requests.post(f"{stack.web_url}/bitrix/robot", data={
        "event_token": "x|y|z", "code": robot.CODE, "properties[name]": "Forged",
        "auth[member_id]": stack.bitrix_state()["config"]["member_id"], "auth[application_token]": "guessed",
        "auth[access_token]": "made-up", "auth[domain]": stack.bitrix_state()["config"]["domain"]}, timeout=10)
    assert forged.status_code == 401
    assert requests.post(f"{stack.web_url}/bitrix/robot", data={"code": robot.CODE}, timeout=10).status_code == 400
    assert stack.telemost_state()["conferences"] == []
