"""The sandbox's Yandex OAuth server (/oauth) and Yandex ID (/login) in the Telemost emulator.

A user "connects their own Yandex account": authorize -> code -> token, and the token then works on
the Telemost API of the same emulator as the room organiser.
"""
from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from .conftest import FakeClock
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sandbox.telemost import create_app
from sandbox.telemost.errors import UNDOCUMENTED

API = "/v1/telemost-api"
CLIENT_ID = "sandbox-yandex-client"
CLIENT_SECRET = "sandbox-yandex-secret"
CALLBACK = "http://127.0.0.1:5000/auth/yandex/callback"
IVAN = "ivan.petrov@example.com"
ANNA = "anna.smirnova@example.com"
PERSONAL = "personal.user@yandex.ru"
SANDBOX_ACCOUNTS = [IVAN, ANNA, "sergey.ivanov@example.com", "olga.kuznetsova@example.com",
                    "dmitry.sokolov@example.com", "maria.popova@example.com", PERSONAL]
API_ERROR_KEYS = {"error", "description", "message", "details"}


@pytest.fixture
def client(clock: FakeClock) -> FlaskClient:
    return create_app({"TESTING": True, "CLOCK": clock}).test_client()


# --- helpers -------------------------------------------------------------------------------------

def authorize_url(**query: str | None) -> str:
    """/oauth/authorize with the app's usual query; a None value leaves that parameter out."""
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": CALLBACK, "state": "s-42", **query}
    return "/oauth/authorize?" + urlencode({name: value for name, value in params.items() if value is not None})


def redirect_params(response: TestResponse, to: str = CALLBACK) -> dict[str, str]:
    """The query the server sent the browser back to the app with."""
    assert response.status_code == 302, response.data
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == to
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def sign_in(client: FlaskClient, email: str = IVAN, **query: str | None) -> str:
    """The code of the sandbox_auto shortcut."""
    return redirect_params(client.get(authorize_url(login_hint=email, sandbox_auto="1", **query)))["code"]


def token_request(client: FlaskClient, **form: str) -> TestResponse:
    return client.post("/oauth/token", data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form})


def exchange(client: FlaskClient, code: str, **form: str) -> TestResponse:
    return token_request(client, grant_type="authorization_code", code=code, **form)


def refresh(client: FlaskClient, refresh_token: str) -> TestResponse:
    return token_request(client, grant_type="refresh_token", refresh_token=refresh_token)


def connect(client: FlaskClient, email: str = IVAN, **query: str | None) -> dict[str, Any]:
    response = exchange(client, sign_in(client, email, **query))
    assert response.status_code == 200, response.json
    return response.json


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"OAuth {token}"}


def create_room(client: FlaskClient, token: str) -> TestResponse:
    return client.post(f"{API}/conferences", json={}, headers=auth(token))


def user_info(client: FlaskClient, token: str) -> TestResponse:
    return client.get("/login/info?format=json", headers=auth(token))


def assert_oauth_error(response: TestResponse, status: int, error: str) -> None:
    assert (response.status_code, response.json["error"]) == (status, error), response.json
    assert set(response.json) == {"error", "error_description"}


def assert_api_unauthorized(response: TestResponse) -> None:
    assert (response.status_code, response.json["error"]) == (401, UNDOCUMENTED), response.json
    assert set(response.json) == API_ERROR_KEYS


def assert_error_page(response: TestResponse) -> None:
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers


def oauth_control(client: FlaskClient, action: str, **body: Any) -> TestResponse:
    return client.post(f"/_sandbox/oauth/{action}", json=body)


def set_faults(client: FlaskClient, **spec: Any) -> None:
    assert client.post("/_sandbox/faults", json=spec).status_code == 200


def state(client: FlaskClient) -> dict[str, Any]:
    return client.get("/_sandbox/state").json


# --- the code flow -------------------------------------------------------------------------------

def test_full_code_flow_gives_a_token_that_creates_rooms_and_names_its_account(client):
    params = redirect_params(client.get(authorize_url(login_hint=IVAN, sandbox_auto="1")))
    assert params["state"] == "s-42"
    assert re.fullmatch(r"\d{7}", params["code"])
    tokens = exchange(client, params["code"])
    assert tokens.status_code == 200
    assert set(tokens.json) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert (tokens.json["token_type"], tokens.json["expires_in"]) == ("bearer", 3600)
    assert tokens.headers["Cache-Control"] == "no-store"
    room = create_room(client, tokens.json["access_token"])
    assert room.status_code == 201
    info = user_info(client, tokens.json["access_token"])
    assert (info.status_code, info.json["default_email"]) == (200, IVAN)
    [conference] = state(client)["conferences"]
    assert (conference["id"], conference["owner_token"]) == (room.json["id"], f"oauth:{IVAN}")


def test_login_info_describes_the_account(client):
    info = user_info(client, connect(client, ANNA)["access_token"]).json
    assert info["login"] == "anna.smirnova"
    assert (info["emails"], info["real_name"], info["display_name"]) == ([ANNA], "Anna Smirnova", "Anna Smirnova")
    assert info["client_id"] == CLIENT_ID
    assert re.fullmatch(r"\d+", info["id"])


def test_login_info_id_is_stable_and_differs_between_accounts(client):
    first, second = (user_info(client, connect(client)["access_token"]).json["id"] for _ in range(2))
    assert first == second != user_info(client, connect(client, ANNA)["access_token"]).json["id"]


def test_redirect_keeps_the_query_the_redirect_uri_already_has(client):
    response = client.get(authorize_url(redirect_uri=CALLBACK + "?next=%2Fcalendar", login_hint=IVAN, sandbox_auto="1"))
    assert redirect_params(response)["next"] == "/calendar"


def test_login_hint_may_be_the_login(client):
    assert user_info(client, connect(client, "maria.popova")["access_token"]).json["default_email"] == \
        "maria.popova@example.com"


# --- the consent page ----------------------------------------------------------------------------

def test_page_offers_every_sandbox_account_and_a_refuse_button(client):
    response = client.get(authorize_url())
    assert (response.status_code, response.mimetype) == (200, "text/html")
    page = response.get_data(as_text=True)
    for email in SANDBOX_ACCOUNTS:
        assert f'name="account" value="{email}"' in page
        assert f"Sign in to Yandex as {email.split('.')[0].title()}" in page
    assert 'name="refuse" value="1"' in page
    assert 'method="post" action="/oauth/authorize?response_type=code&amp;client_id=' in page


def test_page_escapes_what_the_query_carries(client):
    page = client.get(authorize_url(state='"><script>alert(1)</script>')).get_data(as_text=True)
    assert "<script>" not in page


def test_choosing_an_account_on_the_page_redirects_with_a_working_code(client):
    response = client.post(authorize_url(), data={"account": "olga.kuznetsova@example.com"})
    params = redirect_params(response)
    assert params["state"] == "s-42"
    token = exchange(client, params["code"]).json["access_token"]
    assert user_info(client, token).json["default_email"] == "olga.kuznetsova@example.com"


def test_refusing_redirects_with_access_denied_and_no_code(client):
    params = redirect_params(client.post(authorize_url(), data={"refuse": "1"}))
    assert (params["error"], params["state"]) == ("access_denied", "s-42")
    assert "code" not in params


@pytest.mark.parametrize("request_kind", ["page", "auto", "auto without hint"])
def test_unknown_account_is_an_error_page(client, request_kind):
    if request_kind == "page":
        response = client.post(authorize_url(), data={"account": "stranger@example.com"})
    elif request_kind == "auto":
        response = client.get(authorize_url(login_hint="stranger@example.com", sandbox_auto="1"))
    else:
        response = client.get(authorize_url(sandbox_auto="1"))
    assert_error_page(response)
    assert state(client)["oauth"]["codes"] == 0


# --- authorize request checks --------------------------------------------------------------------

@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/callback", "http://127.0.0.1.evil.example/callback", "ftp://localhost/callback",
    CALLBACK + "#fragment", "http://[::1/callback", None,
])
def test_unregistered_redirect_uri_is_an_error_page_without_redirect(client, redirect_uri):
    assert_error_page(client.get(authorize_url(redirect_uri=redirect_uri, login_hint=IVAN, sandbox_auto="1")))


@pytest.mark.parametrize("redirect_uri", ["http://localhost/cb", "https://127.0.0.1:8443/any/path"])
def test_any_local_redirect_uri_is_registered(client, redirect_uri):
    response = client.get(authorize_url(redirect_uri=redirect_uri, login_hint=IVAN, sandbox_auto="1"))
    assert "code" in redirect_params(response, to=redirect_uri)


@pytest.mark.parametrize("client_id", ["someone-else", None])
def test_unknown_client_is_an_error_page(client, client_id):
    assert_error_page(client.get(authorize_url(client_id=client_id, login_hint=IVAN, sandbox_auto="1")))


@pytest.mark.parametrize("query, error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "telemost-api:conferences.create cloud_api:disk.read"}, "invalid_scope"),
    ({"code_challenge": "abc", "code_challenge_method": "MD5"}, "invalid_request"),
])
def test_other_authorize_errors_go_back_to_the_app(client, query, error):
    params = redirect_params(client.get(authorize_url(login_hint=IVAN, sandbox_auto="1", **query)))
    assert (params["error"], params["state"]) == (error, "s-42")


# --- token endpoint ------------------------------------------------------------------------------

def test_code_works_only_once(client):
    code = sign_in(client)
    assert exchange(client, code).status_code == 200
    assert_oauth_error(exchange(client, code), 400, "invalid_grant")


@pytest.mark.parametrize("elapsed, status", [(599, 200), (600, 400)])
def test_code_lives_ten_minutes(client, clock, elapsed, status):
    code = sign_in(client)
    clock.advance(elapsed)
    assert exchange(client, code).status_code == status


def test_unknown_code_is_invalid_grant(client):
    assert_oauth_error(exchange(client, "1234567"), 400, "invalid_grant")


@pytest.mark.parametrize("credentials", [
    {"client_secret": "wrong"}, {"client_id": "someone-else"}, {"client_secret": ""},
])
def test_wrong_client_credentials_in_the_form_are_invalid_client(client, credentials):
    assert_oauth_error(exchange(client, sign_in(client), **credentials), 400, "invalid_client")


def test_failed_client_authentication_leaves_the_code_usable(client):
    code = sign_in(client)
    exchange(client, code, client_secret="wrong")
    assert exchange(client, code).status_code == 200


def test_client_credentials_may_come_as_http_basic_auth(client):
    response = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": sign_in(client)},
                           auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.status_code == 200, response.json


def test_wrong_http_basic_credentials_are_401_invalid_client(client):
    response = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": sign_in(client)},
                           auth=(CLIENT_ID, "wrong"))
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_credentials_both_in_basic_auth_and_in_the_form_are_refused(client):
    response = client.post("/oauth/token", auth=(CLIENT_ID, CLIENT_SECRET),
                           data={"grant_type": "authorization_code", "code": sign_in(client),
                                 "client_secret": CLIENT_SECRET})
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("form, error", [
    ({}, "invalid_request"),
    ({"grant_type": "password", "username": IVAN}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code"}, "invalid_request"),
    ({"grant_type": "refresh_token"}, "invalid_request"),
])
def test_malformed_token_requests(client, form, error):
    assert_oauth_error(token_request(client, **form), 400, error)


def test_token_request_must_be_a_form(client):
    response = client.post("/oauth/token", json={"grant_type": "authorization_code", "code": sign_in(client),
                                                 "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert_oauth_error(response, 400, "invalid_request")


def test_redirect_uri_sent_to_token_must_match_the_authorize_one(client):
    assert_oauth_error(exchange(client, sign_in(client), redirect_uri="http://localhost/other"), 400, "invalid_grant")
    assert exchange(client, sign_in(client), redirect_uri=CALLBACK).status_code == 200


# PKCE. Yandex ID supports it: https://yandex.ru/dev/id/doc/ru/codes/code-url names code_verifier,
# code_challenge and code_challenge_method, the last two on /authorize; the verifier goes with the code
# to /token and S256 is BASE64URL(SHA256(verifier)) (RFC 7636 §4.2, §4.5). What Yandex answers a missing
# or wrong verifier is UNVERIFIED (the page does not say): the sandbox answers invalid_grant (RFC 6749
# §5.2) and uses the code up, and the app refuses the sign-in on any refusal of the code.
VERIFIER = "v" * 50


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@pytest.mark.parametrize("method, challenge", [("S256", s256(VERIFIER)), ("plain", VERIFIER), (None, VERIFIER)])
def test_pkce_code_is_exchanged_only_with_its_verifier(client, method, challenge):
    query = {"code_challenge": challenge, "code_challenge_method": method}
    assert_oauth_error(exchange(client, sign_in(client, **query)), 400, "invalid_grant")
    assert_oauth_error(exchange(client, sign_in(client, **query), code_verifier="w" * 50), 400, "invalid_grant")
    assert exchange(client, sign_in(client, **query), code_verifier=VERIFIER).status_code == 200


def test_pkce_the_challenge_itself_is_not_a_verifier(client):
    code = sign_in(client, code_challenge=s256(VERIFIER), code_challenge_method="S256")
    assert_oauth_error(exchange(client, code, code_verifier=s256(VERIFIER)), 400, "invalid_grant")


def test_pkce_a_refused_verifier_uses_the_code_up(client):
    # Strict (UNVERIFIED whether Yandex keeps the code): one who guesses verifiers gets one guess a code.
    code = sign_in(client, code_challenge=s256(VERIFIER), code_challenge_method="S256")
    assert_oauth_error(exchange(client, code, code_verifier="w" * 50), 400, "invalid_grant")
    assert_oauth_error(exchange(client, code, code_verifier=VERIFIER), 400, "invalid_grant")


# --- refresh, expiry, revocation -----------------------------------------------------------------

def test_refresh_rotates_both_tokens_and_the_old_refresh_token_is_refused(client):
    first = connect(client)
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    assert second.json["access_token"] != first["access_token"]
    assert second.json["refresh_token"] != first["refresh_token"]
    assert create_room(client, second.json["access_token"]).status_code == 201
    assert_oauth_error(refresh(client, first["refresh_token"]), 400, "invalid_grant")


def test_refresh_ends_the_replaced_access_token(client):
    first = connect(client)
    refresh(client, first["refresh_token"])
    assert_api_unauthorized(create_room(client, first["access_token"]))


def test_access_token_expires_after_its_ttl_with_its_refresh_token(client, clock):
    tokens = connect(client)
    room = create_room(client, tokens["access_token"]).json["id"]
    clock.advance(3600)
    assert_api_unauthorized(create_room(client, tokens["access_token"]))
    assert user_info(client, tokens["access_token"]).status_code == 401
    # "Время жизни токенов совпадает" (yandex.ru/dev/id/doc/ru/tokens/refresh-client): the refresh
    # token died with the access token, so only a new sign-in brings access back.
    assert_oauth_error(refresh(client, tokens["refresh_token"]), 400, "invalid_grant")
    assert client.get(f"{API}/conferences/{room}", headers=auth(connect(client)["access_token"])).status_code == 200


def test_a_refresh_before_expiry_brings_a_pair_that_still_opens_the_persons_rooms(client, clock):
    tokens = connect(client)
    room = create_room(client, tokens["access_token"]).json["id"]
    clock.advance(3000)
    renewed = refresh(client, tokens["refresh_token"]).json["access_token"]
    # The room is the person's, not the token's: it stays readable after a refresh.
    assert client.get(f"{API}/conferences/{room}", headers=auth(renewed)).status_code == 200


def test_access_ttl_can_be_configured(client, clock):
    assert oauth_control(client, "config", access_ttl=60).json == {"access_ttl": 60}
    assert client.get("/_sandbox/oauth/config").json == {"access_ttl": 60}
    tokens = connect(client)
    assert tokens["expires_in"] == 60
    clock.advance(59)
    assert create_room(client, tokens["access_token"]).status_code == 201
    clock.advance(1)
    assert_api_unauthorized(create_room(client, tokens["access_token"]))


@pytest.mark.parametrize("access_ttl", [0, -5, "60", 1.5, None, True])
def test_bad_access_ttl_is_400(client, access_ttl):
    response = oauth_control(client, "config", access_ttl=access_ttl)
    assert (response.status_code, response.json["error"]) == (400, UNDOCUMENTED)
    assert client.get("/_sandbox/oauth/config").json == {"access_ttl": 3600}


def test_expire_ends_the_access_and_the_refresh_token_at_once(client):
    """Both tokens of a pair have one lifetime (yandex.ru/dev/id/doc/ru/tokens/refresh-client)."""
    tokens = connect(client)
    assert oauth_control(client, "expire", email=IVAN).json == {"email": IVAN, "expired": 1}
    assert_api_unauthorized(create_room(client, tokens["access_token"]))
    assert user_info(client, tokens["access_token"]).status_code == 401
    assert_oauth_error(refresh(client, tokens["refresh_token"]), 400, "invalid_grant")


def test_revoke_ends_every_token_of_the_account_only(client):
    ivan_tokens = [connect(client), connect(client)]
    anna = connect(client, ANNA)
    assert oauth_control(client, "revoke", email=IVAN).json == {"email": IVAN, "revoked": 2}
    for tokens in ivan_tokens:
        assert_api_unauthorized(create_room(client, tokens["access_token"]))
        assert user_info(client, tokens["access_token"]).status_code == 401
        assert_oauth_error(refresh(client, tokens["refresh_token"]), 400, "invalid_grant")
    assert create_room(client, anna["access_token"]).status_code == 201


def test_revoke_also_voids_pending_codes(client):
    code = sign_in(client)
    oauth_control(client, "revoke", email=IVAN)
    assert_oauth_error(exchange(client, code), 400, "invalid_grant")


def test_signing_in_again_after_a_revoke_works(client):
    connect(client)
    oauth_control(client, "revoke", email=IVAN)
    assert create_room(client, connect(client)["access_token"]).status_code == 201


@pytest.mark.parametrize("action", ["revoke", "expire"])
def test_control_actions_need_a_sandbox_account(client, action):
    response = oauth_control(client, action, email="stranger@example.com")
    assert (response.status_code, response.json["error"]) == (400, UNDOCUMENTED)


# --- what the token may do -----------------------------------------------------------------------

def test_personal_account_token_makes_public_meetings_only(client):
    """yandex.com/dev/telemost/doc/ru/conferences/conference-create.md: a personal Yandex ID makes an
    ordinary public meeting; broadcasts and organisation-only rooms depend on rights (refused here)."""
    token = connect(client, PERSONAL)["access_token"]
    assert create_room(client, token).status_code == 201
    response = client.post(f"{API}/conferences", json={"live_stream": {}}, headers=auth(token))
    assert (response.status_code, response.json["error"]) == (403, "ApiRestrictedToOrganizations")
    assert user_info(client, token).json["default_email"] == PERSONAL


def test_token_gets_only_the_scopes_asked_for(client):
    token = connect(client, scope="telemost-api:conferences.read")["access_token"]
    response = create_room(client, token)
    assert (response.status_code, response.json["error"]) == (403, UNDOCUMENTED)
    info = user_info(client, token).json
    assert "default_email" not in info and "real_name" not in info


def test_organisation_token_can_broadcast(client):
    token = connect(client)["access_token"]
    assert client.post(f"{API}/conferences", json={"live_stream": {}}, headers=auth(token)).status_code == 201


@pytest.mark.parametrize("headers, query, status", [
    ({}, "format=json", 401),
    ({"Authorization": "OAuth no-such-token"}, "format=json", 401),
    ("bearer", "format=json", 401),
    ("oauth", "format=xml", 400),
    ({}, "oauth_token=TOKEN", 400),
])
def test_login_info_refusals(client, headers, query, status):
    token = connect(client)["access_token"]
    if headers == "bearer":
        headers = {"Authorization": f"Bearer {token}"}
    elif headers == "oauth":
        headers = auth(token)
    response = client.get("/login/info?" + query.replace("TOKEN", token), headers=headers)
    assert response.status_code == status


# --- faults, state, reset ------------------------------------------------------------------------

def test_fault_on_the_token_endpoint_fails_it_in_the_oauth_shape_then_clears(client):
    code = sign_in(client)
    set_faults(client, error_rate=1, status=503, path="/oauth/token", count=1)
    assert_oauth_error(exchange(client, code), 503, "temporarily_unavailable")
    assert exchange(client, code).status_code == 200  # the faulted request never reached the server


def test_fault_429_on_the_token_endpoint_carries_retry_after(client):
    set_faults(client, error_rate=1, status=429, retry_after=9, path="/oauth/token")
    response = exchange(client, "1234567")
    assert_oauth_error(response, 429, "too_many_requests")
    assert response.headers["Retry-After"] == "9"


def test_faults_hit_login_info_but_never_the_consent_page(client):
    token = connect(client)["access_token"]
    set_faults(client, error_rate=1, status=500)
    assert_oauth_error(user_info(client, token), 500, "server_error")
    assert client.get(authorize_url()).status_code == 200
    assert client.post(authorize_url(), data={"account": IVAN}).status_code == 302


def test_state_shows_codes_and_tokens(client):
    sign_in(client)
    connect(client, ANNA)
    oauth_control(client, "revoke", email=ANNA)
    oauth = state(client)["oauth"]
    assert oauth["codes"] == 1
    assert [(token["email"], token["revoked"]) for token in oauth["tokens"]] == [(ANNA, True)]
    assert oauth["tokens"][0]["expires_at"] == "2027-01-15T09:00:00+00:00"  # the fake clock + 3600 s


def test_oauth_requests_are_counted_by_route(client):
    token = connect(client)["access_token"]
    user_info(client, token)
    client.get(authorize_url())
    assert state(client)["requests"] == {"GET /oauth/authorize": 2, "POST /oauth/token": 1,
                                         "GET /login/info": 1, "total": 4}


def test_reset_forgets_codes_tokens_and_settings(client):
    initial = state(client)
    code = sign_in(client)
    token = connect(client)["access_token"]
    oauth_control(client, "config", access_ttl=60)
    client.post("/_sandbox/reset")
    assert state(client) == initial
    assert_api_unauthorized(create_room(client, token))
    assert_oauth_error(exchange(client, code), 400, "invalid_grant")
    assert client.get("/_sandbox/oauth/config").json == {"access_ttl": 3600}
