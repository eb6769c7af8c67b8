"""Issue 12, finding 8: the Yandex connect flow, attacked by ordinary employees (Anna, user 2; Sergey, user 3).

The `state` Yandex carries back is a single-use nonce kept by the server with the (portal, user) who
started the sign-in, a PKCE verifier, and a digest of a secret held in a cookie by the browser that
started it. Each attack below linked one person's Yandex account to another person before.

Sources: PKCE on Yandex ID, https://yandex.ru/dev/id/doc/ru/codes/code-url (code_challenge and
code_challenge_method on /authorize; code_verifier with the code to /token, RFC 7636 §4.5); the account
behind a token, https://yandex.ru/dev/id/doc/ru/user-information (login.yandex.ru/info). What Yandex
answers a wrong verifier is UNVERIFIED: the app refuses the sign-in on any refusal of the code.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.integration.test_yandex_accounts import ANNA_YANDEX, connect, sign_in_at_yandex, start

SERGEY_YANDEX = "sergey.ivanov@example.com"
COOKIE = "telemost_yandex_connect"
NOT_CONNECTED = {"connected": False, "email": None, "needs_reconnect": False}


@pytest.fixture
def sergey(stack):
    """Sergey Ivanov (user 3), an ordinary employee like Anna."""
    return stack.login(3)


@pytest.fixture(autouse=True)
def _nobody_connected(stack, anna, sergey):
    """The database outlives the sandbox's reset: each test starts, and leaves, with no account connected."""
    for api in (anna, sergey):
        api.request("DELETE", "/api/yandex/account")
    yield
    for api in (anna, sergey):
        api.request("DELETE", "/api/yandex/account")


def account(api) -> dict:
    return api.request("GET", "/api/yandex/account").json()


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **params: str) -> str:
    """The callback URL with some of its query replaced (what an attacker pastes together)."""
    return urlsplit(url)._replace(query=urlencode({**query_of(url), **params})).geturl()


def assert_refused(page: requests.Response, status: int, says: str) -> None:
    assert page.status_code == status, page.text
    assert "Yandex account not connected" in page.text and says in page.text


def test_another_users_state_with_ones_own_code_connects_nothing(stack, anna, sergey):
    # Anna starts a sign-in; its state leaks (the URL in her history, a shared screen). Sergey, with a
    # sign-in of his own under way (so his browser holds a cookie of the app), signs in to Yandex as
    # himself through Anna's authorize URL and opens the callback: before, Anna's rooms were then made
    # on Sergey's Yandex account.
    _, annas_authorize = start(stack, anna)
    sergeys_browser, _ = start(stack, sergey)

    page = sergeys_browser.get(sign_in_at_yandex(annas_authorize, SERGEY_YANDEX), allow_redirects=False)

    assert_refused(page, 400, "started in another browser")
    assert account(anna) == NOT_CONNECTED and account(sergey) == NOT_CONNECTED


@pytest.mark.parametrize("first_use", ["connected", "refused at Yandex"])
def test_a_state_works_once(stack, anna, first_use):
    browser, authorize = start(stack, anna)
    cookie = browser.cookies[COOKIE]
    if first_use == "connected":
        assert browser.get(sign_in_at_yandex(authorize, ANNA_YANDEX), allow_redirects=False).status_code == 200
    else:
        callback = with_query(sign_in_at_yandex(authorize, ANNA_YANDEX), error="access_denied")
        assert browser.get(callback, allow_redirects=False).status_code == 200
    before = account(anna)

    # The same state again, with Sergey's code and even with the cookie of the browser that started it.
    replay = requests.get(sign_in_at_yandex(authorize, SERGEY_YANDEX), cookies={COOKIE: cookie},
                          allow_redirects=False)

    assert_refused(replay, 400, "already used")
    assert account(anna) == before


@pytest.mark.parametrize("cookies", [{}, {COOKIE: "another-browsers-secret"}], ids=["no cookie", "another cookie"])
def test_a_state_from_another_browser_connects_nothing(stack, anna, cookies):
    _, authorize = start(stack, anna)
    callback = sign_in_at_yandex(authorize, ANNA_YANDEX)

    page = requests.get(callback, cookies=cookies, allow_redirects=False)

    assert_refused(page, 400, "started in another browser")
    assert account(anna) == NOT_CONNECTED


def test_a_code_exchanged_with_another_sign_ins_verifier_connects_nothing(stack, anna, sergey):
    # Sergey intercepts the code Yandex gave Anna (a proxy log, the Referer) and plays it into a sign-in
    # of his own, with his own state and cookie: before, Sergey's rooms were then made as Anna.
    _, annas_authorize = start(stack, anna)
    annas_code = query_of(sign_in_at_yandex(annas_authorize, ANNA_YANDEX))["code"]
    sergeys_browser, sergeys_authorize = start(stack, sergey)
    sergeys_callback = sign_in_at_yandex(sergeys_authorize, SERGEY_YANDEX)

    page = sergeys_browser.get(with_query(sergeys_callback, code=annas_code), allow_redirects=False)

    assert_refused(page, 400, "Yandex did not accept this sign-in")
    assert account(sergey) == NOT_CONNECTED and account(anna) == NOT_CONNECTED
    sent = query_of(sergeys_authorize)
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43


def test_a_connected_account_is_replaced_only_with_consent(stack, anna):
    assert connect(stack, anna).status_code == 200

    page = connect(stack, anna, SERGEY_YANDEX)

    assert_refused(page, 409, f"The Yandex account {ANNA_YANDEX} is connected")
    assert "choose Replace when the app asks" in page.text and "replace: true" in page.text
    assert account(anna)["email"] == ANNA_YANDEX
    assert connect(stack, anna, SERGEY_YANDEX, replace=True).status_code == 200
    assert account(anna) == {"connected": True, "email": SERGEY_YANDEX, "needs_reconnect": False}


def test_the_browser_cookie_is_first_party_http_only_lax_and_only_for_the_callback(stack, anna):
    browser, authorize = start(stack, anna)
    [cookie] = list(browser.cookies)
    assert (cookie.name, cookie.path, cookie.secure) == (COOKIE, "/auth/yandex/callback", False)  # http here
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "Lax"
    assert cookie.value != query_of(authorize)["state"]  # what Yandex sees does not open the flow alone
