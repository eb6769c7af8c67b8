"""Two portals with two Yandex 360 organisations in one deployment never mix rooms (issue 17).

What it takes to run a second portal. Each Bitrix24 emulator process is one portal *and* the OAuth servers
that know that portal's tokens (sandbox/bitrix24/oauth_server.py, tokens.py: a token is known only to the
process that issued it), while in sandbox mode the app trusts only the OAuth servers on the host of
SANDBOX_BITRIX24_PORT (shared/config.py: BITRIX24_OAUTH_URL and bitrix24_oauth_servers are forced to
http://127.0.0.1:<SANDBOX_BITRIX24_PORT>/oauth-server[-ru]; shared/clients/bitrix24.py OAuthServers.known
ignores any other SERVER_ENDPOINT a launch names). So the session stack's deployment refuses a second
emulator either way, and rightly (it asks only servers it trusts, and none of them knows the token):
- with its own OAuth host: web.log "launch refused for '127.0.0.1:<port>': The Bitrix24 OAuth server did
  not accept the authorisation (invalid_token)";
- with SANDBOX_BITRIX24_OAUTH_ROOT at the first emulator: the same line, since the first emulator's OAuth
  server does not know the second process's tokens.
Real Bitrix24 has one OAuth server for every portal (oauth.bitrix.info / oauth.bitrix24.tech). Here that is
stack.SharedOAuthServer, a stand-in in the test process that passes each OAuth request to the portals'
emulators in turn. The deployment under test is a variant of the stack (its own web and workers, database
and Redis queue; the Telemost/Yandex OAuth emulator is the session's) whose SANDBOX_BITRIX24_PORT is that
stand-in's port, so the stand-in is the OAuth server the app trusts; both portals are extra emulators
(stack.start_portal: their own port, member_id, domain, public_url and application token) with
SANDBOX_BITRIX24_OAUTH_ROOT at the stand-in, so their launches name it as SERVER_ENDPOINT.

What the test relies on:
- shared/yandex/room_tokens.py: a user with no account of their own (and no service application set) gets
  rooms from their portal's organisation (YandexAccount of user_id 0, accounts.ORGANISATION), never another
  portal's, and from YANDEX_OAUTH_TOKEN only when their portal connected none. In sandbox mode the deployment
  token is sandbox-org-token (shared/config.py SANDBOX_TELEMOST_TOKEN).
- web/yandex.py: /auth/yandex/login?organisation=1&token=<an administrator's app token>, the Yandex OAuth
  emulator's sign-in (login_hint, sandbox_auto) and /auth/yandex/callback connect the portal's organisation.
- sandbox/telemost/oauth_accounts.py: ivan.petrov@example.com is in organisation 1000001 (example.com),
  pavel.volkov@example.org in 1000002 (example.org); sandbox/telemost/state.py: a room's owner_token in
  /_sandbox/state is "oauth:<e-mail>" for an account's token, the token itself for the static one.
- Both emulators have the same users (1 Ivan, the administrator; 2 Anna): the same user id on two portals
  must still not see the other portal's meeting (conferences are partitioned by member_id).
"""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import delete

from shared.config import SANDBOX_TELEMOST_TOKEN
from shared.db import Database
from shared.models import YandexAccount

from .stack import SharedOAuthServer, Stack, start_portal, variant
from .test_yandex_accounts import sign_in_at_yandex

ORG_A = "ivan.petrov@example.com"  # organisation 1000001, example.com
ORG_B = "pavel.volkov@example.org"  # organisation 1000002, example.org
MEMBER_A, MEMBER_B = "a" * 32, "b" * 32


@pytest.fixture(scope="module")
def deployment(stack, tmp_path_factory):
    """One deployment (web + workers) and two portals whose tokens a shared OAuth server vouches for."""
    oauth = SharedOAuthServer()
    started = []
    try:
        app = variant(stack, tmp_path_factory.mktemp("two-portals"), {
            "SANDBOX_BITRIX24_PORT": str(oauth.port),  # the OAuth servers the app trusts (shared/config.py)
            "REDIS_URL": f"redis://127.0.0.1:{stack.redis_port}/3",  # its own queue: the session's workers stay out
        })
        started.append(app)
        portals = {}
        for name, member_id in (("portal-a", MEMBER_A), ("portal-b", MEMBER_B)):
            portal = start_portal(stack, name, member_id, app.web_url + "/", oauth_root=oauth.url)
            started.append(portal)
            oauth.backends.append(portal.url)
            portals[name] = portal
        yield app, portals["portal-a"], portals["portal-b"]
    finally:
        for running in reversed(started):
            running.stop_all() if isinstance(running, Stack) else running.stop()
        oauth.stop()


@pytest.fixture
def portals(deployment):
    """Both portals as new, the app installed on each, no Yandex account connected anywhere."""
    app, a, b = deployment
    database = Database(app.env["DATABASE_URL"])
    try:
        with database.write() as session:
            session.execute(delete(YandexAccount))
    finally:
        database.dispose()
    for portal in (a, b):
        portal.reset()
        portal.install()
    return a, b


def connect_organisation(portal, email: str) -> None:
    """The portal's administrator (user 1) connects `email` as the portal's Yandex 360 organisation."""
    admin = portal.login(1)
    browser = requests.Session()
    to_yandex = browser.get(f"{portal.web_url}/auth/yandex/login", params={"organisation": "1", "token": admin.token},
                            allow_redirects=False)
    assert to_yandex.status_code == 302, to_yandex.text
    page = browser.get(sign_in_at_yandex(to_yandex.headers["Location"], email), allow_redirects=False)
    assert page.status_code == 200 and "Connected the Yandex 360 organisation" in page.text, page.text


def owner_of(stack, conference: dict) -> str:
    return next(room["owner_token"] for room in stack.telemost_state()["conferences"]
                if room["id"] == conference["telemost_id"])


def test_each_portals_rooms_are_made_with_its_own_organisation_or_the_deployment_token(stack, portals):
    a, b = portals
    anna_a, anna_b = a.login(2), b.login(2)  # non-administrators, no Yandex account of their own

    # Only portal A connected an organisation: B's rooms are the deployment token's, never A's organisation.
    connect_organisation(a, ORG_A)
    first_a = anna_a.wait_final(anna_a.create({"name": "A with its organisation"})["id"])
    first_b = anna_b.wait_final(anna_b.create({"name": "B with none"})["id"])
    assert (first_a["status"], first_b["status"]) == ("ready", "ready"), (first_a["steps"], first_b["steps"])
    assert owner_of(stack, first_a) == f"oauth:{ORG_A}"
    assert owner_of(stack, first_b) == SANDBOX_TELEMOST_TOKEN

    # Portal B connects another organisation: from now on each portal's rooms are its own organisation's.
    connect_organisation(b, ORG_B)
    second_a = anna_a.wait_final(anna_a.create({"name": "A again"})["id"])
    second_b = anna_b.wait_final(anna_b.create({"name": "B with its organisation"})["id"])
    assert (second_a["status"], second_b["status"]) == ("ready", "ready"), (second_a["steps"], second_b["steps"])
    assert owner_of(stack, second_a) == f"oauth:{ORG_A}"
    assert owner_of(stack, second_b) == f"oauth:{ORG_B}"

    # The same user id on the other portal sees none of these meetings.
    for api, own, foreign in ((anna_a, (first_a, second_a), (first_b, second_b)),
                              (anna_b, (first_b, second_b), (first_a, second_a))):
        listed = {item["id"] for item in api.request("GET", "/api/conferences").json()["items"]}
        assert listed == {c["id"] for c in own}
        for conference in foreign:
            assert api.request("GET", f"/api/conferences/{conference['id']}").status_code == 404
