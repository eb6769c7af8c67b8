"""What the page needs from the API to speak the user's language and to poll for nothing (issue 15):
every error carries stable codes (the request's `code` and `reason`, each field's `field_codes`), every
such code has a Russian and an English text in the front end, and a conference or list that has not
changed answers 304 to the ETag of its last answer."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.problems import PYDANTIC_CODES

ROOT = Path(__file__).resolve().parents[2]
SERVER_TEXTS = ROOT / "web" / "frontend" / "src" / "messages" / "server.js"
LANGUAGES = ("ru", "en")


def texts(language: str) -> set[str]:
    """The keys of one language's block in messages/server.js."""
    source = SERVER_TEXTS.read_text(encoding="utf-8")
    block = re.search(rf"export const {language} = \{{(.*?)\n\}}", source, re.S)
    assert block, f"no `{language}` block in {SERVER_TEXTS}"
    return set(re.findall(r"^\s*'([^']+)':", block.group(1), re.M))


def codes_in_sources(pattern: str) -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.joinpath("shared").rglob("*.py"), *ROOT.joinpath("web").rglob("*.py")]:
        found |= set(re.findall(pattern, path.read_text(encoding="utf-8"), re.S))
    return found


def test_every_code_the_server_can_send_has_a_text_in_both_languages():
    from web.errors import CODES

    from shared.portal.access import REAUTH

    request_codes = set(CODES.values()) | codes_in_sources(r'reason="(\w+)"') | {REAUTH}
    field_codes = ({code for code, _ in PYDANTIC_CODES.values()} | codes_in_sources(r'Rule\(\s*"(\w+)"')
                   | codes_in_sources(r'Problem\(\s*(?:f?"[^"]*"\s*)+,\s*"(\w+)"') | {"invalid"})
    assert {"blank", "too_long", "in_the_past", "required_for_calendar", "unchangeable"} <= field_codes
    wanted = {f"error.{c}" for c in request_codes} | {f"field.{c}" for c in field_codes}
    for language in LANGUAGES:
        missing = wanted - texts(language)
        assert not missing, f"{language}: no text for {sorted(missing)}"


def test_both_languages_name_the_same_server_codes():
    assert texts("ru") == texts("en")


@pytest.mark.parametrize("body, field, detail", [
    ({"name": " "}, "name", {"code": "blank"}),
    ({"name": "x" * 256}, "name", {"code": "too_long", "limit": 255}),
    ({"name": "x", "cohosts": ["a@example.com", "nope"]}, "cohosts.1", {"code": "not_email"}),
    ({"name": "x", "cohosts": ["a@example.com", "a@example.com"]}, "cohosts", {"code": "duplicate"}),
    ({"name": "x", "start_at": "2020-01-01T10:00:00+03:00"}, "start_at", {"code": "in_the_past", "minutes": 5}),
    ({"name": "x", "start_at": "tomorrow"}, "start_at", {"code": "not_a_datetime"}),
    ({"name": "x", "create_calendar_event": True}, "start_at", {"code": "required_for_calendar"}),
    ({"name": "x", "type": "broadcast"}, "live_stream", {"code": "required_for_broadcast"}),
    ({"name": "x", "duration_minutes": 0}, "duration_minutes", {"code": "too_small", "ge": None}),
    ({"name": "x", "timezone": "Mars/Olympus"}, "timezone", {"code": "not_a_timezone"}),
    ({"name": "x", "colour": "red"}, "colour", {"code": "unknown_field"}),
    ({}, "name", {"code": "required"}),
])
def test_each_field_problem_has_a_code_and_its_figures(anna, body, field, detail):
    response = anna.request("POST", "/api/conferences", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]
    got = error["field_codes"][field]
    assert got["code"] == detail["code"], got
    for name, value in detail.items():
        if name != "code" and value is not None:
            assert got[name] == value, got


def test_a_request_error_keeps_its_code_and_names_a_finer_reason(anna):
    missing = anna.request("GET", "/api/conferences/999999").json()["error"]
    assert (missing["code"], missing["reason"]) == ("not_found", "no_such_conference")
    broken = anna.request("POST", "/api/conferences", data=b"{", headers={"Content-Type": "application/json"})
    assert (broken.json()["error"]["code"], broken.json()["error"]["reason"]) == ("bad_request", "invalid_json")
    everyone = anna.request("GET", "/api/conferences", query_string={"scope": "all"}).json()["error"]
    assert (everyone["code"], everyone["reason"]) == ("forbidden", "admin_only")


def test_an_unchanged_conference_answers_304_to_its_etag_and_a_changed_one_200(anna):
    made = anna.create({"name": "Polled"})
    first = anna.request("GET", f"/api/conferences/{made['id']}")
    etag = first.headers["ETag"]
    assert etag and first.headers["Cache-Control"] == "no-store"  # one user's data: never in a shared cache
    again = anna.request("GET", f"/api/conferences/{made['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    start = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    assert anna.request("PUT", f"/api/conferences/{made['id']}", json={"name": "Renamed", "start_at": start,
                                                                      "create_calendar_event": False}).status_code == 202
    changed = anna.request("GET", f"/api/conferences/{made['id']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed" and changed.headers["ETag"] != etag


def test_an_unchanged_list_answers_304_and_a_new_conference_changes_it(anna):
    first = anna.request("GET", "/api/conferences")
    etag = first.headers["ETag"]
    assert anna.request("GET", "/api/conferences", headers={"If-None-Match": etag}).status_code == 304
    anna.create({"name": "Another"})
    assert anna.request("GET", "/api/conferences", headers={"If-None-Match": etag}).status_code == 200
