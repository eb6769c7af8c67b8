"""A portal's life as the real platform lives it, against the whole stack (issue 13: B1, B8, B9, B10, B11, B13).

The sandbox portal is Russian: its tokens come from the oauth.bitrix24.tech stand-in (/oauth-server-ru),
while the app's configured server is the other one (/oauth-server, oauth.bitrix.info). Sources are cited per
test; the emulator side of each is in tests/sandbox/test_bitrix24_portal_life.py.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import select, text

from shared.clients.bitrix24 import Bitrix24OAuthServer
from shared.clients.errors import PermanentError, TransientError
from shared.config import load_settings
from shared.crypto import TokenBox
from shared.models import BitrixCredential, Portal
from shared.portal.access import PORTAL_CREDENTIAL, BitrixTokens, oauth_servers
from shared.portal.identity import Identity
from shared.portal.install import Portals

pytestmark = pytest.mark.usefixtures("clean_sandbox")


@pytest.fixture
def app_settings(stack):
    return load_settings(stack.env, env_file=None)


@pytest.fixture
def portal_afresh(stack):
    """For a test that renames or deletes the portal: the sandbox and the app's record of it are as new after."""
    yield
    stack.reset_sandbox()
    stack.install()


def the_portal(database) -> Portal:
    with database.read() as session:
        return session.scalars(select(Portal)).one()


def admin_tokens(stack, database, app_settings) -> BitrixTokens:
    import redis
    with database.read() as session:
        credential_id = session.scalars(select(BitrixCredential.id).where(
            BitrixCredential.user_id == PORTAL_CREDENTIAL)).one()
    return BitrixTokens(database, TokenBox(stack.env["SECRET_KEY"]), oauth_servers(app_settings, requests.Session()),
                        redis.Redis(port=stack.redis_port), credential_id)


def expire_credentials(database) -> None:
    with database.write() as session:
        session.execute(text("UPDATE bitrix_credentials SET expires_at = :past"), {"past": "2000-01-01 00:00:00"})


def search(client, words: str) -> requests.Response:
    return client.request("GET", "/api/bitrix/users", params={"q": words})


# --- B1: the regional OAuth server --------------------------------------------------------------

def test_the_install_keeps_the_portal_s_own_oauth_server(stack, database):
    """server_endpoint names the server that issued the tokens (b24phpsdk DefaultOAuthServerUrl)."""
    assert the_portal(database).oauth_server == f"{stack.bitrix_url}/oauth-server-ru"


def test_a_refusal_from_a_server_other_than_the_issuer_never_drops_the_pair(stack, database, app_settings):
    """Tokens work only where they were issued: a pair refused by the wrong server is asked of the others."""
    with database.write() as session:
        session.execute(text("UPDATE portals SET oauth_server = :wrong"), {"wrong": f"{stack.bitrix_url}/oauth-server"})
    expire_credentials(database)
    assert admin_tokens(stack, database, app_settings).current()
    with database.read() as session:
        assert session.scalars(select(BitrixCredential.id).where(BitrixCredential.user_id == PORTAL_CREDENTIAL)).one()
    assert the_portal(database).oauth_server == f"{stack.bitrix_url}/oauth-server-ru"  # the answer's server_endpoint


@pytest.fixture
def stranger_server():
    """A host that is no Bitrix24 server: it notes every request it gets (an AUTH_ID sent there leaks). Under
    /old/ it answers as a portal's former host would, a 302 to the same method under its own /evil/."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            asked.append(self.path)
            moved = self.path.startswith("/old/")
            self.send_response(302 if moved else 401)
            if moved:
                self.send_header("Location", self.path.replace("/old/", "/evil/", 1))
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()


def test_a_launch_naming_an_unknown_oauth_server_is_checked_at_the_known_ones(stack, database, stranger_server):
    """SERVER_ENDPOINT is posted by the browser: any host but Bitrix24's own (and the configured one) is never
    asked, nor kept as the portal's (its refreshes would carry the client secret there)."""
    url, asked = stranger_server
    page = stack.open_app(2, form={"SERVER_ENDPOINT": f"{url}/rest/"})
    assert page.status_code == 200, page.text
    assert asked == []
    assert the_portal(database).oauth_server == f"{stack.bitrix_url}/oauth-server-ru"


def test_an_event_s_server_endpoint_is_kept_only_when_it_is_a_known_server(stack, database, app_settings):
    portals = Portals(Identity(app_settings, database, requests.Session()), TokenBox(stack.env["SECRET_KEY"]))
    member_id = the_portal(database).member_id
    assert portals.hear_server_endpoint(member_id, "https://oauth.evil.example/rest/") is False
    assert portals.hear_server_endpoint("no-such-portal", f"{stack.bitrix_url}/oauth-server/rest/") is False
    assert portals.hear_server_endpoint(member_id, f"{stack.bitrix_url}/oauth-server/rest/") is True
    assert the_portal(database).oauth_server == f"{stack.bitrix_url}/oauth-server"


# --- B11: app.info on the OAuth server --------------------------------------------------------

def test_app_info_is_asked_of_the_oauth_server_as_b24pysdk_asks_it(stack):
    """b24pysdk bitrix_oauth_requester.py: GET {oauth}/rest/app.info/?auth=... (the emulator serves no .json form)."""
    token = stack.launch(2)["form"]["AUTH_ID"]
    oauth = Bitrix24OAuthServer(f"{stack.bitrix_url}/oauth-server-ru", "local.sandbox.telemost", "sandbox-secret")
    assert oauth.app_info(token)["client_id"] == "local.sandbox.telemost"


# --- B8: event.bind -----------------------------------------------------------------------------

def test_an_event_bind_failure_is_shown_on_the_install_page(stack):
    """api-reference/events/event-bind.md: ACCESS_DENIED (403) is one of its documented failures."""
    requests.post(f"{stack.bitrix_url}/_sandbox/uninstall", json={}, timeout=5)  # no handlers bound any more
    stack.bitrix_faults(error_rate=1, status=403, path="event.bind", count=1)
    page = stack.open_app(1, "/install")
    assert page.status_code == 200 and 'id="bind-problems"' in page.text
    assert "ONAPPUNINSTALL" in page.text and "ACCESS_DENIED" in page.text


def test_a_reinstall_binds_only_what_is_not_bound(stack):
    """What a repeated event.bind answers is undocumented (event-bind.md): the app reads event.get first, as
    b24phpsdk's EventManager does, so it is safe whatever that answer is."""
    before = stack.bitrix_state()["requests"].get("event.bind", 0)
    page = stack.open_app(1, "/install")
    assert page.status_code == 200 and "bind-problems" not in page.text
    assert stack.bitrix_state()["requests"].get("event.bind", 0) == before


# --- B9: a renamed portal ------------------------------------------------------------------------

def rename(stack) -> str:
    new = stack.bitrix_url.replace("127.0.0.1", "localhost")
    response = requests.post(f"{stack.bitrix_url}/_sandbox/rename", json={"domain": new.split("//")[1]}, timeout=5)
    response.raise_for_status()
    return new


def test_a_302_from_the_old_domain_is_followed_and_kept(stack, database, anna, portal_afresh):
    """b24pysdk credentials/bitrix_token.py follows a 302 to the new domain and repeats the call."""
    new = rename(stack)
    found = search(anna, "Sokolov moved")
    assert found.status_code == 200, found.text
    assert (the_portal(database).client_endpoint, the_portal(database).domain) == (f"{new}/rest/", new.split("//")[1])


def test_a_302_is_followed_only_to_where_the_oauth_server_puts_the_portal(stack, database, anna, stranger_server,
                                                                         portal_afresh):
    """A redirect proves nothing: whoever answers for the old host could send the token anywhere. The refresh
    answer's client_endpoint (settings/oauth/auto-renewal.md) says where the portal is; the call goes there,
    the token never reaches the redirect's target, and what is kept is the OAuth server's word."""
    url, asked = stranger_server
    with database.write() as session:
        session.execute(text("UPDATE portals SET client_endpoint = :old"), {"old": f"{url}/old/rest/"})
    found = search(anna, "Sokolov")
    assert found.status_code == 200, found.text
    assert [path for path in asked if path.startswith("/evil/")] == []
    assert the_portal(database).client_endpoint == f"{stack.bitrix_url}/rest/"


def test_an_oauth_server_s_redirect_is_never_followed_and_drops_no_pair(stranger_server):
    """Both requests carry secrets in the query (oauth/token: client_secret and refresh_token; app.info: the
    token, b24pysdk bitrix_oauth_requester.py): a 3xx is not followed. A redirected refresh says nothing of
    the pair, so it is a passing failure, never the refusal that drops it."""
    url, asked = stranger_server
    server = Bitrix24OAuthServer(f"{url}/old", "app.id", "app-secret")
    with pytest.raises(TransientError):
        server.refresh("refresh-token")
    with pytest.raises(PermanentError):
        server.app_info("access-token")
    assert len(asked) == 2 and not [path for path in asked if path.startswith("/evil/")]


def test_a_refresh_answer_s_client_endpoint_is_kept(stack, database, app_settings, portal_afresh):
    """settings/oauth/auto-renewal.md: the refresh answer's client_endpoint is where the portal's REST answers."""
    new = rename(stack)
    expire_credentials(database)
    admin_tokens(stack, database, app_settings).current()
    assert the_portal(database).client_endpoint == f"{new}/rest/"


def test_a_launch_from_the_new_domain_is_accepted_once_app_info_confirms_it(stack, database, portal_afresh):
    new = rename(stack)
    page = stack.open_app(2)
    assert page.status_code == 200, page.text
    assert (the_portal(database).domain, the_portal(database).client_endpoint) == (new.split("//")[1], f"{new}/rest/")


def test_a_launch_with_another_domain_that_app_info_does_not_confirm_is_refused(stack, database):
    page = stack.open_app(2, query={"DOMAIN": "other.example.com"})
    assert page.status_code == 401
    assert the_portal(database).domain == stack.bitrix_url.split("//")[1]


# --- B10: a deleted portal -----------------------------------------------------------------------

def test_portal_deleted_marks_the_portal_gone_and_it_is_not_called_again(stack, database, anna, portal_afresh):
    """_includes/system-errors.md: 500 PORTAL_DELETED is no passing failure."""
    requests.post(f"{stack.bitrix_url}/_sandbox/delete_portal", timeout=5).raise_for_status()
    first = search(anna, "Ivanov gone")
    assert first.status_code == 503 and "deleted" in first.json()["error"]["message"]
    assert the_portal(database).deleted_at is not None
    calls = stack.bitrix_state()["requests"].get("user.search", 0)
    assert search(anna, "Petrov gone").status_code == 503
    assert stack.bitrix_state()["requests"].get("user.search", 0) == calls


def test_a_launch_lifts_the_deleted_mark(stack, database, portal_afresh):
    """An on-premise portal answers PORTAL_DELETED while its public part is closed (_includes/system-errors.md):
    once it opens the app again, it is no longer taken for gone."""
    with database.write() as session:
        session.execute(text("UPDATE portals SET deleted_at = :then"), {"then": "2026-01-01 00:00:00"})
    page = stack.open_app(2)
    assert page.status_code == 200, page.text
    assert the_portal(database).deleted_at is None


# --- B13: dismissed users -------------------------------------------------------------------------

def test_a_dismissed_user_found_by_search_is_not_offered(stack, anna):
    """api-reference/user/user-search.md returns ACTIVE per row and does not promise to skip dismissed users
    (UNVERIFIED); the emulator returns Pavel Volkov (fired), and the app must not offer him."""
    found = search(anna, "Volkov")
    assert found.status_code == 200 and found.json()["items"] == []
