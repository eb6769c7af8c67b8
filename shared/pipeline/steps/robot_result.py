"""robot_result: the answer to the automation rule that asked for the meeting, sent back to its workflow with
bizproc.event.send once the room is made (its join link), or once the room has failed for good (an error
the workflow can show). b24restdocs api-reference/bizproc/bizproc-robot/bizproc-event-send.md: EVENT_TOKEN
from the handler's call, RETURN_VALUES by the RETURN_PROPERTIES registered (shared/portal/robot.py), and
ACCESS_DENIED for a token that is not valid and current.

Sent once. Whether a second send with the same token is accepted is not documented: after an attempt whose
answer was lost ("robot_sending" noted before the batch), an ACCESS_DENIED is taken as the sign that the
first one arrived, and the step is done; a first attempt refused so is a failure (the token has expired).
"""

from __future__ import annotations

from shared.clients.errors import PermanentError
from shared.models import Conference
from shared.pipeline.step import Answers, BitrixStep, Commands, Outcome, Outside, remember
from shared.pipeline.steps import room

NAME = "robot_result"
LOG_MADE = "Telemost meeting created: {url}"
ROOM_FAILED = "The Telemost room could not be created: {why}"
CANCELLED = "The meeting was cancelled before its room was made"


def _sent(conference: Conference) -> bool:
    return bool((conference.applied or {}).get("robot_sent"))


def return_values(conference: Conference) -> tuple[dict, str]:
    if conference.join_url:
        values = {
            "join_url": conference.join_url,
            "watch_url": conference.watch_url or "",
            "conference_id": conference.id,
            "error": "",
        }
        return values, LOG_MADE.format(url=conference.join_url)
    failed = next((s for s in conference.steps if s.name == room.NAME), None)
    why = (failed.error if failed is not None else None) or "unknown error"
    error = CANCELLED if conference.cancel_requested else ROOM_FAILED.format(why=why)
    return {"join_url": "", "watch_url": "", "conference_id": conference.id, "error": error}, error


class RobotResultStep(BitrixStep):
    name = NAME
    waits_for = room.NAME
    runs_after_failure = True  # a room that failed for good is an answer the workflow must hear too

    def wanted(self, conference: Conference) -> bool:
        return bool(conference.robot) and not _sent(conference)

    def commands(self, outside: Outside, conference: Conference, found: None) -> Commands:
        if not self.wanted(conference):
            return {}
        values, log_message = return_values(conference)
        asked = conference.robot or {}
        params = {
            "EVENT_TOKEN": asked["event_token"],
            "RETURN_VALUES": values,
            "LOG_MESSAGE": log_message,
        }
        return {"send": ("bizproc.event.send", params)}

    def before_sending(self, conference: Conference, commands: Commands) -> dict | None:
        return {"robot_sending": True} if commands else None

    def record(
        self, outside: Outside, conference: Conference, commands: Commands, answers: Answers
    ) -> Outcome:
        if "send" in answers.results:
            return Outcome(apply=remember(robot_sent=True))
        error = answers.first_error()
        sent_before = (conference.applied or {}).get("robot_sending")  # an earlier attempt's note
        if isinstance(error, PermanentError) and error.code == "ACCESS_DENIED" and sent_before:
            return Outcome(apply=remember(robot_sent=True))
        return Outcome(error=error)


STEP = RobotResultStep()
