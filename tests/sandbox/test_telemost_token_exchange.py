"""Yandex 360 service applications and the token-exchange grant, in the sandbox's Yandex OAuth server,
over real HTTP (the emulator runs in a thread), and the app's client of it (shared/clients/yandex_oauth.py).

The pages these tests follow:
[SA] yandex.ru/support/yandex-360/business/admin/ru/security-service-applications (and its English
     twin yandex.com/support/yandex-360/business/admin/en/security-service-applications): service apps
     "manage user resources in an organization via the API", Extended and Optimal plans only. The
     part of the page with the token request was not readable here; the request (grant_type, client_id,
     client_secret, subject_token, subject_token_type uid|email) is taken from our audit
     (reference/real-platform-findings.md) and the public clients that cite the page.
[SAL] yandex.ru/dev/api360/doc/ru/ref/ServiceApplicationsService/index.md: the list is the owner's,
     each app an {"id", "scopes"}.
[RFC8693] datatracker.ietf.org/doc/html/rfc8693 §2.2.1 (issued_token_type; refresh_token optional),
     §2.2.2 (a bad subject is invalid_request).
UNVERIFIED everywhere: Yandex's error codes and statuses for this grant (no Yandex page lists them),
the lifetime (3600 s is what public clients read in expires_in), and whether `scope` is in the answer.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from sandbox.telemost import create_app
from shared.clients.errors import PermanentError
from shared.clients.yandex_oauth import NOT_AN_EMPLOYEE_CODES, SERVICE_APP_REFUSED_CODES, YandexOAuth

from .conftest import FakeClock

API = "/v1/telemost-api"
GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
BY_EMAIL = "urn:yandex:params:oauth:token-type:email"
BY_UID = "urn:yandex:params:oauth:token-type:uid"
APP, SECRET = "sandbox-service-app", "sandbox-service-secret"  # example.com, org 1000001
APP_2, SECRET_2 = "sandbox-service-app-2", "sandbox-service-secret-2"  # example.org, org 1000002
WEB_APP, WEB_SECRET = "sandbox-yandex-client", "sandbox-yandex-secret"
IVAN, IVAN_UID = "ivan.petrov@example.com", "1130000000000001"
PAVEL = "pavel.volkov@example.org"  # the second organisation's employee
PERSONAL = "personal.user@yandex.ru"


@dataclass
class Emulator:
    url: str
    clock: FakeClock

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=5, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=5, **kwargs)

    def exchange(self, subject: str, subject_type: str = BY_EMAIL, client_id: str = APP,
                 client_secret: str = SECRET, **extra: str | None) -> requests.Response:
        """POST /oauth/token with the token-exchange grant; an extra None leaves that parameter out."""
        form = {"grant_type": GRANT, "client_id": client_id, "client_secret": client_secret,
                "subject_token": subject, "subject_token_type": subject_type, **extra}
        return self.post("/oauth/token", data={name: value for name, value in form.items() if value is not None})

    def state(self) -> dict[str, Any]:
        return self.get("/_sandbox/state").json()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[Emulator]:
    server = make_server("127.0.0.1", 0, create_app({"CLOCK": clock}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield Emulator(f"http://127.0.0.1:{server.server_port}", clock)
    server.shutdown()
    thread.join(timeout=5)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"OAuth {token}"}


def assert_oauth_error(response: requests.Response, status: int, error: str) -> None:
    assert (response.status_code, response.json()["error"]) == (status, error), response.text
    assert set(response.json()) == {"error", "error_description"}


# --- the grant -----------------------------------------------------------------------------------

def test_an_employee_token_by_email_has_no_refresh_token_and_lives_an_hour(emulator):
    """[SA] the request by e-mail; [RFC8693] §2.2.1 the answer. UNVERIFIED: the 3600 s and the
    absence of `scope` (public clients read expires_in 3600 and see no refresh_token)."""
    response = emulator.exchange(IVAN)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "issued_token_type"}
    assert (body["expires_in"], body["token_type"]) == (3600, "bearer")
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"


def test_an_employee_token_by_uid_is_that_employees(emulator):
    """[SA] subject_token_type uid. login.yandex.ru/info names the employee and the service app's
    client_id (UNVERIFIED for service-app tokens; the web flow's answer has client_id)."""
    token = emulator.exchange(IVAN_UID, BY_UID).json()["access_token"]
    info = emulator.get("/login/info?format=json", headers=auth(token)).json()
    assert (info["id"], info["default_email"], info["client_id"]) == (IVAN_UID, IVAN, APP)


def test_the_email_is_matched_without_regard_to_case(emulator):
    """UNVERIFIED: Yandex treats addresses case-insensitively elsewhere (login_hint); the sandbox here too."""
    assert emulator.exchange("Ivan.Petrov@Example.COM").status_code == 200


def test_the_token_organises_telemost_rooms_as_the_employee(emulator):
    """[SA] a service app acts on an employee's resources: the room is the employee's own, the same
    person as when they connect their account themselves (the web flow), so either token edits it."""
    service_token = emulator.exchange(IVAN).json()["access_token"]
    created = emulator.post(f"{API}/conferences", json={}, headers=auth(service_token))
    assert created.status_code == 201, created.text
    [room] = emulator.state()["conferences"]
    assert room["owner_token"] == f"oauth:{IVAN}"

    code_redirect = emulator.get("/oauth/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": WEB_APP, "redirect_uri": "http://127.0.0.1/cb",
        "login_hint": IVAN, "sandbox_auto": "1"})
    code = code_redirect.headers["Location"].split("code=")[1].split("&")[0]
    web_token = emulator.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                    "client_id": WEB_APP, "client_secret": WEB_SECRET}).json()
    patched = requests.patch(f"{emulator.url}{API}/conferences/{created.json()['id']}", timeout=5,
                             json={"waiting_room_level": "ADMINS"}, headers=auth(web_token["access_token"]))
    assert patched.status_code == 200, patched.text


def test_the_second_organisations_employees_can_be_cohosts(emulator):
    """Cohosts need a Yandex account (yandex.com/dev/telemost/doc/ru/cohosts-add); the second
    organisation's people have one, so a room of either organisation may name them."""
    token = emulator.exchange(IVAN).json()["access_token"]
    created = emulator.post(f"{API}/conferences", json={"cohosts": [{"email": PAVEL}]}, headers=auth(token))
    assert created.status_code == 201, created.text


def test_the_token_dies_after_its_lifetime_and_the_app_asks_again(emulator):
    """[RFC8693] no refresh token: a new exchange is the only way on (UNVERIFIED that Yandex does not
    answer the same token again while it lives; the sandbox issues a new one each time)."""
    first = emulator.exchange(IVAN).json()["access_token"]
    emulator.clock.advance(3600)
    assert emulator.post(f"{API}/conferences", json={}, headers=auth(first)).status_code == 401
    second = emulator.exchange(IVAN).json()["access_token"]
    assert second != first
    assert emulator.post(f"{API}/conferences", json={}, headers=auth(second)).status_code == 201


# --- refusals (all UNVERIFIED: no Yandex page lists this grant's errors) ---------------------------

@pytest.mark.parametrize("subject", ["nobody@example.com", PERSONAL, PAVEL])
def test_someone_who_is_no_employee_of_the_apps_organisation_is_refused_alike(emulator, subject):
    """[RFC8693] §2.2.2: an unacceptable subject_token is invalid_request. An unknown address, a personal
    account and the other organisation's employee get the same answer, so nothing leaks across."""
    assert_oauth_error(emulator.exchange(subject), 400, "invalid_request")


def test_the_second_organisations_app_reaches_only_its_own_employees(emulator):
    """[SA] a service app belongs to one organisation (the list is per orgId, [SAL])."""
    assert emulator.exchange(PAVEL, client_id=APP_2, client_secret=SECRET_2).status_code == 200
    assert_oauth_error(emulator.exchange(IVAN, client_id=APP_2, client_secret=SECRET_2), 400, "invalid_request")
    assert_oauth_error(emulator.exchange(IVAN_UID, BY_UID, client_id=APP_2, client_secret=SECRET_2),
                       400, "invalid_request")


@pytest.mark.parametrize(("client_id", "client_secret"), [(APP, "wrong"), ("no-such-app", SECRET), (APP, SECRET_2)])
def test_wrong_credentials_are_invalid_client(emulator, client_id, client_secret):
    """RFC 6749 §5.2 invalid_client, a 400 as Yandex documents it for the form-posted secret
    (yandex.ru/dev/id/doc/ru/codes/code-url)."""
    assert_oauth_error(emulator.exchange(IVAN, client_id=client_id, client_secret=client_secret),
                       400, "invalid_client")


def test_an_app_that_is_no_service_app_is_unauthorized_client(emulator):
    """RFC 6749 §5.2 unauthorized_client; public clients of the grant see a 400 saying "unauthorized"
    when the app is not listed as a service app. The exact code is UNVERIFIED."""
    assert_oauth_error(emulator.exchange(IVAN, client_id=WEB_APP, client_secret=WEB_SECRET),
                       400, "unauthorized_client")


def test_a_service_app_may_not_run_the_web_grants(emulator):
    """UNVERIFIED whether Yandex allows it; the sandbox keeps each client to its own grant."""
    response = emulator.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "1:x",
                                                   "client_id": APP, "client_secret": SECRET})
    assert_oauth_error(response, 400, "unauthorized_client")


@pytest.mark.parametrize("missing", ["subject_token", "subject_token_type"])
def test_a_missing_parameter_is_invalid_request(emulator, missing):
    """[RFC8693] §2.1: subject_token and subject_token_type are REQUIRED."""
    assert_oauth_error(emulator.exchange(IVAN, **{missing: None}), 400, "invalid_request")


def test_an_unknown_subject_token_type_is_invalid_request(emulator):
    """[SA] names only the uid and email types; the answer to another is UNVERIFIED."""
    response = emulator.exchange(IVAN, "urn:ietf:params:oauth:token-type:access_token")
    assert_oauth_error(response, 400, "invalid_request")


# --- the sandbox's control -----------------------------------------------------------------------

def test_state_lists_the_service_apps_and_the_tokens_they_got(emulator):
    emulator.exchange(PAVEL, client_id=APP_2, client_secret=SECRET_2)
    oauth = emulator.state()["oauth"]
    assert [(app["client_id"], app["client_secret"], app["org_id"]) for app in oauth["service_apps"]] == [
        (APP, SECRET, "1000001"), (APP_2, SECRET_2, "1000002")]
    assert [(token["email"], token["client_id"]) for token in oauth["tokens"]] == [(PAVEL, APP_2)]


def test_a_service_app_added_by_control_works_until_a_reset(emulator):
    """[SAL] an app is an id with scopes; the token gets the app's scopes, so one without the
    Telemost rights cannot make rooms (the Telemost API's 403 for a missing scope)."""
    added = emulator.post("/_sandbox/oauth/service-apps", json={
        "client_id": "calendar-only", "client_secret": "s3", "org_id": "1000001", "scopes": ["login:email"]})
    assert added.status_code == 201, added.text
    token = emulator.exchange(IVAN, client_id="calendar-only", client_secret="s3").json()["access_token"]
    assert emulator.post(f"{API}/conferences", json={}, headers=auth(token)).status_code == 403
    assert emulator.post("/_sandbox/reset").status_code == 200
    assert_oauth_error(emulator.exchange(IVAN, client_id="calendar-only", client_secret="s3"), 400, "invalid_client")


@pytest.mark.parametrize("body", [{"client_id": WEB_APP, "client_secret": "x", "org_id": "1000001"},
                                  {"client_id": "a", "client_secret": "x", "org_id": "999"},
                                  {"client_id": "a", "client_secret": "", "org_id": "1000001"}])
def test_control_refuses_a_bad_service_app(emulator, body):
    assert emulator.post("/_sandbox/oauth/service-apps", json=body).status_code == 400


# --- the app's client ----------------------------------------------------------------------------

def client_of(emulator: Emulator) -> YandexOAuth:
    return YandexOAuth(f"{emulator.url}/oauth", f"{emulator.url}/login", WEB_APP, WEB_SECRET,
                       "http://127.0.0.1/cb", timeout=5)


def test_client_gets_an_employee_token_with_the_service_apps_credentials(emulator):
    """[SA] by e-mail; the client's own (web) credentials are not sent."""
    answer = client_of(emulator).exchange_for_employee(APP, SECRET, IVAN)
    assert answer["expires_in"] == 3600 and "refresh_token" not in answer
    assert emulator.post(f"{API}/conferences", json={}, headers=auth(answer["access_token"])).status_code == 201


@pytest.mark.parametrize(("client_id", "client_secret", "email", "codes"), [
    (APP, SECRET, PAVEL, NOT_AN_EMPLOYEE_CODES),
    (APP, SECRET, PERSONAL, NOT_AN_EMPLOYEE_CODES),
    (APP, "wrong", IVAN, SERVICE_APP_REFUSED_CODES),
    (WEB_APP, WEB_SECRET, IVAN, SERVICE_APP_REFUSED_CODES),
])
def test_client_refusals_tell_a_stranger_from_a_refused_app(emulator, client_id, client_secret, email, codes):
    """The two code sets of shared/clients/yandex_oauth.py never overlap, so a caller can tell
    "connect this person another way" from "the administrator must fix the service app"."""
    assert not NOT_AN_EMPLOYEE_CODES & SERVICE_APP_REFUSED_CODES
    with pytest.raises(PermanentError) as refused:
        client_of(emulator).exchange_for_employee(client_id, client_secret, email)
    assert refused.value.code in codes and refused.value.status == 400

