"""The rules of CONTRACT §4, checked on the model that the API validates with."""
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from shared.schemas import ConferenceIn, ListQuery, conference_rules, field_errors


def errors(**body) -> dict[str, str]:
    data = {"name": "Sync", **body}
    with pytest.raises(ValidationError) as caught:
        ConferenceIn.model_validate(data)
    return field_errors(caught.value, data, conference_rules)


def in_minutes(minutes: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).isoformat()


def test_defaults_are_what_a_person_expects():
    data = ConferenceIn.model_validate({"name": "  Sync  "})
    assert (data.name, data.type, data.waiting_room_level, data.duration_minutes) == ("Sync", "conference", "PUBLIC", 60)
    assert data.create_calendar_event is False and data.invite_users is False


def test_a_start_time_and_invitees_turn_on_the_calendar_event_and_invitations():
    data = ConferenceIn.model_validate({"name": "Sync", "start_at": in_minutes(60), "invitees": [3]})
    assert data.create_calendar_event is True and data.invite_users is True


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": 5}, "name"),
    ({"description": "x" * 4001}, "description"),
    ({"type": "webinar"}, "type"),
    ({"waiting_room_level": "EVERYONE"}, "waiting_room_level"),
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"duration_minutes": "60"}, "duration_minutes"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"start_at": in_minutes(-6)}, "start_at"),
    ({"start_at": "tomorrow"}, "start_at"),
    ({"start_at": 1767225600}, "start_at"),
    ({"start_at": "2030-01-01T10:00:00"}, "start_at"),
    ({"cohosts": ["not-an-email"]}, "cohosts.0"),
    ({"cohosts": [f"u{i}@example.com" for i in range(31)]}, "cohosts"),
    ({"cohosts": ["a@example.com", "A@example.com"]}, "cohosts"),
    ({"invitees": [0]}, "invitees.0"),
    ({"invitees": ["3"]}, "invitees.0"),
    ({"invitees": list(range(1, 102))}, "invitees"),
    ({"invitees": [3, 3]}, "invitees"),
    ({"type": "broadcast"}, "live_stream"),
    ({"live_stream": {"title": "x"}}, "live_stream"),
    ({"type": "broadcast", "live_stream": {"title": "x" * 1025}}, "live_stream.title"),
    ({"type": "broadcast", "live_stream": {"description": "x" * 2049}}, "live_stream.description"),
    ({"type": "broadcast", "live_stream": {"access_level": "ADMINS"}}, "live_stream.access_level"),
    ({"create_calendar_event": True}, "start_at"),
    ({"create_calendar_event": "yes"}, "create_calendar_event"),
    ({"colour": "red"}, "colour"),
    ({"name": "bad\x00name"}, "name"),
    ({"description": "nul\x00"}, "description"),
    ({"start_at": "1900000000"}, "start_at"),
    ({"start_at": "9999-12-31T23:30:00+00:00"}, "start_at"),
    ({"timezone": "a" * 300}, "timezone"),
    ({"invitees": [2**31]}, "invitees.0"),
])
def test_each_broken_rule_is_reported_under_its_field(body, field):
    assert field in errors(**body)


def test_every_offending_field_is_reported_at_once():
    found = errors(name="", waiting_room_level="X", cohosts=["bad"], invitees=[-1], duration_minutes=0)
    assert {"name", "waiting_room_level", "cohosts.0", "invitees.0", "duration_minutes"} <= set(found)


def test_cross_field_rules_are_reported_together_with_field_errors():
    found = errors(name="", type="broadcast", start_at=in_minutes(-60), create_calendar_event=True)
    assert {"name", "live_stream", "start_at"} <= set(found)


def test_blank_name_says_so():
    assert errors(name="   ")["name"] == "must not be blank"


def test_line_breaks_are_fine_in_a_description():
    assert ConferenceIn.model_validate({"name": "x", "description": "one\ntwo\tthree"}).description


def test_start_at_up_to_five_minutes_in_the_past_is_accepted():
    assert ConferenceIn.model_validate({"name": "Now", "start_at": in_minutes(-4)}).start_at is not None


def test_cohost_addresses_are_lower_cased():
    assert ConferenceIn.model_validate({"name": "x", "cohosts": ["Anna@Example.COM"]}).cohosts == ["anna@example.com"]


@pytest.mark.parametrize("query", [{"per_page": "101"}, {"page": "0"}, {"page": "two"}, {"status": "done"},
                                   {"type": "meeting"}, {"sort": "name"}])
def test_list_query_limits(query):
    with pytest.raises(ValidationError):
        ListQuery.model_validate(query)


def test_a_series_is_checked_field_by_field_and_each_problem_named_where_it_is():
    weekly = {"name": "Sync", "start_at": in_minutes(60), "recurrence": {"freq": "WEEKLY", "byday": ["MO", "TH"],
                                                                          "count": 10}}
    made = ConferenceIn.model_validate(weekly)
    assert made.recurrence.interval == 1 and made.recurrence.until is None
    assert errors(name="Sync", recurrence={"freq": "DAILY"}) == {"start_at": "is required for a repeating meeting"}
    assert set(errors(name="Sync", start_at=in_minutes(60),
                      recurrence={"freq": "DAILY", "byday": ["MO"], "count": 3, "until": "2027-01-01"})) == {
        "recurrence.until", "recurrence.byday"}
    assert set(errors(name="Sync", start_at=in_minutes(60),
                      recurrence={"freq": "YEARLY", "interval": 0, "until": "31.03.2027"})) == {
        "recurrence.freq", "recurrence.interval", "recurrence.until"}
