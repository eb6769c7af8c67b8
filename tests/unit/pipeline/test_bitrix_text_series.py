"""What invitees read of a series: how it repeats, and which occurrence a reminder is of."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.pipeline import bitrix_text

from .fakes import conference

WEEKLY = {"freq": "WEEKLY", "interval": 1, "byday": ["WE", "MO"], "count": 10}


@pytest.mark.parametrize("recurrence, words", [
    (WEEKLY, "every week on Monday and Wednesday, 10 times"),
    ({"freq": "DAILY", "interval": 2, "until": "2031-05-31"}, "every 2 days until 31 May"),
    ({"freq": "MONTHLY", "until": "2032-03-31"}, "every month until 31 March 2032"),
    ({"freq": "WEEKLY", "interval": 3}, "every 3 weeks"),
    (None, ""),
])
def test_how_a_series_repeats_in_words(recurrence, words):
    assert bitrix_text.repeats(conference(recurrence=recurrence)) == words


def test_the_invitation_the_change_and_the_cancel_say_it_repeats():
    series = conference(recurrence=WEEKLY, owner_name="Anna")
    when = "from 2031-05-06 10:00 (Europe/Moscow), every week on Monday and Wednesday, 10 times."
    for make in (bitrix_text.invitation, bitrix_text.change_notice, bitrix_text.cancellation):
        assert when in make(series, 3, None)["MESSAGE"], make.__name__
        assert when in make(series, 3, None)["MESSAGE_OUT"], make.__name__


def test_a_reminder_names_its_occurrence():
    series = conference(recurrence={"freq": "DAILY", "count": 3})
    text = bitrix_text.reminder(series, 3, None, datetime(2031, 5, 8, 7, 0, tzinfo=timezone.utc))["MESSAGE"]
    assert "starts on 2031-05-08 10:00 (Europe/Moscow) (meeting 3 of 3)." in text
    endless = conference(recurrence={"freq": "DAILY"})
    text = bitrix_text.reminder(endless, 3, None, datetime(2031, 5, 7, 7, 0, tzinfo=timezone.utc))["MESSAGE"]
    assert "(meeting 2 of the series)." in text


def test_a_single_meeting_reads_as_before():
    single = conference()
    assert "«Planning» on 2031-05-06 10:00 (Europe/Moscow)." in bitrix_text.invitation(single, 3, None)["MESSAGE"]
    assert "recurrence" not in bitrix_text.notice(single)
    assert bitrix_text.notice(conference(recurrence=WEEKLY))["recurrence"] == WEEKLY
