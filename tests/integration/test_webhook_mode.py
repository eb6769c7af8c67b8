"""Webhook mode: BITRIX24_WEBHOOK_URL set, no application credentials, real (not sandbox) settings."""
from __future__ import annotations

import pytest
import requests

from .stack import ApiClient, variant
from .test_pipeline import meeting


@pytest.fixture(scope="module")
def webhook_stack(stack, tmp_path_factory):
    env = {"SANDBOX": "off", "BITRIX24_WEBHOOK_URL": f"{stack.bitrix_url}/rest/1/sandboxwebhook/",
           "YANDEX_OAUTH_TOKEN": "sandbox-org-token", "TELEMOST_API_URL": f"{stack.telemost_url}/v1/telemost-api",
           "REDIS_URL": f"redis://127.0.0.1:{stack.redis_port}/1",  # its own queue: the main worker stays out
           "BITRIX24_APP_CODE": "local.sandbox.telemost"}  # the portal's local app that opens this one
    other = variant(stack, tmp_path_factory.mktemp("webhook"), env)
    yield other
    other.stop_all()


def sign_in(webhook_stack, user_id: int) -> ApiClient:
    launch = webhook_stack.launch(user_id)
    response = requests.post(f"{webhook_stack.web_url}/api/session", json={
        "auth_id": launch["form"]["AUTH_ID"], "domain": launch["query"]["DOMAIN"],
        "member_id": launch["form"]["member_id"]})
    assert response.status_code == 200, response.text
    return ApiClient(webhook_stack.web_url, response.json()["token"])


def test_users_are_still_verified_from_the_launch(webhook_stack):
    launch = webhook_stack.launch(2)
    forged = requests.post(f"{webhook_stack.web_url}/api/session", json={
        "auth_id": "made-up", "domain": launch["query"]["DOMAIN"], "member_id": launch["form"]["member_id"]})
    assert forged.status_code == 401
    other_portal = requests.post(f"{webhook_stack.web_url}/api/session", json={
        "auth_id": launch["form"]["AUTH_ID"], "domain": "evil.bitrix24.ru", "member_id": launch["form"]["member_id"]})
    assert other_portal.status_code == 401


def test_server_side_calls_use_the_webhook(webhook_stack):
    anna = sign_in(webhook_stack, 2)
    before = webhook_stack.bitrix_state()["requests"].get("oauth/token", 0)

    done = anna.wait_final(anna.create(meeting())["id"])

    assert done["status"] == "ready", done["steps"]
    event = next(e for e in webhook_stack.bitrix_state()["events"] if e["id"] == done["calendar_event_id"])
    assert event["host_id"] == 1  # the webhook's creator makes the event, in Anna's calendar
    assert event["owner_id"] == 2
    assert webhook_stack.bitrix_state()["requests"].get("oauth/token", 0) == before


def test_a_token_issued_to_another_application_on_the_portal_does_not_open_the_app(webhook_stack):
    """Issue 12, finding 13: an employee's AUTH_ID from any other app of the portal was accepted. The portal's
    app.info names the application a token was issued to (its CODE: b24restdocs
    api-reference/common/system/app-info.md); whether a local app's CODE is its client_id is UNVERIFIED, so
    the operator sets the code they see (BITRIX24_APP_CODE), and without it nothing is checked (README)."""
    launch = webhook_stack.launch(2)
    other = requests.post(f"{webhook_stack.bitrix_url}/_sandbox/tokens",
                          json={"user_id": 2, "client_id": "local.other.app"}).json()["access_token"]
    session = requests.post(f"{webhook_stack.web_url}/api/session", json={
        "auth_id": other, "domain": launch["query"]["DOMAIN"], "member_id": launch["form"]["member_id"]})
    assert session.status_code == 401 and "another application" in session.json()["error"]["message"]
    page = webhook_stack.open_app(2, form={"AUTH_ID": other})
    assert page.status_code == 401 and "app-config" not in page.text
    assert sign_in(webhook_stack, 2).request("GET", "/api/current-user").status_code == 200  # ours still opens it
