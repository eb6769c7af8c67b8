"""What the app really sends, captured at the emulators, held against the official tables.

One pass through the app's flows on the running stack (install, launch, a meeting with cohosts,
invitees and an event, a broadcast, two edits, a cancel, the people search, an expiring portal token, a
Yandex account connected and refreshed), then every request both emulators recorded is checked
against bitrix24_methods.py and telemost_routes.py, each table taken from the page it cites. The
emulators accept more than the platforms in places; these tests hold the app to the docs instead.

Before the fixes of findings B2 (meeting flags sent as "Y"/"N"), B5 (neither section nor
auto_detect_section=Y) and B11 (app.info on the OAuth server with .json) these checks failed on exactly
those.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import redis
import requests
from sqlalchemy import text

from shared.db import Database
from shared.models import utcnow
from tests.conftest import forget_yandex_accounts
from tests.integration.stack import ApiClient, variant
from tests.integration.test_edit_cancel import edit, later, ready
from tests.integration.test_pipeline import meeting
from tests.integration.test_yandex_accounts import ANNA_YANDEX, sign_in_at_yandex, start

from .checker import Problem, check_route, find_route, route_label
from .telemost_routes import ROUTES
from .traffic import Traffic, captured, check_bitrix, check_telemost

# The calls the flows below must have made, so that the checks can never pass on an empty record.
EXERCISED = {
    "batch", "calendar.event.add", "calendar.event.getbyid", "calendar.event.update", "calendar.event.delete",
    "im.notify.system.add", "user.current", "user.admin", "user.search", "user.get", "event.bind", "app.info",
    "bitrix-oauth GET /oauth/token/",
    "telemost POST /conferences", "telemost PATCH /conferences/{id}", "telemost PATCH /conferences/{id}/cohosts",
    "telemost DELETE /conferences/{id}/cohosts", "telemost PUT /conferences/{id}/cohosts",
    "yandex-oauth POST /token", "yandex-oauth GET /authorize", "yandex-login GET /info",
}


@pytest.fixture(scope="module")
def traffic(stack, tmp_path_factory) -> Traffic:
    """The flows, once, on a sandbox as new; every captured request checked."""
    stack.reset_sandbox()  # clears both records too (sandbox/request_capture.py)
    forget_yandex_accounts(stack)
    traffic = Traffic()
    try:
        run_flows(stack, traffic)
        run_webhook_flow(stack, tmp_path_factory.mktemp("conformance-webhook"))
        check_bitrix(captured(stack.bitrix_url), traffic)
        check_telemost(captured(stack.telemost_url), traffic)
    finally:
        stack.clear_faults()
        stack.wait_quiet()
        forget_yandex_accounts(stack)  # Anna's connected account would follow her into later tests
    return traffic


def run_flows(stack, traffic: Traffic) -> None:
    stack.install()
    anna = stack.login(2)
    first = ready(anna, meeting(cohosts=["anna@example.com", "boris@yandex.ru"], invitees=[3, 4]))
    ready(anna, meeting(type="broadcast", name="Town hall", invitees=[5], cohosts=[],
                        live_stream={"title": "Town hall", "description": "Plans", "access_level": "PUBLIC"}))
    assert edit(anna, first, name="Weekly sync (moved)", start_at=later(1), waiting_room_level="ADMINS",
                cohosts=["boris@yandex.ru", "clara@example.com"], invitees=[4, 5]).status_code == 202
    moved = anna.wait_final(first["id"])
    assert edit(anna, moved, invitees=[]).status_code == 202  # a meeting back to a plain event
    alone = anna.wait_final(first["id"])
    assert anna.request("DELETE", f"/api/conferences/{first['id']}").status_code == 202
    assert anna.wait_final(alone["id"])["status"] == "cancelled"
    searches = redis.Redis(port=stack.redis_port)  # an answer cached by an earlier test would hide the call
    for key in searches.scan_iter("cache:users:*"):
        searches.delete(key)
    for query in ("?q=Olga", ""):
        assert anna.request("GET", f"/api/bitrix/users{query}").status_code == 200

    backdate(stack, "UPDATE bitrix_credentials SET expires_at = :at", at=utcnow() - timedelta(hours=1))
    ready(anna, meeting(name="After a refresh", cohosts=[], invitees=[3]))

    browser, authorize_url = start(stack, anna)
    check_authorize_url(authorize_url, traffic)
    assert browser.get(sign_in_at_yandex(authorize_url, ANNA_YANDEX), allow_redirects=False).status_code == 200
    # The app believes the pair is about to expire (the sandbox does not): its next room refreshes it first.
    backdate(stack, "UPDATE yandex_accounts SET expires_at = :at", at=utcnow() + timedelta(seconds=5))
    ready(anna, meeting(name="Own room", cohosts=[], invitees=[]))


def run_webhook_flow(stack, tmp) -> None:
    """The same app on an inbound webhook (tests/integration/test_webhook_mode.py): the portal's app.info
    checks the application, CLIENT_ID goes with each TAG, calls go to /rest/<user>/<key>/ without auth."""
    webhook = variant(stack, tmp, {
        "SANDBOX": "off", "BITRIX24_WEBHOOK_URL": f"{stack.bitrix_url}/rest/1/sandboxwebhook/",
        "YANDEX_OAUTH_TOKEN": "sandbox-org-token", "TELEMOST_API_URL": f"{stack.telemost_url}/v1/telemost-api",
        "REDIS_URL": f"redis://127.0.0.1:{stack.redis_port}/2", "BITRIX24_APP_CODE": "local.sandbox.telemost"})
    try:
        launch = webhook.launch(2)
        session = requests.post(f"{webhook.web_url}/api/session", timeout=15, json={
            "auth_id": launch["form"]["AUTH_ID"], "domain": launch["query"]["DOMAIN"],
            "member_id": launch["form"]["member_id"]})
        assert session.status_code == 200, session.text
        ready(ApiClient(webhook.web_url, session.json()["token"]), meeting(name="Webhook", cohosts=[], invitees=[3]))
    finally:
        webhook.stop_all()


def backdate(stack, statement: str, **values) -> None:
    database = Database(stack.env["DATABASE_URL"])
    try:
        with database.write() as session:
            session.execute(text(statement), values)
    finally:
        database.dispose()


def check_authorize_url(url: str, traffic: Traffic) -> None:
    """The consent URL is the app's request to Yandex OAuth, made by the user's browser."""
    parts = urlsplit(url)
    route = find_route(ROUTES, "yandex-oauth", "GET", "/authorize")
    request = {"http_method": "GET", "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
               "transport": "none", "body": None}
    traffic.add(route_label("yandex-oauth", "GET", "/authorize"), check_route(route, request))


def unexpected(problems: list[Problem]) -> list[str]:
    """Each problem once: every meeting the flows make repeats the same ones."""
    return list(dict.fromkeys(str(p) for p in problems))


def test_the_flows_made_every_kind_of_call_the_tables_are_checked_on(traffic):
    assert EXERCISED <= set(traffic.calls), sorted(EXERCISED - set(traffic.calls))


def test_every_call_the_app_makes_has_a_table(traffic):
    missing = unexpected([p for p in traffic.problems if p.where == "(table)"])
    assert not missing, "\n".join(missing)


def test_every_call_sends_only_documented_parameters_with_the_documented_types_and_values(traffic):
    wrong = unexpected([p for p in traffic.problems if p.where != "(table)"])
    assert not wrong, "\n".join(wrong)
