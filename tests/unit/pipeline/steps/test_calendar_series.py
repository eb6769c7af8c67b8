"""The calendar event of a series: rrule and remind as b24restdocs calendar-event-add.md ("rrule Parameter":
FREQ, COUNT, INTERVAL, BYDAY, UNTIL a `date`, YYYY-MM-DD by data-types.md; "remind Parameter": type min,
count) and calendar-event-update.md (recurrence_mode `all`) give them."""
from __future__ import annotations

from shared.pipeline.step import Answers
from shared.pipeline.steps.calendar_event import NO_REPEAT, STEP
from tests.unit.pipeline.fakes import applied, conference, outside

WEEKLY = {"freq": "WEEKLY", "interval": 1, "byday": ["MO", "WE"], "count": 10}


def planned(made):
    return STEP.commands(outside(conference_=made), made, None)


def test_a_series_is_added_with_its_rule_and_the_reminder():
    params = planned(conference(create_calendar_event=True, recurrence=WEEKLY, reminder_minutes=30))["event"][1]
    assert params["rrule"] == {"FREQ": "WEEKLY", "INTERVAL": 1, "BYDAY": ["MO", "WE"], "COUNT": 10}
    assert params["remind"] == [{"type": "min", "count": 30}]


def test_a_weekly_rule_names_the_starts_own_day_and_until_is_a_date():
    """The page does not say which day a WEEKLY rule without BYDAY falls on: the app names it (safe both ways).
    2031-05-06 07:00 UTC is a Tuesday in Moscow."""
    made = conference(create_calendar_event=True, recurrence={"freq": "WEEKLY", "interval": 2, "until": "2031-07-01"})
    assert planned(made)["event"][1]["rrule"] == {"FREQ": "WEEKLY", "INTERVAL": 2, "BYDAY": ["TU"], "UNTIL": "2031-07-01"}


def test_a_single_meeting_without_a_reminder_sends_neither():
    params = planned(conference(create_calendar_event=True, reminder_minutes=0))["event"][1]
    assert "rrule" not in params and "remind" not in params


def test_an_update_of_a_series_is_of_the_whole_chain_and_remembered():
    made = conference(create_calendar_event=True, recurrence=WEEKLY, calendar_event_id=41)
    commands = planned(made)
    assert commands["event"][1]["recurrence_mode"] == "all"
    after = applied(STEP.record(outside(conference_=made), made, commands, Answers({"event": True}, {})), made)
    assert after.applied["calendar_series"] is True


def test_an_edit_that_ends_the_series_asks_for_one_occurrence():
    """Removing a rule is not documented (UNVERIFIED): a rule of one occurrence is the single meeting, whether
    or not an rrule left out would have kept the old one."""
    made = conference(create_calendar_event=True, calendar_event_id=41, applied={"calendar_series": True})
    commands = planned(made)
    assert commands["event"][1]["rrule"] == NO_REPEAT == {"FREQ": "DAILY", "INTERVAL": 1, "COUNT": 1}
    after = applied(STEP.record(outside(conference_=made), made, commands, Answers({"event": True}, {})), made)
    assert "calendar_series" not in after.applied
    assert "rrule" not in planned(after)["event"][1]  # once ended, a single meeting's updates carry none
