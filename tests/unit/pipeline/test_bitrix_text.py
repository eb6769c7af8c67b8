"""What the app writes into Bitrix24 (shared/pipeline/bitrix_text.py), sent by the app's own client and read
by the Bitrix24 emulator as the platform reads it (issue 13: findings B2, B4, B5, B12).

No network: the client's requests go to the emulator's WSGI app in-process (FlaskTransport), the same bytes
as over HTTP. Sources are cited per test; the emulator's side of each rule is tested, with its source, in
tests/sandbox/test_bitrix24_calendar_rules.py and tests/sandbox/test_bitrix24_emulator.py.
"""
from __future__ import annotations

import html
import re
import os
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from sandbox.bitrix24 import create_app
from sandbox.bitrix24.notify import render
from shared.clients.bitrix24 import Bitrix24Client, error_from
from shared.models import Conference
from shared.pipeline import bitrix_text
from shared.pipeline.batch import run_batches
from shared.pipeline.steps.calendar_event import calendar_event, calendar_refusal, calendar_update
from tests.sandbox.conftest import FakeClock

PORTAL = "http://portal.test"
JOIN = "https://telemost.yandex.ru/j/12345678901234"
OWN_LINK = {"url": JOIN, "text": "Join the meeting"}


class FlaskTransport(requests.adapters.BaseAdapter):
    """Hands a prepared request to a Flask test client and its answer back as a requests.Response."""

    def __init__(self, client: FlaskClient) -> None:
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        answer = self.client.open(request.path_url, method=request.method, data=request.body,
                                  headers=dict(request.headers))
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.get_data()
        response.headers.update(answer.headers)
        response.url, response.request = request.url, request
        return response

    def close(self) -> None:
        pass


def new_emulator(**settings: Any) -> FlaskClient:
    return create_app({"clock": FakeClock(), **settings}).test_client()


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    for name in list(os.environ):  # the emulator's defaults: users 1 (Ivan, admin), 2 (Anna), 3 (Sergey)
        if name.startswith("SANDBOX_"):
            monkeypatch.delenv(name)
    return new_emulator()


def _client(emulator: FlaskClient, rest_url: str, auth: str | None = None) -> Bitrix24Client:
    session = requests.Session()
    session.mount(PORTAL, FlaskTransport(emulator))
    return Bitrix24Client(rest_url, auth=auth, session=session)


def portal_as(emulator: FlaskClient, user_id: int) -> Bitrix24Client:
    """The app's client on a user's OAuth token."""
    token = emulator.post("/_sandbox/tokens", json={"user_id": user_id}).json["access_token"]
    return _client(emulator, f"{PORTAL}/rest/", token)


def webhook_of(emulator: FlaskClient, user_id: int) -> Bitrix24Client:
    """The app's client on the inbound webhook that user made (BITRIX24_WEBHOOK_URL)."""
    return _client(emulator, f"{PORTAL}/rest/{user_id}/sandboxwebhook/")


def portal_state(emulator: FlaskClient) -> dict[str, Any]:
    return emulator.get("/_sandbox/state").json


def conference(**fields: Any) -> Conference:
    values = {"public_id": "c0ffee", "owner_id": 2, "owner_name": "Anna Smirnova", "type": "meeting",
              "name": "Weekly sync", "description": None, "timezone": "Europe/Moscow", "duration_minutes": 30,
              "start_at": datetime(2027, 2, 1, 7, 0, tzinfo=timezone.utc), "join_url": JOIN, "watch_url": None,
              "invitees": [3]}
    return Conference(**{**values, **fields})


# --- B2: meeting flags, B5: a section ------------------------------------------------------------------------

def test_meeting_flags_arrive_as_meant_through_a_batch_and_as_json(emulator: FlaskClient) -> None:
    """B2. b24restdocs calendar-event-add.md and calendar-event-update.md type meeting[notify|reinvite|
    allow_invite|hide_guests] boolean, and the core casts them with PHP's (bool), so "N" is TRUE. The app
    writes calendars in batch commands (query strings, where false must be "0" or "") and could send JSON
    too: either way guests are visible, nobody invites others or re-confirms, the organiser is told."""
    anna = portal_as(emulator, 2)
    meant = {"notify": True, "reinvite": False, "allow_invite": False, "hide_guests": False}
    _, errors = run_batches(anna, {"calendar": ("calendar.event.add", calendar_event(conference()))})
    assert errors == {}
    anna.result("calendar.event.add", calendar_event(conference(public_id="json")))
    assert [event["meeting"] for event in portal_state(emulator)["events"]] == [meant, meant]


def test_an_event_is_added_without_a_section_and_updated_without_auto_detection(emulator: FlaskClient) -> None:
    """B5. calendar-event-add.md: without `section` the method is said to detect one; the core copy does so
    only with auto_detect_section=Y, which the emulator follows (UNVERIFIED which is current: sending Y is
    right both ways). calendar-event-update.md knows no auto_detect_section, so an update leaves it out."""
    anna, meeting = portal_as(emulator, 2), conference()
    added = calendar_event(meeting)
    assert "section" not in added and added["auto_detect_section"] == "Y"
    results, errors = run_batches(anna, {"calendar": ("calendar.event.add", added)})
    assert errors == {}
    update = calendar_update(conference(name="Moved"), int(results["calendar"]), None)
    assert "auto_detect_section" not in update
    _, errors = run_batches(anna, {"calendar": ("calendar.event.update", update)})
    assert errors == {} and portal_state(emulator)["events"][0]["name"] == "Moved"


# --- B4: who may write a user's calendar -------------------------------------------------------------------

def test_a_webhook_that_may_not_write_the_owners_calendar_fails_the_step_with_what_to_do(emulator: FlaskClient) -> None:
    """B4. calendar-event-add.md: the organiser is always the caller ("Event Organizer"), and "Access denied"
    (empty code) where creating events in that calendar is prohibited; the core lets an administrator and the
    owner write a user calendar. Through the webhook of an employee who is no administrator (Anna), Sergey's
    meeting cannot go into his calendar: the step says who can fix it, and nothing is made. Through an
    administrator's webhook (Ivan) it goes into Sergey's calendar, with Ivan as its organiser."""
    sergeys = calendar_event(conference(owner_id=3, invitees=[]))
    annas = new_emulator(webhook_user_id=2)
    _, errors = run_batches(webhook_of(annas, 2), {"calendar": ("calendar.event.add", sergeys)})
    refusal = calendar_refusal(errors["calendar"], owner_id=3)
    assert not refusal.transient and "calendar of user 3 (Access denied)" in refusal.message
    assert "administrator" in refusal.message and "BITRIX24_WEBHOOK_URL" in refusal.message
    assert portal_state(annas)["events"] == []

    _, errors = run_batches(webhook_of(emulator, 1), {"calendar": ("calendar.event.add", sergeys)})
    assert errors == {}
    event = portal_state(emulator)["events"][0]
    assert (event["owner_id"], event["host_id"]) == (3, 1)


def test_other_refusals_keep_their_own_message() -> None:
    """calendar-event-update.md writes the same refusal "Access denied." (with a full stop): read the same."""
    refusal = calendar_refusal(error_from("", "Access denied.", 400, None), 3)
    assert "calendar of user 3 (Access denied)" in refusal.message
    scope = error_from("insufficient_scope", "Access denied", 403, None)
    assert calendar_refusal(scope, 3) is scope
    busy = error_from("QUERY_LIMIT_EXCEEDED", "Too many requests", 503, None)
    assert calendar_refusal(busy, 3) is busy


# --- B12: user text in notifications ------------------------------------------------------------------------

NAME = "Q&A [URL=https://evil.example/phish]Open the meeting[/URL] [B]now[/B] &#91;URL=https://evil.example/e&#93;x"


def test_user_text_in_a_notification_shows_as_typed_and_makes_no_tag(emulator: FlaskClient) -> None:
    """B12. b24restdocs api-reference/chats/messages/formatting.md (and imbot.v2 message-formatting.md, which
    lists the BB codes of im.notify.*) says nothing of HTML entities being decoded: "Q&amp;A" would show as
    typed. The user's text shows as typed and makes no tag, and stays harmless if a view did decode
    entities (UNVERIFIED either way: both are checked)."""
    meeting = conference(name=NAME, owner_name="R&D [URL=https://evil.example/o]Boss[/URL]")
    invitation = bitrix_text.invitation(meeting, 3, None)
    _, errors = run_batches(portal_as(emulator, 2), {"notify_3": ("im.notify.system.add", invitation)})
    assert errors == {}
    note = portal_state(emulator)["notifications"][0]
    assert note["shown"].startswith(f"{meeting.owner_name} invites you to the meeting «{NAME}» on 2027-02-01 10:00")
    assert note["links"] == [OWN_LINK]
    assert render(html.unescape(note["message"]))[1] == [OWN_LINK]  # were entities decoded, still no tag
    assert note["message_out"].startswith(f"{meeting.owner_name} invites you to the meeting «{NAME}»")


def test_user_text_in_the_calendar_event_makes_no_tag_either() -> None:
    """The event's name and description are BB code where the portal shows them: read as the messenger reads
    BB code (the emulator's render), with or without entity decoding, they show as typed and link nowhere."""
    params = calendar_event(conference(name=NAME, description=f"Agenda: {NAME}"))
    for decode in (str, html.unescape):
        assert render(decode(params["name"])) == (NAME, [])
        shown, links = render(decode(params["description"]))
        assert f"Agenda: {NAME}" in shown and links == []


@pytest.mark.parametrize("typed", ["[URL=https://evil]click[/URL]", "[/b]", "[br]", "&#91;b&#93;", "&amp;", "Q&A"])
def test_user_text_can_open_no_tag_and_no_entity(typed: str) -> None:
    """Neither "[" followed by a tag's name or "/" nor "&" followed by "#" or a name is left in the user's text."""
    assert not re.search(r"\[/?\w|&[#\w]", bitrix_text.bb_text(typed))
    assert bitrix_text.bb_text(typed).replace(bitrix_text.WORD_JOINER, "") == typed
