"""Issue 12, findings 1, 2, 3 and 9: what an ordinary employee can do with the application token that every
launch hands to their browser (DESIGN §5). Each test is the attack, made by Anna (user 2, not an
administrator) through the app's HTTP API; the app must believe only what the portal itself says.

Sources: the application token "is sent to every event handler" and proves the event comes from Bitrix24
only as long as it is secret (b24restdocs api-reference/events/safe-event-handlers.md); it is also posted in
every launch (reference/bitrix24-rest.md §1.1, APPLICATION_TOKEN). An uninstall revokes the app's tokens
(b24restdocs api-reference/common/events/on-app-uninstall.md: "all access permissions for the application to
the API are revoked"; settings/app-uninstallation.md). calendar.event.getbyid answers the event's fields or
null (b24restdocs api-reference/calendar/calendar-event-get-by-id.md).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from shared.models import BitrixCredential
from tests.integration.stack import ApiClient
from tests.integration.test_identity import genuine_uninstall, post_event
from tests.integration.test_pipeline import meeting
from tests.integration.test_portal_events import stored_events
from tests.support.processes import wait_until

from .test_attacks import ready


def annas_launch(stack) -> dict:
    """What Anna's browser holds after opening the app: the launch form, application token included."""
    return stack.launch(2)["form"]


def forged(form: dict, event: str, **fields) -> dict:
    return {"event": event, "ts": str(int(time.time())), "auth[member_id]": form["member_id"],
            "auth[application_token]": form["APPLICATION_TOKEN"], **fields}


def requests_of(stack, method: str) -> int:
    return stack.bitrix_state()["requests"].get(method, 0)


def notified(stack) -> list[str]:
    return [n["message"] for n in stack.bitrix_state()["notifications"]]


def test_a_forged_calendar_delete_cancels_nothing_the_portal_did_not_delete(stack, anna, ivan):
    """Finding 1: sequential event ids, Anna's own launch token: every conference of the portal was cancelled."""
    targets = [ready(api, meeting(invitees=[3])) for api in (ivan, stack.login(4), anna)]
    events_before, notes_before = stack.bitrix_state()["events"], notified(stack)
    reads = requests_of(stack, "calendar.event.getbyid")
    form = annas_launch(stack)
    ids = [t["calendar_event_id"] for t in targets]

    # Sequential ids around this test's events (the database outlives the emulator's reset: lower ids may
    # belong to earlier tests' conferences whose events the reset really did delete).
    for event_id in range(min(ids), max(ids) + 3):
        response = post_event(stack, forged(form, "ONCALENDARENTRYDELETE", **{"data[id]": str(event_id)}))
        assert response.status_code == 200, response.text
        assert response.json()["checking"] is True or event_id not in ids, response.text

    def cancelled() -> list[str]:  # the administrator sees every conference of the portal
        listed = ivan.request("GET", "/api/conferences", params={"scope": "all", "per_page": 100}).json()["items"]
        return [c["status"] for c in listed if c["id"] in {t["id"] for t in targets} and c["status"] != "ready"]

    # One read of each linked event, with its owner's own pair; then nothing happens (or, unfixed, a cancel).
    wait_until(lambda: requests_of(stack, "calendar.event.getbyid") >= reads + len(targets) or cancelled(),
               30, "the app asks the portal")
    time.sleep(1)
    assert cancelled() == []
    assert stack.bitrix_state()["events"] == events_before
    assert notified(stack) == notes_before
    assert all(r["waiting_room_level"] != "ADMINS" for r in stack.telemost_state()["conferences"])


def test_a_flood_of_forged_calendar_updates_costs_the_portal_one_read(stack, anna):
    """Finding 3: 60 forged ONCALENDARENTRYUPDATE for one event were 60 REST calls from the portal's budget."""
    target = ready(anna, meeting(invitees=[]))
    reads = requests_of(stack, "calendar.event.getbyid")
    form = annas_launch(stack)
    body = forged(form, "ONCALENDARENTRYUPDATE", **{"data[id]": str(target["calendar_event_id"])})

    with ThreadPoolExecutor(8) as pool:  # as fast as a script sends them
        answers = list(pool.map(lambda _: post_event(stack, body).status_code, range(60)))
    assert answers == [200] * 60

    wait_until(lambda: requests_of(stack, "calendar.event.getbyid") > reads, 30, "the one read")
    time.sleep(3)  # longer than the check's delay: a second read would have happened by now
    assert requests_of(stack, "calendar.event.getbyid") == reads + 1
    assert anna.get(target["id"])["version"] == target["version"]  # the event did not change: nor does the conference


def test_forged_events_of_calendar_entries_the_app_did_not_make_are_not_even_stored(stack, database):
    """Bitrix24 sends an event once ("No retries", b24restdocs api-reference/events/index.md), so each hint is
    stored before the answer; the application token is public (DESIGN §5), so a hint about an entry that no
    conference of ours links is answered 200 and dropped: a script cannot fill the table with them."""
    form = annas_launch(stack)
    before = stored_events(database)
    for event_id in range(10**9, 10**9 + 30):
        response = post_event(stack, forged(form, "ONCALENDARENTRYUPDATE", **{"data[id]": str(event_id)}))
        assert response.status_code == 200 and response.json()["checking"] is False, response.text
    assert stored_events(database) == before


def test_a_forged_uninstall_keeps_the_app_installed_for_everyone(stack, anna, ivan, database):
    """Finding 2: every stored pair was deleted and every user got 401 while the portal showed the app installed."""
    form = annas_launch(stack)
    asked = requests_of(stack, "app.info")
    with database.read() as session:
        pairs = session.scalar(select(func.count()).select_from(BitrixCredential))

    for _ in range(20):
        response = post_event(stack, forged(form, "ONAPPUNINSTALL", **{"data[CLEAN]": "1"}))
        assert response.status_code == 200, response.text

    wait_until(lambda: requests_of(stack, "app.info") > asked or anna.request("GET", "/api/current-user").status_code
               == 401, 30, "the app asks the portal")
    time.sleep(3)
    assert requests_of(stack, "app.info") == asked + 1  # twenty forgeries, one question to the portal
    for api in (anna, ivan):
        assert api.request("GET", "/api/current-user").status_code == 200
    assert stack.open_app(3).status_code == 200
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(BitrixCredential)) >= pairs
    assert ready(anna, meeting(invitees=[3]))["status"] == "ready"


def test_a_token_from_before_an_uninstall_does_not_work_after_a_reinstall(stack, anna):
    """Finding 9: an app token issued before an uninstall worked again after a reinstall, and the Yandex connect
    popup opened while the app was uninstalled."""
    old = anna.token
    genuine_uninstall(stack)
    wait_until(lambda: anna.request("GET", "/api/current-user").status_code == 401, 30, "the uninstall confirmed")
    popup = requests.get(f"{stack.web_url}/auth/yandex/login", params={"token": old}, allow_redirects=False)
    assert popup.status_code == 401

    stack.install()

    assert ApiClient(stack.web_url, old).request("GET", "/api/current-user").status_code == 401
    popup = requests.get(f"{stack.web_url}/auth/yandex/login", params={"token": old}, allow_redirects=False)
    assert popup.status_code == 401
    assert stack.login(2).request("GET", "/api/current-user").status_code == 200  # a new launch is welcome
