"""When a meeting happens and when its invitees are reminded (shared/occurrences.py): a series in
its own time zone (RFC 5545 through dateutil), each start reminded of once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import occurrences
from shared.models import Conference

MONDAY = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)  # 08:00 in Berlin, before the change to summer time


def meeting(recurrence: dict | None = None, **fields) -> Conference:
    values = dict(start_at=MONDAY, timezone="Europe/Berlin", recurrence=recurrence, reminder_minutes=15,
                  cancel_requested=False, reminded_at=None, invite_users=True, invitees=[3],
                  create_calendar_event=False)
    return Conference(**{**values, **fields})


def test_a_weekly_series_keeps_its_wall_clock_time_across_a_change_of_summer_time():
    series = meeting({"freq": "WEEKLY", "interval": 1, "byday": ["MO", "WE"], "count": 5, "until": None})
    starts = [start.isoformat() for start in occurrences.starts(series)]
    assert starts == ["2027-03-22T08:00:00+01:00", "2027-03-24T08:00:00+01:00", "2027-03-29T08:00:00+02:00",
                      "2027-03-31T08:00:00+02:00", "2027-04-05T08:00:00+02:00"]
    assert occurrences.last_start(series).isoformat() == "2027-04-05T08:00:00+02:00"


def test_until_is_a_day_in_the_meetings_zone_and_an_endless_series_has_no_last_start():
    monthly = meeting({"freq": "MONTHLY", "interval": 1, "byday": [], "count": None, "until": "2027-05-22"})
    assert len(list(occurrences.starts(monthly))) == 3  # 22 March, April and May: the last day counts
    endless = meeting({"freq": "DAILY", "interval": 2, "byday": [], "count": None, "until": None})
    assert occurrences.last_start(endless) is None
    assert occurrences.next_start(endless, MONDAY) == MONDAY + timedelta(days=2)


def test_the_next_reminder_is_of_the_first_start_not_reminded_of_yet():
    series = meeting({"freq": "DAILY", "interval": 1, "byday": [], "count": 3, "until": None})
    before = MONDAY - timedelta(hours=1)
    assert occurrences.next_reminder(series, before) == MONDAY - timedelta(minutes=15)
    series.reminded_at = MONDAY  # reminded of Monday's: an edit now does not remind of it again
    assert occurrences.next_reminder(series, before) == MONDAY + timedelta(days=1, minutes=-15)
    series.reminded_at = MONDAY + timedelta(days=2)  # the last one
    assert occurrences.next_reminder(series, before) is None


def test_no_reminder_when_none_is_wanted_the_meeting_is_cancelled_or_it_is_over():
    assert occurrences.next_reminder(meeting(create_calendar_event=True), MONDAY - timedelta(hours=1)) is None
    assert occurrences.next_reminder(meeting(invitees=[]), MONDAY - timedelta(hours=1)) is None
    assert occurrences.next_reminder(meeting(reminder_minutes=0), MONDAY - timedelta(hours=1)) is None
    assert occurrences.next_reminder(meeting(cancel_requested=True), MONDAY - timedelta(hours=1)) is None
    assert occurrences.next_reminder(meeting(), MONDAY + timedelta(minutes=1)) is None
    assert occurrences.next_reminder(meeting(start_at=None), MONDAY) is None
