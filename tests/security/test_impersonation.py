"""Issue 12, finding 4: acting in the administrator's name. A user without a pair of their own (every session
from POST /api/session, a launch with a bogus REFRESH_ID) got calendar events hosted by the administrator and
people search with the administrator's rights. Work done for a user is done with their own pair, or fails
with "open the app in the portal"; a posted REFRESH_ID is kept only once the OAuth server says it is theirs.

Sources: the organiser of an event made through calendar.event.add is the user whose token makes the call
(b24restdocs api-reference/calendar/calendar-event/calendar-event-add.md, "Event Organizer"); a refresh answer
names the token's user_id and member_id (b24restdocs settings/oauth/index.md; reference/bitrix24-rest.md §2).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import delete, select

from shared.models import BitrixCredential, utcnow
from tests.integration.stack import ApiClient
from tests.integration.test_identity import renew_with_pair
from tests.integration.test_pipeline import meeting

from .test_attacks import app_config

ANNA = 2


def forget_annas_pair(database) -> None:
    """As for a user who never opened the app through a launch that brought their pair."""
    with database.write() as session:
        session.execute(delete(BitrixCredential).where(BitrixCredential.user_id == ANNA))


def annas_pair(database) -> BitrixCredential | None:
    with database.read() as session:
        return session.scalars(select(BitrixCredential).where(BitrixCredential.user_id == ANNA)).one_or_none()


def session_without_pair(stack) -> ApiClient:
    launch = stack.launch(ANNA)
    response = requests.post(f"{stack.web_url}/api/session", timeout=15, json={
        "auth_id": launch["form"]["AUTH_ID"], "domain": launch["query"]["DOMAIN"],
        "member_id": launch["form"]["member_id"]})
    assert response.status_code == 200, response.text
    return ApiClient(stack.web_url, response.json()["token"])


def assert_nothing_done_in_her_name(stack, api: ApiClient) -> None:
    made = api.wait_final(api.create(meeting(invitees=[3]))["id"])
    failed = {s["name"]: s["error_code"] for s in made["steps"] if s["state"] == "failed"}
    assert failed == {"calendar_event": "bitrix_reauth", "notify_invitees": "bitrix_reauth"}, made["steps"]
    assert "open the app in the portal" in next(s["error"] for s in made["steps"] if s["name"] == "calendar_event")
    portal = stack.bitrix_state()
    assert portal["events"] == [] and portal["notifications"] == []  # not as Ivan, not as anyone


def test_a_session_without_a_pair_does_no_work_in_the_administrators_name(stack, database):
    forget_annas_pair(database)
    anna = session_without_pair(stack)

    assert_nothing_done_in_her_name(stack, anna)
    search = anna.request("GET", "/api/bitrix/users", params={"q": "Ivan"})
    assert search.status_code == 401 and search.json()["error"]["code"] == "bitrix_reauth", search.text


@pytest.mark.parametrize("whose", ["made up", "Sergey's", "Ivan's"])
def test_a_launch_with_someone_elses_refresh_id_is_not_kept_as_hers(stack, database, whose):
    forget_annas_pair(database)
    refresh_id = {"made up": lambda: "0123456789abcdef0123456789abcdef",
                  "Sergey's": lambda: stack.launch(3)["form"]["REFRESH_ID"],
                  "Ivan's": lambda: stack.launch(1)["form"]["REFRESH_ID"]}[whose]()

    page = stack.open_app(ANNA, form={"REFRESH_ID": refresh_id})
    assert page.status_code == 200  # she is who the portal says; only the pair is not kept
    assert annas_pair(database) is None
    assert_nothing_done_in_her_name(stack, stack_client(stack, page))


def stack_client(stack, page) -> ApiClient:
    return ApiClient(stack.web_url, app_config(page)["token"])


def test_a_posted_auth_expires_is_not_believed(stack, database):
    forget_annas_pair(database)
    assert stack.open_app(ANNA, form={"AUTH_EXPIRES": "999999999"}).status_code == 200
    pair = annas_pair(database)
    # The lifetime kept is the OAuth server's answer (an hour), not the posted thirty years.
    assert pair is not None and pair.expires_at <= utcnow() + timedelta(hours=1, minutes=1)


def test_the_page_renews_a_missing_pair_and_then_the_work_is_hers(stack, database):
    forget_annas_pair(database)
    anna = session_without_pair(stack)
    made = anna.wait_final(anna.create(meeting(invitees=[3]))["id"])
    assert made["status"] == "partially_failed"

    renew_with_pair(stack, ANNA)  # session.js renewBitrixAuth: BX24's fresh pair, refresh_id included
    assert anna.request("POST", f"/api/conferences/{made['id']}/retry").status_code == 202
    done = anna.wait_final(made["id"])

    assert done["status"] == "ready", done["steps"]
    assert [e["host_id"] for e in stack.bitrix_state()["events"]] == [ANNA]
    assert anna.request("GET", "/api/bitrix/users", params={"q": "Ivan"}).status_code == 200
