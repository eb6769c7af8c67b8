"""The portal echoes calendar writes made through REST, the app's own included (issue 13, B3).

Sources: OnCalendarEntryAdd / Update / Delete fire when an event is changed "manually or via the method
calendar.event.add / update / delete" (b24restdocs api-reference/calendar/calendar-event/events/index.md);
an event goes through the queue server first and "may arrive with a slight delay", to the handlers bound
with event.bind (api-reference/events/index.md, "How Events Work", "Features of Operation"); its `data` is
{"id": "<event id>"} and its tokens are those of the user whose action triggered it
(api-reference/calendar/calendar-event/events/on-calendar-entry-update.md; events/index.md "Parameter auth").
"""
from __future__ import annotations

from flask.testing import FlaskClient

from tests.support.processes import wait_until

from .test_bitrix24_emulator import MEETING, call, token_for
from .test_bitrix24_portal_page import Receiver, app_client, bind, make_client, receiver  # noqa: F401


def installed_with_echoes(client: FlaskClient, receiver: Receiver, delay: float, *events: str) -> str:
    client.post("/_sandbox/install", json={"user_id": 1})
    handler = f"{receiver.root}bitrix/events"
    for event in events:
        bind(client, event, handler)
    assert client.post("/_sandbox/echoes", json={"delay_seconds": delay}).json == {"delay_seconds": delay}
    return handler


def test_a_rest_write_is_echoed_later_to_the_bound_handlers_as_its_author(app_client: FlaskClient,
                                                                         receiver: Receiver) -> None:
    installed_with_echoes(app_client, receiver, 0.05, "ONCALENDARENTRYUPDATE", "ONCALENDARENTRYDELETE")
    anna = token_for(app_client, 2)
    event_id = call(app_client, "calendar.event.add", anna, **{**MEETING, "ownerId": 2}).json["result"]
    call(app_client, "calendar.event.update", anna, id=event_id, type="user", ownerId=2, name="Moved")
    call(app_client, "calendar.event.delete", anna, id=event_id)

    wait_until(lambda: len(receiver.hits) >= 2, 10, "the two echoes")
    forms = [dict(hit["form"]) for hit in receiver.hits]
    # ONCALENDARENTRYADD is not bound: it goes nowhere.
    assert sorted(f["event"] for f in forms) == ["ONCALENDARENTRYDELETE", "ONCALENDARENTRYUPDATE"]
    assert all((f["data[id]"], f["auth[user_id]"], f["auth[member_id]"]) ==
               (str(event_id), "2", "5a0db0f5c3d54b3e8f2a1c0d9e8f7a6b") for f in forms)


def test_an_echo_waits_in_the_queue_and_a_reset_drops_it(app_client: FlaskClient, receiver: Receiver) -> None:
    installed_with_echoes(app_client, receiver, 30, "ONCALENDARENTRYUPDATE")
    anna = token_for(app_client, 2)
    event_id = call(app_client, "calendar.event.add", anna, **{**MEETING, "ownerId": 2}).json["result"]
    call(app_client, "calendar.event.update", anna, id=event_id, type="user", ownerId=2, name="Moved")
    assert receiver.hits == []  # thirty seconds in the queue
    portal = app_client.application.extensions["bitrix24_portal"]
    waiting = portal.echoes
    app_client.post("/_sandbox/reset")
    assert waiting._waiting == set() and portal.echoes is not waiting


def test_the_echo_delay_is_checked(app_client: FlaskClient) -> None:
    for bad in (-1, 61, "1", True, None):
        assert app_client.post("/_sandbox/echoes", json={"delay_seconds": bad}).status_code == 400
