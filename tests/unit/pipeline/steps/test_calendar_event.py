"""calendar_event's decisions (shared/pipeline/steps/calendar_event.py), without a stack. What the
portal does with these commands is tests/unit/pipeline/test_bitrix_text.py's, against the emulator."""
from __future__ import annotations

from shared.clients.errors import PermanentError, TransientError
from shared.pipeline.step import Answers
from shared.pipeline.steps.calendar_event import STEP, marker
from tests.unit.pipeline.fakes import FakeBitrix, applied, conference, outside


def planned(made, found=None):
    return STEP.commands(outside(conference_=made), made, found)


def test_a_new_event_is_added_and_its_organiser_read_back_in_the_same_batch():
    commands = planned(conference(create_calendar_event=True))
    assert [method for method, _ in commands.values()] == ["calendar.event.add", "calendar.event.getbyid"]
    assert commands["host"][1] == {"id": "$result[event]"}
    assert commands["event"][1]["auto_detect_section"] == "Y"


def test_an_event_the_app_made_is_updated_naming_its_organiser_as_host():
    commands = planned(conference(create_calendar_event=True, calendar_event_id=41, applied={"calendar_host": 1}))
    assert list(commands) == ["event"]
    method, params = commands["event"]
    assert (method, params["id"], params["host"]) == ("calendar.event.update", 41, 1)


def test_an_event_found_after_a_lost_answer_is_updated_not_made_again():
    commands = planned(conference(create_calendar_event=True), found=55)
    assert commands["event"][0] == "calendar.event.update" and commands["event"][1]["id"] == 55
    assert commands["host"] == ("calendar.event.getbyid", {"id": 55})


def test_a_cancel_deletes_the_event_and_with_no_event_there_is_nothing_to_send():
    assert planned(conference(cancel_requested=True, create_calendar_event=True, calendar_event_id=41)) == {
        "event": ("calendar.event.delete", {"id": 41})}
    assert planned(conference(cancel_requested=True, create_calendar_event=True)) == {}
    assert planned(conference(create_calendar_event=True, start_at=None)) == {}  # no time, no event


def test_recovery_looks_the_event_up_by_its_marker_only_when_none_is_recorded():
    made = conference(create_calendar_event=True)
    bitrix = FakeBitrix({"calendar.event.get": [{"ID": "9", "DESCRIPTION": "other"},
                                                {"ID": "12", "DESCRIPTION": f"Join\n\n{marker(made)}"}]})
    assert STEP.recover(outside(bitrix=bitrix, conference_=made), made) == 12
    assert STEP.recover(outside(conference_=made), conference(calendar_event_id=3)) is None  # asks nothing


def test_an_added_event_is_recorded_with_its_organiser():
    made = conference(create_calendar_event=True)
    commands = planned(made)
    outcome = STEP.record(outside(conference_=made), made, commands,
                          Answers(results={"event": 77, "host": {"MEETING_HOST": "2"}}))
    after = applied(outcome, made)
    assert outcome.error is None and after.calendar_event_id == 77 and after.applied["calendar_host"] == 2


def test_a_delete_of_an_event_already_gone_counts_as_done():
    made = conference(cancel_requested=True, calendar_event_id=41)
    commands = planned(made)
    bitrix = FakeBitrix({"calendar.event.getbyid": None})
    outcome = STEP.record(outside(bitrix=bitrix, conference_=made), made, commands,
                          Answers(errors={"event": PermanentError("Bitrix24", "not found")}))
    assert outcome.error is None and applied(outcome, made).calendar_event_id is None


def test_access_denied_says_who_can_fix_it_and_a_transient_failure_stays_transient():
    made = conference(create_calendar_event=True)
    commands = planned(made)
    denied = STEP.record(outside(conference_=made), made, commands,
                         Answers(errors={"event": PermanentError("Bitrix24", "Access denied")}))
    assert "only its owner, a portal administrator" in denied.error.message
    busy = TransientError("Bitrix24", "busy")
    assert STEP.record(outside(conference_=made), made, commands, Answers(errors={"event": busy})).error is busy


def test_it_is_wanted_while_asked_for_or_while_an_event_exists():
    assert not STEP.wanted(conference())
    assert STEP.wanted(conference(create_calendar_event=True))
    assert STEP.wanted(conference(calendar_event_id=41))  # asked no more: the event must go
