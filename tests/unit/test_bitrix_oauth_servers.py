"""Which Bitrix24 OAuth servers the app asks, in which order, and what a refusal means (issue 13: B1, B10).

The servers are regional (b24phpsdk src/Core/Credentials/DefaultOAuthServerUrl.php, b24pysdk
api/requesters/bitrix_oauth_requester.py); a launch's SERVER_ENDPOINT is posted by the browser, so only a
known server may be named by it.
"""
from __future__ import annotations

import pytest
import requests

from shared.clients.bitrix24 import (Bitrix24Client, OAuthServers, PortalDeleted, TokenExpired, ask_in_turn, error_from,
                                     sibling_hosts)
from shared.clients.errors import PermanentError, TransientError
from shared.config import BITRIX24_REGIONAL_OAUTH, load_settings

RU, WORLD = BITRIX24_REGIONAL_OAUTH


def servers(configured: str = WORLD) -> OAuthServers:
    return OAuthServers(configured, BITRIX24_REGIONAL_OAUTH, "app", "secret", 5, requests.Session())


@pytest.mark.parametrize("endpoint, known", [
    ("https://oauth.bitrix24.tech/rest/", RU), ("https://OAUTH.bitrix.info/rest", WORLD), (WORLD + "/", WORLD),
    ("https://oauth.example.com/rest/", "https://oauth.example.com"),  # the configured one
    ("https://oauth.bitrix.info.evil.com/rest/", None), ("http://oauth.bitrix.info/rest/", None),
    ("https://evil.com/oauth.bitrix.info/rest/", None), ("", None), (None, None), (["x"], None),
])
def test_only_a_known_server_is_named_by_a_server_endpoint(endpoint, known):
    assert servers("https://oauth.example.com").known(endpoint) == known


def test_the_sandbox_serves_a_stand_in_of_each_regional_server_and_real_mode_knows_the_real_ones():
    sandbox = load_settings({"SECRET_KEY": "a-secret-key-long-enough", "SANDBOX_BITRIX24_PORT": "9002"}, env_file=None)
    assert sandbox.bitrix24_oauth_servers == ("http://127.0.0.1:9002/oauth-server-ru", "http://127.0.0.1:9002/oauth-server")
    real = load_settings({"SECRET_KEY": "a-secret-key-long-enough", "BITRIX24_CLIENT_ID": "app", "BITRIX24_CLIENT_SECRET": "s",
                          "YANDEX_OAUTH_TOKEN": "y0"}, env_file=None)
    assert real.bitrix24_oauth_servers == ("https://oauth.bitrix24.tech", "https://oauth.bitrix.info")


def test_the_named_server_is_asked_first_then_the_configured_one_then_the_others():
    order = [server.base_url for server in servers().in_turn("https://evil.com/rest/", RU + "/rest/")]
    assert order == [RU, WORLD]
    assert [server.base_url for server in servers().in_turn(None)] == [WORLD, RU]


class Server:
    """Stands for one OAuth server's answer to the question asked of it."""

    def __init__(self, name: str, answer) -> None:
        self.base_url, self.answer = name, answer


def ask(*answers):
    def question(server):
        if isinstance(server.answer, Exception):
            raise server.answer
        return server.answer
    return ask_in_turn([Server(str(index), answer) for index, answer in enumerate(answers)], question)


REFUSED = PermanentError("Bitrix24", "refused", code="invalid_grant", status=400)
DOWN = TransientError("Bitrix24", "down", status=503)


def test_a_refusal_moves_on_to_the_next_server_and_its_answer_is_taken():
    server, answer = ask(REFUSED, {"access_token": "new"})
    assert (server.base_url, answer) == ("1", {"access_token": "new"})


def test_a_server_that_is_down_wins_over_refusals_so_nothing_is_dropped():
    with pytest.raises(TransientError):
        ask(REFUSED, DOWN)
    with pytest.raises(PermanentError):
        ask(REFUSED, REFUSED)


def test_expired_token_comes_from_the_server_that_knows_the_token():
    with pytest.raises(TokenExpired):
        ask(TokenExpired("Bitrix24", "expired", code="expired_token"), {"never": "asked"})


def test_portal_deleted_is_permanent_though_its_status_is_500():
    """b24restdocs _includes/system-errors.md: 500 PORTAL_DELETED; retrying it would never end."""
    error = error_from("PORTAL_DELETED", "Portal was deleted", 500, None)
    assert isinstance(error, PortalDeleted) and not error.transient


@pytest.mark.parametrize("location, root", [
    ("https://new.bitrix24.ru/rest/user.current.json", "https://new.bitrix24.ru/rest/"),
    ("/rest/user.current.json?x=1", "https://old.bitrix24.ru/rest/"),  # relative, as Location may be
    ("http://new.bitrix24.ru/rest/user.current.json", None),  # the token never leaves TLS
    ("https://new.bitrix24.ru/login/", None),  # not the REST method: a login page or the like
    ("https://evil.example.com/rest/user.current.json", None),  # not a sibling name: the secret stays home
    ("https://bitrix24.ru.evil.com/rest/user.current.json", None),
    ("", None),
])
def test_a_webhook_follows_a_redirect_only_to_the_same_method_on_a_sibling_host(location, root):
    """b24pysdk credentials/bitrix_token.py follows a renamed portal's 302 to the new domain; a renamed cloud
    portal stays under its parent domain (old.bitrix24.ru -> new.bitrix24.ru). A webhook's secret is in its
    path, so it is never sent to another domain on a redirect's word."""
    client = Bitrix24Client("https://old.bitrix24.ru/rest/1/secret/")
    client.rest_url = "https://old.bitrix24.ru/rest/"
    if root is None:
        with pytest.raises(PermanentError) as refused:
            client._moved("user.current", location)
        assert refused.value.code == "UNEXPECTED_REDIRECT"
    else:
        assert client._moved("user.current", location) == root


def test_a_redirect_goes_only_where_confirm_move_says():
    """The subclass on OAuth tokens confirms with the OAuth server (TokenBitrix24Client.confirm_move); a root
    it does not confirm is refused, and the client's own root is left as it was."""
    asked: list[str] = []

    class Confirming(Bitrix24Client):
        def confirm_move(self, root):
            asked.append(root)
            return None

    client = Confirming("https://old.bitrix24.ru/rest/")
    with pytest.raises(PermanentError):
        client._moved("user.current", "https://new.bitrix24.ru/rest/user.current.json")
    assert asked == ["https://new.bitrix24.ru/rest/"] and client.rest_url == "https://old.bitrix24.ru/rest/"


@pytest.mark.parametrize("old, new, siblings", [
    ("a.bitrix24.ru", "b.bitrix24.ru", True), ("a.bitrix24.ru:443", "b.bitrix24.ru", True),
    ("a.bitrix24.ru", "a.bitrix24.ru", True), ("bitrix24.ru", "evil.ru", False),
    ("a.bitrix24.ru", "a.bitrix24.com", False), ("127.0.0.1:8082", "localhost:8082", False),
    ("10.0.0.1", "11.0.0.1", False), (None, "a.b.c", False),
])
def test_sibling_hosts(old, new, siblings):
    assert sibling_hosts(old, new) is siblings
