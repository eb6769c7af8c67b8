"""The table-checking logic on its own: known-good samples pass, known-bad ones fail (each names its source)."""
from __future__ import annotations

import pytest

from .bitrix24_methods import METHODS, OAUTH_ROUTES
from .checker import check_method, check_route, find_route
from .schema import Param
from .telemost_routes import ROUTES
from .traffic import ALL_ROUTES, Traffic, check_bitrix, check_telemost

# The example of calendar-event-add.md ("cURL (OAuth)"), as JSON: the page's own call must pass.
DOCS_EXAMPLE = {"type": "user", "ownerId": 2, "name": "New Event Name", "description": "Description for event",
                "from": "2024-06-14", "to": "2024-06-14", "skip_time": "Y", "section": 5, "color": "#9cbe1c",
                "text_color": "#283033", "accessibility": "absent", "importance": "normal", "is_meeting": "Y",
                "private_event": "N", "remind": [{"type": "min", "count": 20}], "location": "New York",
                "attendees": [1, 2, 3], "meeting": {"notify": True, "reinvite": False, "allow_invite": False,
                                                    "hide_guests": False},
                "rrule": {"FREQ": "WEEKLY", "BYDAY": ["MO", "WE"], "COUNT": 10, "INTERVAL": 1},
                "crm_fields": ["C_5", "L_11"], "auth": "token"}


def problems(name: str, params: dict, typed: bool = True, in_batch: bool = False) -> dict[str, str]:
    return {p.where: p.message for p in check_method(METHODS[name], params, typed, in_batch)}


def test_the_pages_own_example_conforms():
    assert problems("calendar.event.add", DOCS_EXAMPLE) == {}


@pytest.mark.parametrize("flag", ["N", "Y", "false"])
def test_a_php_bool_flag_sent_as_a_string_fails(flag):
    """calendar-event-add.md types meeting[reinvite] boolean; the core casts with (bool), so "N" is true (B2)."""
    found = problems("calendar.event.add", {**DOCS_EXAMPLE, "meeting": {"reinvite": flag}})
    assert list(found) == ["meeting.reinvite"] and "PHP's (bool)" in found["meeting.reinvite"]


@pytest.mark.parametrize("flag, typed", [(False, True), (0, True), ("0", False), ("", False), ("1", False)])
def test_a_php_bool_flag_as_json_boolean_or_as_1_0_passes(flag, typed):
    assert problems("calendar.event.add", {**DOCS_EXAMPLE, "meeting": {"reinvite": flag}}, typed) == {}


def test_a_y_n_field_sent_as_json_true_fails():
    """is_meeting is a string Y|N (calendar-event-add.md); the core compares === "Y", so JSON true is not Y."""
    assert "=== 'Y'" in problems("calendar.event.add", {**DOCS_EXAMPLE, "is_meeting": True})["is_meeting"]


def test_an_unknown_parameter_and_a_missing_required_one_fail():
    params = {k: v for k, v in DOCS_EXAMPLE.items() if k != "name"}
    found = problems("calendar.event.add", {**params, "title": "x"})
    assert set(found) == {"name", "title"}


def test_section_is_required_unless_auto_detect_section_is_y():
    """"section*: required if auto_detect_section is passed and not equal to Y" (calendar-event-add.md; B5)."""
    without = {k: v for k, v in DOCS_EXAMPLE.items() if k != "section"}
    assert set(problems("calendar.event.add", without)) == {"section"}
    assert set(problems("calendar.event.add", {**without, "auto_detect_section": "N"})) == {"section"}
    assert problems("calendar.event.add", {**without, "auto_detect_section": "Y"}) == {}


def test_values_outside_the_listed_ones_and_wrong_types_fail():
    found = problems("calendar.event.add", {**DOCS_EXAMPLE, "accessibility": "away", "ownerId": "two",
                                            "timezone_from": "Moscow", "from": "14.06.2024",
                                            "remind": [{"type": "week", "count": 1}]})
    assert set(found) == {"accessibility", "ownerId", "timezone_from", "from", "remind[0].type"}


def test_a_batch_command_is_text_and_may_name_an_earlier_answer():
    """batch.md: commands are "method?query" strings, so numbers arrive as text; $result[key] is substituted."""
    assert problems("calendar.event.getbyid", {"id": "$result[calendar]"}, typed=False, in_batch=True) == {}
    assert set(problems("calendar.event.getbyid", {"id": "$result[calendar]"}, typed=False)) == {"id"}
    assert problems("calendar.event.delete", {"id": "15"}, typed=False) == {}


def test_through_a_webhook_a_tag_needs_the_client_id():
    """im-notify-system-add.md: CLIENT_ID "is required only when calling via a webhook: pass it together with TAG"."""
    message = {"USER_ID": 3, "MESSAGE": "Hi", "TAG": "telemost|x|3"}
    assert check_method(METHODS["im.notify.system.add"], message, typed=True) == []
    through_webhook = check_method(METHODS["im.notify.system.add"], message, True, webhook=True)
    assert [p.where for p in through_webhook] == ["CLIENT_ID"]
    assert check_method(METHODS["im.notify.system.add"], {**message, "CLIENT_ID": "app"}, True, webhook=True) == []


def test_a_batch_holds_at_most_50_commands():
    """batch.md: "A single batch contains no more than 50 subqueries"."""
    assert set(problems("batch", {"cmd": {str(i): "user.current" for i in range(51)}})) == {"cmd"}
    assert problems("batch", {"cmd": {str(i): "user.current" for i in range(50)}, "halt": 0}) == {}


def test_find_cannot_be_combined_with_another_filter_field():
    """user-search.md: "It is not possible to use FIND and any other field simultaneously"."""
    assert set(problems("user.search", {"FILTER": {"FIND": "Olga", "NAME": "Olga"}})) == {"FILTER.FIND"}
    assert problems("user.search", {"FILTER": {"FIND": "Olga"}, "start": 50}) == {}


def test_a_telemost_create_is_held_to_the_openapi_body():
    route = find_route(ROUTES, "telemost", "POST", "/conferences")
    good = {"http_method": "POST", "path": "/conferences", "transport": "json", "authorization": "OAuth",
            "query": {}, "body": {"waiting_room_level": "PUBLIC", "cohosts": [{"email": "a@b.ru"}]}}
    assert check_route(route, good) == []
    bad = {**good, "authorization": "Bearer", "transport": "form",
           "body": {"waiting_room_level": "OPEN", "title": "x", "cohosts": [{"email": "a@b.ru"}] * 31}}
    assert {p.where for p in check_route(route, bad)} == {"(authorization)", "(transport)", "waiting_room_level",
                                                          "title", "cohosts"}


def test_cohost_emails_are_a_comma_separated_list_of_at_most_30():
    route = find_route(ROUTES, "telemost", "DELETE", "/conferences/123/cohosts")
    request = {"http_method": "DELETE", "authorization": "OAuth", "transport": "none", "body": None}
    assert check_route(route, {**request, "query": {"cohost_emails": "a@x.ru,b@y.ru"}}) == []
    assert check_route(route, {**request, "query": {"cohost_emails": "a@x.ru;b@y.ru"}}) != []
    assert check_route(route, {**request, "query": {"cohost_emails": ",".join(["a@x.ru"] * 31)}}) != []


def test_the_bitrix_oauth_app_info_is_called_as_an_sdk_calls_it():
    """b24pysdk: GET .../rest/app.info/?auth=; b24phpsdk: POST JSON .../rest/app.info. No .json (finding B11)."""
    assert find_route(OAUTH_ROUTES, "bitrix-oauth", "GET", "/rest/app.info/") is not None
    post = find_route(OAUTH_ROUTES, "bitrix-oauth", "POST", "/rest/app.info")
    assert check_route(post, {"http_method": "POST", "transport": "json", "query": {}, "body": {"auth": "t"}}) == []
    assert [p.where for p in check_route(post, {"http_method": "POST", "transport": "json", "query": {},
                                                "body": {}})] == ["auth"]
    assert find_route(OAUTH_ROUTES, "bitrix-oauth", "POST", "/rest/app.info.json") is None


def test_captured_requests_become_checked_calls_and_a_call_without_a_table_fails():
    traffic = Traffic()
    check_bitrix([{"service": "rest", "method": "batch", "transport": "json",
                   "params": {"halt": 0, "cmd": {"a": "user.current", "b": "crm.deal.add?fields[TITLE]=x"}},
                   "commands": [{"key": "a", "method": "user.current", "params": {}},
                                {"key": "b", "method": "crm.deal.add", "params": {"fields": {"TITLE": "x"}}}]}],
                 traffic)
    check_telemost([{"http_method": "GET", "path": "/v1/telemost-api/conferences", "query": {}, "body": None,
                     "transport": "none", "authorization": "OAuth"}], traffic)
    assert traffic.calls == ["batch", "user.current", "crm.deal.add", "telemost GET /conferences"]
    assert [(p.call, p.where) for p in traffic.problems] == [("crm.deal.add", "(table)"),
                                                            ("telemost GET /conferences", "(table)")]


def test_every_table_names_its_source_and_every_route_is_unique():
    assert all(method.source for method in METHODS.values())
    assert all(route.source for route in ALL_ROUTES)
    keys = [(r.service, r.http_method, r.path) for r in ALL_ROUTES]
    assert len(keys) == len(set(keys))
    with pytest.raises(ValueError):
        Param("boolean")  # a kind the checker does not know is refused at once
