"""How the emulated calendar reads what an app sends, as Bitrix24's PHP core reads it (issue 13: B2, B4, B5).

Sources: b24restdocs api-reference/calendar/calendar-event/calendar-event-add.md and calendar-event-update.md
(the `meeting` flags are typed boolean; "Access denied"; `section` / `auto_detect_section`), and the core's
CCalendarRestService (bitrix-core-business modules/calendar/classes/general/calendar_restservice.php):
`'NOTIFY' => (bool)$meeting['notify']`, `'REINVITE' => (bool)$meeting['reinvite']`,
`$params['is_meeting'] === "Y"`, and MeetingDescription built with `setHideGuests((bool)...)`,
`setAllowInvite((bool)...)` (modules/calendar/lib/core/builders/eventbuilder.php).
"""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from sandbox.bitrix24.params import build_php_query, is_y, parse_php_query, php_bool

from .test_bitrix24_emulator import MEETING, assert_error, call, client, state, token_for  # noqa: F401

ALL_FALSE = {"notify": False, "reinvite": False, "allow_invite": False, "hide_guests": False}


# --- PHP's (bool) and === "Y" ----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (None, False), ("", False), ("0", False), (0, False), (0.0, False), (False, False), ([], False), ({}, False),
    ("N", True), ("Y", True), ("1", True), ("false", True), ("0.0", True), (" ", True), (1, True), (True, True),
    (["0"], True),
])
def test_php_bool_follows_phps_rules(value: Any, expected: bool) -> None:
    """php.net "Converting to boolean": only null, "", "0", 0, 0.0, false and [] are false. So "N" is true."""
    assert php_bool(value) is expected


@pytest.mark.parametrize("value, expected", [("Y", True), ("y", False), ("N", False), (True, False), ("1", False)])
def test_is_y_is_the_cores_strict_comparison(value: Any, expected: bool) -> None:
    assert is_y(value) is expected


# --- B2: meeting flags -------------------------------------------------------------------------------------

def meeting_flags(client: FlaskClient, meeting: Any, **extra: Any) -> dict[str, bool]:
    token = token_for(client, 1)
    response = call(client, "calendar.event.add", token, **{**MEETING, "is_meeting": "Y", "attendees": [2],
                                                             "meeting": meeting, **extra})
    assert response.status_code == 200, response.json
    return state(client)["events"][-1]["meeting"]


def test_a_meeting_flag_sent_as_n_is_true_as_php_casts_it(client: FlaskClient) -> None:
    """The docs' examples send JSON true/false; the core casts with (bool), so "N" reads as true."""
    flags = meeting_flags(client, {"notify": "Y", "reinvite": "N", "allow_invite": "N", "hide_guests": "N"})
    assert flags == {"notify": True, "reinvite": True, "allow_invite": True, "hide_guests": True}


def test_json_booleans_and_zero_are_false_and_an_absent_flag_is_false(client: FlaskClient) -> None:
    assert meeting_flags(client, {"notify": False, "reinvite": 0, "allow_invite": "0", "hide_guests": ""}) == ALL_FALSE
    assert meeting_flags(client, {"notify": True}) == {**ALL_FALSE, "notify": True}


def test_in_a_batch_command_a_flag_is_a_string_and_php_query_of_false_reads_as_true(client: FlaskClient) -> None:
    """A batch sub-command is a query string: every value arrives as a string, so whatever the sender
    wrote for false must be "" or "0" there (PHP's http_build_query writes false as "0")."""
    token = token_for(client, 1)
    params = {**MEETING, "is_meeting": "Y", "attendees": [2]}
    as_zero = build_php_query({**params, "meeting": {"notify": 1, "reinvite": 0, "allow_invite": 0, "hide_guests": 0}})
    as_n = f"{build_php_query(params)}&meeting[hide_guests]=N"
    result = call(client, "batch", token, cmd={"zero": f"calendar.event.add?{as_zero}", "n": f"calendar.event.add?{as_n}"})
    assert result.status_code == 200 and result.json["result"]["result_error"] == []
    zero, n = state(client)["events"]
    assert zero["meeting"] == {**ALL_FALSE, "notify": True}
    assert n["meeting"]["hide_guests"] is True
    assert parse_php_query("meeting[reinvite]=N")["meeting"]["reinvite"] == "N"


def test_is_meeting_must_be_the_string_y(client: FlaskClient) -> None:
    """The core: `$arFields["IS_MEETING"] = $params['is_meeting'] === "Y"`; JSON true makes no meeting."""
    token = token_for(client, 1)
    call(client, "calendar.event.add", token, **{**MEETING, "is_meeting": True, "attendees": [2]})
    assert state(client)["events"][0]["is_meeting"] is False


# --- B5: a section, or auto_detect_section=Y ---------------------------------------------------------------

def test_without_a_section_the_core_copy_detects_one_only_with_auto_detect_section_y(client: FlaskClient) -> None:
    """The docs: with auto_detect_section absent "the method attempts to auto-detect the section"; the core
    copy sets autoDetectSection only for `=== 'Y'` and otherwise looks the section up by a null ID. Which one
    today's portals do is UNVERIFIED: the stricter is modelled here, and the app is safe both ways: it
    always sends auto_detect_section=Y (tests/unit/pipeline/test_bitrix_text.py)."""
    token = token_for(client, 1)
    bare = {key: value for key, value in MEETING.items() if key != "auto_detect_section"}
    assert_error(call(client, "calendar.event.add", token, **bare), 400, "",
                 "You specified an invalid calendar section ID or the user does not have access to it")
    assert call(client, "calendar.event.add", token, **bare, auto_detect_section="Y").status_code == 200
    section = call(client, "calendar.section.get", token, type="user", ownerId=1).json["result"][0]["ID"]
    assert call(client, "calendar.event.add", token, **bare, section=section).status_code == 200
    assert len(state(client)["events"]) == 2


# --- B4: PERM['edit'] --------------------------------------------------------------------------------------

def test_section_get_tells_who_may_edit_and_add_follows_it(client: FlaskClient) -> None:
    """calendar-event-add.md: the organiser is the calling user, and "Access denied" when creating events in
    that calendar is prohibited; the core checks `$res[0]['PERM']['edit']` of the section (SectionEditRule:
    an admin or the owner). An app can read the same PERM from calendar.section.get before it writes."""
    anna, ivan = token_for(client, 2), token_for(client, 1)

    def editable(token: str, owner: int) -> bool:
        return call(client, "calendar.section.get", token, type="user", ownerId=owner).json["result"][0]["PERM"]["edit"]

    assert (editable(anna, 2), editable(anna, 3), editable(ivan, 3)) == (True, False, True)
    sergeys = call(client, "calendar.section.get", anna, type="user", ownerId=3).json["result"][0]["ID"]
    denied = call(client, "calendar.event.add", anna, **{**MEETING, "ownerId": 3, "section": sergeys})
    assert_error(denied, 400, "", "Access denied")
    assert state(client)["events"] == []
