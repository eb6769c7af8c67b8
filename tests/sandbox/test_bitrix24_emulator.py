"""The Bitrix24 portal emulator against the rules of shared/reference/bitrix24-rest.md (§ numbers below).

No network and no sleeps: the app runs on a fake clock that the tests move.
"""
from __future__ import annotations

import os
from typing import Any

import pytest

from .conftest import FakeClock
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sandbox.bitrix24 import create_app
from sandbox.bitrix24.params import build_php_query, parse_php_query

WEBHOOK = "/rest/1/sandboxwebhook"
TIME_KEYS = {"start", "finish", "duration", "processing", "date_start", "date_finish", "operating", "operating_reset_at"}
EXPIRED_TEXT = "The access token provided has expired."


@pytest.fixture
def client(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    for name in list(os.environ):  # the defaults are what is under test
        if name.startswith("SANDBOX_"):
            monkeypatch.delenv(name)
    return create_app({"clock": clock}).test_client()


def token_for(client: FlaskClient, user_id: int, **extra: Any) -> str:
    response = client.post("/_sandbox/tokens", json={"user_id": user_id, **extra})
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def call(client: FlaskClient, method: str, auth: str | None = None, **params: Any) -> TestResponse:
    body = dict(params, **({"auth": auth} if auth else {}))
    return client.post(f"/rest/{method}.json", json=body)


def hook(client: FlaskClient, method: str, **params: Any) -> TestResponse:
    return client.post(f"{WEBHOOK}/{method}.json", json=params)


def state(client: FlaskClient) -> dict[str, Any]:
    return client.get("/_sandbox/state").json


def assert_error(response: TestResponse, status: int, code: str, description: str | None = None) -> None:
    assert response.status_code == status, response.json
    assert response.json["error"] == code
    if description is not None:
        assert response.json["error_description"] == description


# auto_detect_section=Y: the core copy detects a section only with it (tests/sandbox/test_bitrix24_calendar_rules.py).
MEETING = {"type": "user", "ownerId": 1, "name": "Weekly sync", "from": "2027-02-01 10:00", "to": "2027-02-01 11:00",
           "timezone_from": "Europe/Moscow", "timezone_to": "Europe/Moscow", "auto_detect_section": "Y"}


def add_event(client: FlaskClient, auth: str, **overrides: Any) -> int:
    response = call(client, "calendar.event.add", auth, **{**MEETING, **overrides})
    assert response.status_code == 200, response.json
    return response.json["result"]


# --- §3 envelope, auth, method names ---

def test_success_envelope_has_result_and_the_time_block(client: FlaskClient) -> None:
    response = call(client, "user.current", token_for(client, 1))
    assert response.status_code == 200
    assert list(response.json) == ["result", "time"]
    assert set(response.json["time"]) == TIME_KEYS
    assert response.json["time"]["operating"] == 0
    assert response.json["result"]["ID"] == "1" and response.json["result"]["ACTIVE"] is True


def test_auth_is_read_from_query_form_or_json_and_method_names_ignore_case(client: FlaskClient) -> None:
    token = token_for(client, 2)
    by_query = client.get(f"/rest/USER.Current?auth={token}")
    by_form = client.post("/rest/user.current.json", data={"auth": token})
    by_json = client.post("/rest/user.current", json={"auth": token})
    assert [r.json["result"]["ID"] for r in (by_query, by_form, by_json)] == ["2", "2", "2"]


def test_missing_auth_is_401_no_auth_found(client: FlaskClient) -> None:
    assert_error(call(client, "user.current"), 401, "NO_AUTH_FOUND", "Wrong authorization data")


def test_unknown_token_is_401_invalid_token(client: FlaskClient) -> None:
    assert_error(call(client, "user.current", "0" * 32), 401, "invalid_token")


def test_token_expires_after_its_ttl(client: FlaskClient, clock: FakeClock) -> None:
    client.post("/_sandbox/config", json={"token_ttl": 60})
    token = token_for(client, 1)
    clock.advance(59)
    assert call(client, "user.current", token).status_code == 200
    clock.advance(1)
    assert_error(call(client, "user.current", token), 401, "expired_token", EXPIRED_TEXT)


def test_webhook_path_acts_as_its_creator_and_a_wrong_key_is_401(client: FlaskClient) -> None:
    assert hook(client, "user.current").json["result"]["ID"] == "1"
    assert client.get(f"{WEBHOOK}/user.current").status_code == 200  # .json is optional
    assert_error(client.post("/rest/1/wrongkey/user.current.json", json={}), 401, "INVALID_CREDENTIALS")
    assert_error(client.post("/rest/2/sandboxwebhook/user.current.json", json={}), 401, "INVALID_CREDENTIALS")


def test_unknown_method_is_404_method_not_found(client: FlaskClient) -> None:
    assert_error(call(client, "crm.deal.list", token_for(client, 1)), 404, "ERROR_METHOD_NOT_FOUND", "Method not found!")


def test_a_scope_the_token_lacks_is_403_insufficient_scope(client: FlaskClient) -> None:
    token = token_for(client, 1, scope="user")
    assert call(client, "user.current", token).status_code == 200
    assert_error(call(client, "calendar.event.get", token, type="user", ownerId=1), 403, "insufficient_scope")
    assert_error(hook(client, "placement.list"), 403, "WRONG_AUTH_TYPE")  # app context only


def test_unknown_routes_answer_in_the_bitrix_error_shape(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404 and set(response.json) == {"error", "error_description"}


def test_healthz_is_ok(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}


# --- §4 users ---

def test_user_get_shapes_and_filters(client: FlaskClient) -> None:
    token = token_for(client, 1)
    everyone = call(client, "user.get", token).json
    assert everyone["total"] == 7 and "next" not in everyone  # inactive user 7 is there when not filtered
    assert all(isinstance(u["ID"], str) for u in everyone["result"])
    active = call(client, "user.get", token, FILTER={"ACTIVE": True}).json
    assert [u["ID"] for u in active["result"]] == ["1", "2", "3", "4", "5", "6"]
    by_email = call(client, "user.get", token, FILTER={"EMAIL": "olga.kuznetsova@example.com"}).json
    assert [u["NAME"] for u in by_email["result"]] == ["Olga"]
    assert call(client, "user.get", token, ID=3).json["result"][0]["LAST_NAME"] == "Ivanov"  # top-level filter
    contains = call(client, "user.get", token, FILTER={"%LAST_NAME": "ova"}).json
    assert [u["ID"] for u in contains["result"]] == ["2", "4", "6"]
    newest_first = call(client, "user.get", token, sort="ID", order="DESC").json
    assert newest_first["result"][0]["ID"] == "7"


def test_user_get_pages_by_50(client: FlaskClient) -> None:
    for n in range(60):
        added = client.post("/_sandbox/users", json={"name": f"User{n}", "last_name": "Extra", "email": f"u{n}@example.com"})
        assert added.status_code == 201
    token = token_for(client, 1)
    first = call(client, "user.get", token).json
    assert (len(first["result"]), first["total"], first["next"]) == (50, 67, 50)
    second = call(client, "user.get", token, start=50).json
    assert (len(second["result"]), second["total"], "next" in second) == (17, 67, False)
    uncounted = call(client, "user.get", token, start=-1).json
    assert len(uncounted["result"]) == 50 and "total" not in uncounted and "next" not in uncounted


def test_user_search_find_covers_name_last_name_and_position(client: FlaskClient) -> None:
    token = token_for(client, 1)

    def found(text: str) -> list[str]:
        return [u["ID"] for u in call(client, "user.search", token, FILTER={"FIND": text}).json["result"]]

    assert found("anna") == ["2"]
    assert found("Popova") == ["6"]
    assert found("developer") == ["3"]
    # A dismissed user is found, with ACTIVE false (unverified: api-reference/user/user-search.md does not say
    # search skips them; the app drops ACTIVE=false rows, so it is safe either way).
    assert found("pavel") == ["7"]
    assert call(client, "user.search", token, FILTER={"FIND": "pavel"}).json["result"][0]["ACTIVE"] is False
    assert [u["ID"] for u in call(client, "user.search", token, LAST_NAME="Sokolov").json["result"]] == ["5"]


# --- §4 calendar ---

def test_event_add_then_get_reads_back_every_documented_field(client: FlaskClient) -> None:
    token = token_for(client, 1)
    event_id = add_event(client, token, description="Join: https://telemost.yandex.ru/j/1", location="Telemost",
                         is_meeting="Y", attendees=[2, 3], meeting={"notify": True}, remind=[{"type": "min", "count": 15}])
    assert isinstance(event_id, int)
    events = call(client, "calendar.event.get", token, type="user", ownerId=1, **{"from": "2027-02-01", "to": "2027-02-01"}).json["result"]
    assert len(events) == 1
    event = events[0]
    section_id = call(client, "calendar.section.get", token, type="user", ownerId=1).json["result"][0]["ID"]
    assert event["ID"] == str(event_id) and event["SECTION_ID"] == section_id
    assert (event["NAME"], event["DESCRIPTION"], event["LOCATION"]) == ("Weekly sync", "Join: https://telemost.yandex.ru/j/1", "Telemost")
    assert (event["DATE_FROM"], event["DATE_TO"]) == ("02/01/2027 10:00:00 am", "02/01/2027 11:00:00 am")
    assert (event["TZ_FROM"], event["TZ_TO"], event["DATE_FROM_TS_UTC"]) == ("Europe/Moscow", "Europe/Moscow", "1801465200")
    assert event["IS_MEETING"] is True and event["MEETING_HOST"] == "1" and event["MEETING"]["NOTIFY"] is True
    assert [(a["id"], a["status"]) for a in event["ATTENDEE_LIST"]] == [(1, "H"), (2, "Q"), (3, "Q")]
    assert event["ATTENDEE_LIST"][0]["entryId"] == str(event_id)
    assert event["REMIND"] == [{"type": "min", "count": 15}]


def test_attendees_see_the_meeting_in_their_own_calendar(client: FlaskClient) -> None:
    token = token_for(client, 1)
    event_id = add_event(client, token, is_meeting="Y", attendees=[3])
    seen = call(client, "calendar.event.get", token, type="user", ownerId=3, **{"from": "2027-02-01", "to": "2027-02-02"}).json["result"]
    assert [(e["PARENT_ID"], e["OWNER_ID"], e["MEETING_STATUS"]) for e in seen] == [(str(event_id), "3", "Q")]
    assert seen[0]["ID"] != str(event_id)  # the attendee's own entry


def test_naive_times_are_read_in_timezone_from_else_in_the_callers_zone(client: FlaskClient) -> None:
    ivan, sergey = token_for(client, 1), token_for(client, 3)  # Moscow +3, Yekaterinburg +5
    in_param = add_event(client, ivan, timezone_from="Asia/Yekaterinburg", timezone_to="Asia/Yekaterinburg")
    by_default = add_event(client, sergey, ownerId=3, timezone_from="", timezone_to="")
    first = call(client, "calendar.event.getbyid", ivan, id=in_param).json["result"]
    second = call(client, "calendar.event.getbyid", ivan, id=by_default).json["result"]
    assert (first["TZ_FROM"], first["DATE_FROM_TS_UTC"]) == ("Asia/Yekaterinburg", "1801458000")  # 05:00Z
    assert (second["TZ_FROM"], second["DATE_FROM_TS_UTC"]) == ("Asia/Yekaterinburg", "1801458000")


def test_an_iso_offset_fixes_the_instant_whatever_timezone_from_says(client: FlaskClient) -> None:
    token = token_for(client, 1)
    event_id = add_event(client, token, **{"from": "2027-02-01T10:00:00+02:00", "to": "2027-02-01T11:00:00+02:00"})
    event = call(client, "calendar.event.getbyid", token, id=event_id).json["result"]
    assert event["DATE_FROM_TS_UTC"] == "1801468800"  # 08:00Z
    assert event["DATE_FROM"] == "02/01/2027 11:00:00 am"  # shown in TZ_FROM, Moscow


def test_from_ts_and_to_ts_replace_from_and_to(client: FlaskClient) -> None:
    token = token_for(client, 1)
    params = {key: value for key, value in MEETING.items() if key not in ("from", "to")}
    response = call(client, "calendar.event.add", token, **params, from_ts=1801465200, to_ts=1801468800)
    event = call(client, "calendar.event.getbyid", token, id=response.json["result"]).json["result"]
    assert (event["DATE_FROM_TS_UTC"], event["DT_LENGTH"]) == ("1801465200", 3600)


def test_all_day_events_use_dates(client: FlaskClient) -> None:
    token = token_for(client, 1)
    event_id = add_event(client, token, **{"from": "2027-02-03", "to": "2027-02-03", "skip_time": "Y"})
    event = call(client, "calendar.event.getbyid", token, id=event_id).json["result"]
    assert (event["DATE_FROM"], event["DT_SKIP_TIME"], event["DT_LENGTH"]) == ("02/03/2027", "Y", 86400)


def test_an_event_may_not_end_before_it_starts(client: FlaskClient) -> None:
    response = call(client, "calendar.event.add", token_for(client, 1), **{**MEETING, "to": "2027-02-01 09:00"})
    assert_error(response, 400, "", 'Invalid value for the parameter "to"')


@pytest.mark.parametrize("value", ["Mars/Olympus", "UTC+3"])
def test_an_unknown_timezone_is_400_with_an_empty_code(client: FlaskClient, value: str) -> None:
    response = call(client, "calendar.event.add", token_for(client, 1), **{**MEETING, "timezone_from": value})
    assert_error(response, 400, "", 'Invalid value for the parameter "timezone_from"')
    assert state(client)["events"] == []


@pytest.mark.parametrize("field", ["from", "to", "name", "ownerId", "type"])
def test_each_required_add_parameter_is_400_with_the_docs_text(client: FlaskClient, field: str) -> None:
    params = {key: value for key, value in MEETING.items() if key != field}
    response = call(client, "calendar.event.add", token_for(client, 1), **params)
    assert_error(response, 400, "", f'The required parameter "{field}" for the method "calendar.event.add" is not set')


def test_section_is_required_only_when_auto_detect_section_is_not_y(client: FlaskClient) -> None:
    token = token_for(client, 1)
    refused = call(client, "calendar.event.add", token, **{**MEETING, "auto_detect_section": "N"})
    assert_error(refused, 400, "", 'The required parameter "section" for the method "calendar.event.add" is not set')
    assert call(client, "calendar.event.add", token, **MEETING).status_code == 200
    foreign_section = call(client, "calendar.section.get", token, type="user", ownerId=2).json["result"][0]["ID"]
    wrong = call(client, "calendar.event.add", token, **MEETING, section=foreign_section)
    assert_error(wrong, 400, "", "You specified an invalid calendar section ID or the user does not have access to it")


def test_only_the_owner_or_an_admin_writes_a_user_calendar(client: FlaskClient) -> None:
    """b24restdocs calendar-event-add.md: "Access denied" when creating events in that calendar is prohibited;
    the core checks PERM['edit'] of the section, which its SectionEditRule grants to isAdmin() and to the
    calendar's owner (bitrix-core-business modules/calendar/lib/access/rule/sectioneditrule.php; and
    CCalendarSect::CanDo answers true for CBitrix24::isPortalAdmin). Whether today's cloud still lets an
    admin write every calendar is unverified: the app writes as the owner, or as its webhook's user, and a
    refusal fails the calendar step with what to do (tests/unit/pipeline/test_bitrix_text.py)."""
    anna, ivan = token_for(client, 2), token_for(client, 1)
    assert_error(call(client, "calendar.event.add", anna, **{**MEETING, "ownerId": 3}), 400, "", "Access denied")
    assert call(client, "calendar.event.add", anna, **{**MEETING, "ownerId": 2}).status_code == 200
    event_id = add_event(client, ivan, ownerId=3)  # the admin may
    assert_error(call(client, "calendar.event.update", anna, id=event_id, type="user", ownerId=3, name="Mine"), 400, "", "Access denied")
    assert [e["owner_id"] for e in state(client)["events"]] == [2, 3]


def test_update_replaces_attendees_only_when_is_meeting_is_sent(client: FlaskClient) -> None:
    token = token_for(client, 1)
    event_id = add_event(client, token, is_meeting="Y", attendees=[2, 3])
    base = {"id": event_id, "type": "user", "ownerId": 1, "name": "Weekly sync"}
    assert call(client, "calendar.event.update", token, **base, attendees=[4]).json["result"] == event_id
    assert [a["user_id"] for a in state(client)["events"][0]["attendees"]] == [1, 2, 3]
    call(client, "calendar.event.update", token, **{**base, "name": "Renamed"}, is_meeting="Y", attendees=[3, 5])
    stored = state(client)["events"][0]
    assert [a["user_id"] for a in stored["attendees"]] == [1, 3, 5] and stored["name"] == "Renamed"
    call(client, "calendar.event.update", token, **base, is_meeting="Y")
    assert [a["user_id"] for a in state(client)["events"][0]["attendees"]] == [1]


def test_update_moves_the_event_and_checks_its_parameters(client: FlaskClient) -> None:
    token = token_for(client, 1)
    event_id = add_event(client, token)
    base = {"id": event_id, "type": "user", "ownerId": 1, "name": "Weekly sync"}
    moved = call(client, "calendar.event.update", token, **base, **{"from": "2027-02-02 09:00", "to": "2027-02-02 09:30"})
    assert moved.status_code == 200
    assert state(client)["events"][0]["from"] == "2027-02-02T09:00:00+03:00"
    for field in ("id", "ownerId", "type"):
        params = {key: value for key, value in base.items() if key != field}
        assert_error(call(client, "calendar.event.update", token, **params), 400, "",
                     f'The required parameter "{field}" for the method "calendar.event.update" is not set')
    assert_error(call(client, "calendar.event.update", token, **{**base, "id": 999}), 400, "")


def test_delete_answers_true_then_the_docs_error(client: FlaskClient) -> None:
    token = token_for(client, 1)
    event_id = add_event(client, token)
    assert call(client, "calendar.event.delete", token, id=event_id).json["result"] is True
    assert state(client)["events"] == []
    assert_error(call(client, "calendar.event.delete", token, id=event_id), 400, "", "An error occurred while deleting the event")
    assert_error(call(client, "calendar.event.delete", token), 400, "", "Event id not specified")


def test_getbyid_answers_null_for_an_unknown_id(client: FlaskClient) -> None:
    response = call(client, "calendar.event.getbyid", token_for(client, 1), id=424242)
    assert response.status_code == 200 and response.json["result"] is None


def test_event_get_returns_only_events_overlapping_the_range(client: FlaskClient) -> None:
    token = token_for(client, 1)
    add_event(client, token, name="Feb 1")
    add_event(client, token, name="Mar 1", **{"from": "2027-03-01 10:00", "to": "2027-03-01 11:00"})
    names = [e["NAME"] for e in call(client, "calendar.event.get", token, type="user", ownerId=1,
                                     **{"from": "2027-02-15", "to": "2027-03-01"}).json["result"]]
    assert names == ["Mar 1"]
    assert_error(call(client, "calendar.event.get", token, ownerId=1), 400, "",
                 'The required parameter "type" for the method "calendar.event.get" is not set')


def test_form_encoded_add_with_php_brackets(client: FlaskClient) -> None:
    token = token_for(client, 1)
    form = {**MEETING, "auth": token, "is_meeting": "Y", "attendees[]": ["2", "4"], "meeting[notify]": "1",
            "meeting[hide_guests]": "0", "remind[0][type]": "hour", "remind[0][count]": "1"}
    response = client.post("/rest/calendar.event.add", data=form)
    assert response.status_code == 200, response.json
    stored = state(client)["events"][0]
    assert [a["user_id"] for a in stored["attendees"]] == [1, 2, 4]
    assert stored["meeting"] == {"notify": True, "reinvite": False, "allow_invite": False, "hide_guests": False}
    assert stored["remind"] == [{"type": "hour", "count": 1}]


def test_php_query_parser_and_builder() -> None:
    parsed = parse_php_query("a[]=1&a[]=2&m[notify]=Y&r[0][type]=min&r[0][count]=5&r[1][type]=day&name=A+b&x[2]=z")
    assert parsed == {"a": ["1", "2"], "m": {"notify": "Y"}, "r": [{"type": "min", "count": "5"}, {"type": "day"}],
                      "name": "A b", "x": {"2": "z"}}
    params = {"attendees": [1, 2], "meeting": {"notify": True}, "name": "Sync & review"}
    assert parse_php_query(build_php_query(params)) == {"attendees": ["1", "2"], "meeting": {"notify": "1"}, "name": "Sync & review"}


# --- §4 notifications ---

def test_a_repeated_tag_replaces_the_users_notification(client: FlaskClient) -> None:
    token = token_for(client, 1)
    first = call(client, "im.notify.system.add", token, USER_ID=2, MESSAGE="Invited", TAG="conf-1-user-2")
    assert isinstance(first.json["result"], int)
    call(client, "im.notify.system.add", token, USER_ID=2, MESSAGE="Invited again", TAG="conf-1-user-2")
    call(client, "im.notify.system.add", token, USER_ID=3, MESSAGE="Invited", TAG="conf-1-user-2")
    kept = [(n["user_id"], n["message"]) for n in state(client)["notifications"]]
    assert kept == [(2, "Invited again"), (3, "Invited")]
    assert state(client)["repeated_notifications"] == []


def test_a_notification_delivered_twice_is_reported_though_its_tag_keeps_one(client: FlaskClient) -> None:
    token = token_for(client, 1)
    for _ in range(2):
        call(client, "im.notify.system.add", token, USER_ID=2, MESSAGE="Invited", TAG="conf-1-user-2")
    assert len(state(client)["notifications"]) == 1
    assert state(client)["repeated_notifications"] == [{"user_id": 2, "tag": "conf-1-user-2", "times": 2}]


def test_through_a_webhook_tag_counts_only_with_client_id(client: FlaskClient) -> None:
    for _ in range(2):
        hook(client, "im.notify.personal.add", USER_ID=2, MESSAGE="Hi", TAG="t")
    assert len(state(client)["notifications"]) == 2
    for _ in range(2):
        hook(client, "im.notify.personal.add", USER_ID=3, MESSAGE="Hi", TAG="t", CLIENT_ID="telemost")
    to_sergey = [n for n in state(client)["notifications"] if n["user_id"] == 3]
    assert len(to_sergey) == 1 and to_sergey[0]["tag"] == "t" and to_sergey[0]["from_user_id"] == 1


def test_a_notification_is_kept_as_its_recipient_sees_it(client: FlaskClient) -> None:
    """b24restdocs api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/message-formatting.md lists the BB
    codes of im.notify.* (shown in either case); api-reference/chats/messages/formatting.md says nothing of
    HTML entities being decoded, so they show as sent. A tag the list does not know stays text, and an
    invisible format character (U+2060 WORD JOINER) inside "[URL" means there is no tag."""
    token = token_for(client, 1)
    message = ("[B]Ivan[/B] invites you[br]Q&amp;A [url=https://a.example]Join[/url] [URL]https://b.example[/URL] "
               "[COLOR=#ff0000]red[/COLOR] [foo]x[/foo] [\u2060URL=https://evil.example]y[\u2060/URL]")
    call(client, "im.notify.system.add", token, USER_ID=2, MESSAGE=message)
    note = state(client)["notifications"][0]
    assert note["message"] == message
    assert note["shown"] == ("Ivan invites you\nQ&amp;A Join https://b.example red [foo]x[/foo] "
                             "[URL=https://evil.example]y[/URL]")
    assert note["links"] == [{"url": "https://a.example", "text": "Join"},
                             {"url": "https://b.example", "text": "https://b.example"}]


def test_notification_errors(client: FlaskClient) -> None:
    token = token_for(client, 1)
    assert_error(call(client, "im.notify.system.add", token, MESSAGE="x"), 400, "USER_ID_EMPTY", "User ID can't be empty")
    assert_error(call(client, "im.notify.system.add", token, USER_ID=99, MESSAGE="x"), 400, "USER_ID_EMPTY")
    assert_error(call(client, "im.notify.system.add", token, USER_ID=2, MESSAGE="  "), 400, "MESSAGE_EMPTY")
    assert call(client, "im.notify", token, USER_ID=2, MESSAGE="x", TYPE="SYSTEM").status_code == 200
    assert [n["type"] for n in state(client)["notifications"]] == ["SYSTEM"]


# --- §3 batch ---

def test_batch_substitutes_earlier_results(client: FlaskClient) -> None:
    token = token_for(client, 1)
    event = build_php_query({**MEETING, "ownerId": "$result[me][ID]"})
    response = call(client, "batch", token, halt=0, cmd={
        "me": "user.current", "add": f"calendar.event.add?{event}", "read": "calendar.event.getbyid?id=$result[add]",
    })
    assert response.status_code == 200
    result = response.json["result"]
    assert set(result) == {"result", "result_error", "result_total", "result_next", "result_time"}
    assert result["result"]["read"]["ID"] == str(result["result"]["add"]) and result["result"]["read"]["OWNER_ID"] == "1"
    assert result["result_error"] == [] and result["result_total"] == [] and result["result_next"] == []
    assert set(result["result_time"]["me"]) == TIME_KEYS


def test_batch_errors_and_halt(client: FlaskClient) -> None:
    token = token_for(client, 1)
    cmd = {"bad": "calendar.event.add?type=user", "good": "user.current"}
    going_on = call(client, "batch", token, halt=0, cmd=cmd).json["result"]
    assert going_on["result_error"]["bad"]["error"] == "" and going_on["result"]["good"]["ID"] == "1"
    halted = call(client, "batch", token, halt=1, cmd=cmd)
    assert halted.status_code == 200
    assert "bad" in halted.json["result"]["result_error"] and halted.json["result"]["result"] == []


def test_batch_lists_keep_total_and_next_and_a_cmd_list_gives_lists(client: FlaskClient) -> None:
    token = token_for(client, 1)
    result = call(client, "batch", token, cmd=["user.get", "user.get?FILTER[ACTIVE]=Y"]).json["result"]
    assert result["result_total"] == [7, 6]
    assert [len(rows) for rows in result["result"]] == [7, 6]


def test_batch_refuses_more_than_50_commands_and_nested_batches(client: FlaskClient) -> None:
    token = token_for(client, 1)
    too_long = call(client, "batch", token, cmd={f"c{i}": "user.current" for i in range(51)})
    assert_error(too_long, 400, "ERROR_BATCH_LENGTH_EXCEEDED")
    nested = call(client, "batch", token, cmd={"inner": "batch?cmd[x]=user.current"}).json["result"]
    assert nested["result_error"]["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"


def test_a_batch_is_one_request_for_the_bucket_and_logs_its_sub_calls(client: FlaskClient) -> None:
    token = token_for(client, 1)
    response = call(client, "batch", token, cmd={f"c{i}": "user.current" for i in range(50)})
    assert len(response.json["result"]["result"]) == 50
    current = state(client)
    assert current["bucket"]["level"] == 1
    assert current["requests"]["batch"] == 1 and current["requests"]["batch:user.current"] == 50


def test_batch_works_through_the_webhook_too(client: FlaskClient) -> None:
    result = hook(client, "batch", cmd={"me": "user.current"}).json["result"]
    assert result["result"]["me"]["ID"] == "1"


# --- §3 rate limit ---

def test_the_leaky_bucket_holds_50_then_drains_2_per_second(client: FlaskClient, clock: FakeClock) -> None:
    token = token_for(client, 1)
    assert all(call(client, "user.current", token).status_code == 200 for _ in range(50))
    assert_error(call(client, "user.current", token), 503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
    assert_error(hook(client, "user.current"), 503, "QUERY_LIMIT_EXCEEDED")
    assert state(client)["rejected"] == {"QUERY_LIMIT_EXCEEDED": 2}
    clock.advance(0.5)  # one request drained; the rejected ones did not fill the bucket
    assert call(client, "user.current", token).status_code == 200
    assert call(client, "user.current", token).status_code == 503
    clock.advance(25)
    assert all(call(client, "user.current", token).status_code == 200 for _ in range(50))


def test_control_and_oauth_routes_are_outside_the_bucket(client: FlaskClient) -> None:
    client.post("/_sandbox/config", json={"bucket_size": 1})
    token = token_for(client, 1)
    assert call(client, "user.current", token).status_code == 200
    assert call(client, "user.current", token).status_code == 503
    assert client.get("/healthz").status_code == 200
    assert client.get(f"/oauth-server-ru/rest/app.info?auth={token}").status_code == 200
    assert client.get("/_sandbox/state").json["bucket"]["capacity"] == 1


def test_config_reports_and_validates(client: FlaskClient) -> None:
    assert client.get("/_sandbox/config").json == {"token_ttl": 3600, "bucket_size": 50, "drain_per_second": 2.0}
    changed = client.post("/_sandbox/config", json={"drain_per_second": 5, "bucket_size": 250})
    assert changed.json == {"token_ttl": 3600, "bucket_size": 250, "drain_per_second": 5}
    assert client.post("/_sandbox/config", json={"bucket_size": 0}).status_code == 400
    assert client.post("/_sandbox/config", json={"colour": 1}).status_code == 400


# --- §2 OAuth server ---

REFRESH_FIELDS = {"access_token", "refresh_token", "expires", "expires_in", "client_endpoint", "server_endpoint",
                  "domain", "member_id", "scope", "status", "user_id"}


def refresh(client: FlaskClient, refresh_token: str, **overrides: str) -> TestResponse:
    query = {"grant_type": "refresh_token", "client_id": "local.sandbox.telemost", "client_secret": "sandbox-secret",
             "refresh_token": refresh_token, **overrides}
    return client.get("/oauth-server-ru/oauth/token/", query_string=query)


def test_refresh_rotates_both_tokens_and_the_old_refresh_token_dies(client: FlaskClient, clock: FakeClock) -> None:
    issued = client.post("/_sandbox/tokens", json={"user_id": 2}).json
    response = refresh(client, issued["refresh_token"])
    assert response.status_code == 200
    body = response.json
    assert set(body) == REFRESH_FIELDS
    assert body["access_token"] != issued["access_token"] and body["refresh_token"] != issued["refresh_token"]
    assert (body["expires_in"], body["expires"], body["user_id"]) == (3600, int(clock.now) + 3600, 2)
    assert (body["client_endpoint"], body["server_endpoint"]) == ("http://127.0.0.1:8082/rest/", "http://127.0.0.1:8082/oauth-server-ru/rest/")
    # domain names the OAuth server (settings/oauth/auto-renewal.md): the sandbox portal is Russian, so it is
    # oauth.bitrix24.tech's stand-in that answers (b24pysdk bitrix_oauth_requester.py).
    assert (body["domain"], body["status"], body["member_id"]) == ("oauth.bitrix24.tech", "L", "5a0db0f5c3d54b3e8f2a1c0d9e8f7a6b")
    assert call(client, "user.current", body["access_token"]).json["result"]["ID"] == "2"
    assert_error(refresh(client, issued["refresh_token"]), 400, "invalid_grant")
    assert refresh(client, body["refresh_token"]).status_code == 200  # the new one works, once


def test_refresh_checks_the_client_and_the_lifetime(client: FlaskClient, clock: FakeClock) -> None:
    issued = client.post("/_sandbox/tokens", json={"user_id": 1}).json
    assert_error(refresh(client, issued["refresh_token"], client_secret="nope"), 401, "invalid_client")
    clock.advance(180 * 24 * 3600)
    posted = client.post("/oauth-server-ru/oauth/token/", data={"grant_type": "refresh_token", "client_id": "local.sandbox.telemost",
                                                             "client_secret": "sandbox-secret", "refresh_token": issued["refresh_token"]})
    assert_error(posted, 400, "invalid_grant")


def test_authorization_code_grant_works_once_within_30_seconds(client: FlaskClient, clock: FakeClock) -> None:
    def exchange(code: str) -> TestResponse:
        return client.post("/oauth-server-ru/oauth/token/", data={"grant_type": "authorization_code", "code": code,
                                                               "client_id": "local.sandbox.telemost", "client_secret": "sandbox-secret"})

    code = client.post("/_sandbox/oauth_code", json={"user_id": 4}).json["code"]
    granted = exchange(code)
    assert granted.status_code == 200 and granted.json["user_id"] == 4
    assert call(client, "user.current", granted.json["access_token"]).json["result"]["ID"] == "4"
    assert_error(exchange(code), 400, "invalid_grant")
    late = client.post("/_sandbox/oauth_code", json={"user_id": 4}).json["code"]
    clock.advance(30)
    assert_error(exchange(late), 400, "invalid_grant")


def test_oauth_server_app_info_has_the_b24pysdk_shape(client: FlaskClient, clock: FakeClock) -> None:
    token = token_for(client, 3)
    response = client.get(f"/oauth-server-ru/rest/app.info/?auth={token}")
    assert response.status_code == 200
    info = response.json["result"]
    assert (info["client_id"], info["user_id"]) == ("local.sandbox.telemost", 3)
    assert set(info) == {"client_id", "scope", "expires", "user_id", "install"}
    assert info["install"] == {"installed": True, "version": 1, "status": "L", "scope": "bizproc,calendar,crm,im,placement,user",
                               "domain": "127.0.0.1:8082", "uri": "http://127.0.0.1:8082",
                               "client_endpoint": "http://127.0.0.1:8082/rest/",
                               "member_id": "5a0db0f5c3d54b3e8f2a1c0d9e8f7a6b", "member_type": "PORTAL"}
    clock.advance(3600)
    assert_error(client.post("/oauth-server-ru/rest/app.info", json={"auth": token}), 401, "expired_token")


def test_portal_app_info_has_the_portal_shape_and_needs_app_context(client: FlaskClient) -> None:
    info = call(client, "app.info", token_for(client, 2)).json["result"]
    assert {"ID", "CODE", "VERSION", "STATUS", "INSTALLED", "PAYMENT_EXPIRED", "DAYS", "LANGUAGE_ID",
            "LICENSE", "LICENSE_TYPE", "LICENSE_FAMILY"} <= set(info)
    assert info["CODE"] == "local.sandbox.telemost" and info["INSTALLED"] is True
    assert_error(hook(client, "app.info"), 400, "ACCESS_DENIED", "Access denied! Application context required")


# --- §1.1 launch ---

def test_launch_gives_what_the_portal_posts_with_a_fresh_usable_token(client: FlaskClient) -> None:
    launch = client.post("/_sandbox/launch", json={"user_id": 5}).json
    assert set(launch["query"]) == {"DOMAIN", "PROTOCOL", "LANG", "APP_SID"}
    assert (launch["query"]["DOMAIN"], launch["query"]["PROTOCOL"]) == ("127.0.0.1:8082", "0")
    assert launch["url"].startswith("http://127.0.0.1:5000/?") and "DOMAIN=127.0.0.1%3A8082" in launch["url"]
    form = launch["form"]
    assert set(form) == {"AUTH_ID", "AUTH_EXPIRES", "REFRESH_ID", "SERVER_ENDPOINT", "APPLICATION_TOKEN",
                         "APPLICATION_SCOPE", "member_id", "status", "PLACEMENT", "PLACEMENT_OPTIONS"}
    assert (form["AUTH_EXPIRES"], form["status"], form["PLACEMENT"], form["PLACEMENT_OPTIONS"]) == ("3600", "L", "DEFAULT", "{}")
    assert form["SERVER_ENDPOINT"] == "http://127.0.0.1:8082/oauth-server-ru/rest/"
    assert form["APPLICATION_TOKEN"] == "sandbox-application-token"
    assert call(client, "user.current", form["AUTH_ID"]).json["result"]["ID"] == "5"
    again = client.post("/_sandbox/launch", json={"user_id": 5}).json
    assert again["form"]["AUTH_ID"] != form["AUTH_ID"] and again["query"]["APP_SID"] != launch["query"]["APP_SID"]
    missing = client.post("/_sandbox/launch", json={"user_id": 99})
    assert missing.status_code == 404 and "error" in missing.json


# --- app-context methods ---

def test_event_and_placement_binding_need_an_admin_app(client: FlaskClient) -> None:
    # placement.* needs the placement scope, which the sandbox app is no longer registered with (Market asks
    # for used scopes only): an app that binds widgets asks for it.
    admin, anna = token_for(client, 1, scope="bizproc,calendar,crm,im,placement,user"), token_for(client, 2)
    bind = {"event": "ONAPPUNINSTALL", "handler": "http://127.0.0.1:5000/bitrix/events"}
    assert call(client, "event.bind", admin, **bind).json["result"] is True
    # INVENTED: no source documents what a repeated bind answers (api-reference/events/event-bind.md lists
    # ERROR_EVENT_NOT_FOUND and ACCESS_DENIED only); the app looks at event.get first, as b24phpsdk does.
    assert_error(call(client, "event.bind", admin, **bind), 400, "ERROR_CORE", "Handler already binded")
    assert_error(call(client, "event.bind", anna, **bind), 403, "ACCESS_DENIED")
    assert_error(hook(client, "event.bind", **bind), 403, "WRONG_AUTH_TYPE")
    assert call(client, "event.get", admin).json["result"][0]["event"] == "ONAPPUNINSTALL"
    placed = call(client, "placement.bind", admin, PLACEMENT="CALENDAR_GRIDVIEW", HANDLER="http://127.0.0.1:5000/")
    assert placed.json["result"] is True
    assert "CALENDAR_GRIDVIEW" in call(client, "placement.list", admin).json["result"]
    assert state(client)["placements"][0]["placement"] == "CALENDAR_GRIDVIEW"


# --- faults, request log, reset ---

def test_faults_fail_the_next_n_calls_with_retry_after(client: FlaskClient) -> None:
    token = token_for(client, 1)
    client.post("/_sandbox/faults", json={"error_rate": 1, "status": 503, "retry_after": 7, "count": 2})
    for _ in range(2):
        failed = call(client, "user.current", token)
        assert_error(failed, 503, "QUERY_LIMIT_EXCEEDED")
        assert failed.headers["Retry-After"] == "7"
    assert call(client, "user.current", token).status_code == 200


def test_a_path_fault_hits_only_that_method_and_changes_nothing(client: FlaskClient) -> None:
    token = token_for(client, 1)
    client.post("/_sandbox/faults", json={"error_rate": 1, "status": 500, "path": "calendar.event.add"})
    assert call(client, "user.current", token).status_code == 200
    assert_error(call(client, "calendar.event.add", token, **MEETING), 500, "INTERNAL_SERVER_ERROR")
    in_batch = call(client, "batch", token, cmd={"add": f"calendar.event.add?{build_php_query(MEETING)}", "me": "user.current"})
    assert in_batch.json["result"]["result_error"]["add"]["error"] == "INTERNAL_SERVER_ERROR"
    assert in_batch.json["result"]["result"]["me"]["ID"] == "1"
    assert state(client)["events"] == []


@pytest.mark.parametrize("status, code", [(401, "expired_token"), (403, "ACCESS_DENIED"), (429, "OPERATION_TIME_LIMIT"),
                                          (500, "INTERNAL_SERVER_ERROR"), (503, "QUERY_LIMIT_EXCEEDED"), (418, "ERROR_CORE")])
def test_fault_statuses_carry_realistic_codes(client: FlaskClient, status: int, code: str) -> None:
    token = token_for(client, 1)
    client.post("/_sandbox/faults", json={"error_rate": 1, "status": status})
    assert_error(call(client, "user.current", token), status, code)


def test_a_hang_answers_504(client: FlaskClient) -> None:
    client.post("/_sandbox/faults", json={"timeout_rate": 1, "hang_ms": 1})
    assert call(client, "user.current", token_for(client, 1)).status_code == 504


def test_the_request_log_counts_rest_batch_and_oauth_calls(client: FlaskClient) -> None:
    issued = client.post("/_sandbox/tokens", json={"user_id": 1}).json
    call(client, "user.current", issued["access_token"])
    call(client, "USER.CURRENT", issued["access_token"])
    call(client, "batch", issued["access_token"], cmd={"a": "calendar.event.get?type=user&ownerId=1"})
    refresh(client, issued["refresh_token"])
    requests = state(client)["requests"]
    assert requests["user.current"] == 2 and requests["batch"] == 1
    assert requests["batch:calendar.event.get"] == 1 and requests["oauth/token"] == 1


def test_reset_restores_the_initial_state(client: FlaskClient) -> None:
    token = token_for(client, 1)
    add_event(client, token)
    call(client, "im.notify.system.add", token, USER_ID=2, MESSAGE="x")
    client.post("/_sandbox/config", json={"token_ttl": 5})
    client.post("/_sandbox/faults", json={"error_rate": 1, "status": 500, "path": "nothing"})
    assert client.post("/_sandbox/reset").json == {"reset": True}
    after = state(client)
    assert after["events"] == [] and after["notifications"] == [] and after["requests"] == {}
    assert after["faults"] == {} and after["config"]["token_ttl"] == 3600 and len(after["users"]) == 7
    assert_error(call(client, "user.current", token), 401, "invalid_token")


def test_fixed_values_yield_to_env_and_then_to_config(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_BITRIX24_PUBLIC_URL", "https://portal.example.com")
    monkeypatch.setenv("SANDBOX_APP_URL", "https://app.example.com/b24/")
    monkeypatch.setenv("SANDBOX_BITRIX24_TOKEN_TTL", "120")
    client = create_app({"clock": clock, "member_id": "m-1"}).test_client()
    launch = client.post("/_sandbox/launch", json={"user_id": 1}).json
    assert (launch["query"]["DOMAIN"], launch["query"]["PROTOCOL"]) == ("portal.example.com", "1")
    assert launch["url"].startswith("https://app.example.com/b24/?")
    assert (launch["form"]["member_id"], launch["form"]["AUTH_EXPIRES"]) == ("m-1", "120")
    assert launch["form"]["SERVER_ENDPOINT"] == "https://portal.example.com/oauth-server-ru/rest/"


def test_a_batch_pays_the_injected_latency_once_not_per_command(client: FlaskClient, monkeypatch) -> None:
    import sandbox.control
    slept: list[float] = []
    monkeypatch.setattr(sandbox.control.time, "sleep", slept.append)
    token = token_for(client, 1)
    assert client.post("/_sandbox/faults", json={"latency_ms": 300}).status_code == 200
    response = call(client, "batch", token, halt=0, cmd={f"n{u}": f"im.notify.system.add?USER_ID={u}&MESSAGE=Hi"
                                                         for u in (2, 3, 4)})
    assert response.status_code == 200 and len(state(client)["notifications"]) == 3
    assert slept == [0.3]


# --- tokens of other applications on the portal (issue 12, finding 13) ---

def test_app_info_names_the_application_a_token_was_issued_to(client: FlaskClient) -> None:
    """b24restdocs api-reference/common/system/app-info.md: `CODE` is the application's code; the OAuth
    server's app.info answers the token's client_id (b24pysdk bitrix_oauth_requester.py, reference §1.2)."""
    ours, theirs = token_for(client, 2), token_for(client, 2, client_id="local.other.app")
    assert call(client, "app.info", ours).json["result"]["CODE"] == "local.sandbox.telemost"
    assert call(client, "app.info", theirs).json["result"]["CODE"] == "local.other.app"
    assert call(client, "user.current", theirs).json["result"]["ID"] == "2"  # a valid token all the same
    info = client.post("/oauth-server-ru/rest/app.info", json={"auth": theirs}).json["result"]
    assert info["client_id"] == "local.other.app"


def test_a_refresh_token_works_only_for_the_application_it_was_issued_to(client: FlaskClient) -> None:
    """RFC 6749 §6: the server validates that the refresh token "was issued to the authenticated client"."""
    pair = client.post("/_sandbox/tokens", json={"user_id": 2, "client_id": "local.other.app"}).json
    answer = client.post("/oauth-server-ru/oauth/token/", data={
        "grant_type": "refresh_token", "client_id": "local.sandbox.telemost", "client_secret": "sandbox-secret",
        "refresh_token": pair["refresh_token"]})
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"
