"""The Bitrix24 emulator's regional OAuth servers, renamed and deleted portal (issue 13: B1, B9, B10, B11).

Sources, cited per test: b24phpsdk src/Core/Credentials/DefaultOAuthServerUrl.php and b24pysdk
b24pysdk/api/requesters/bitrix_oauth_requester.py (the two regional servers, how app.info is called),
b24restdocs settings/oauth/auto-renewal.md (the refresh answer), b24pysdk b24pysdk/credentials/bitrix_token.py
(a renamed portal answers 302), b24restdocs _includes/system-errors.md (PORTAL_DELETED).
"""
from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient

from sandbox.bitrix24 import app_install, create_app

from .conftest import FakeClock

SECRET = {"client_id": "local.sandbox.telemost", "client_secret": "sandbox-secret"}
RU, WORLD = "/oauth-server-ru", "/oauth-server"  # oauth.bitrix24.tech's and oauth.bitrix.info's stand-ins


def portal(clock: FakeClock, monkeypatch: pytest.MonkeyPatch, **config) -> FlaskClient:
    for name in list(os.environ):  # the defaults are what is under test
        if name.startswith("SANDBOX_"):
            monkeypatch.delenv(name)
    return create_app({"clock": clock, **config}).test_client()


@pytest.fixture
def client(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    return portal(clock, monkeypatch)


def pair(client: FlaskClient, user_id: int = 1) -> dict:
    return client.post("/_sandbox/tokens", json={"user_id": user_id}).json


def refresh(client: FlaskClient, server: str, refresh_token: str):
    return client.get(f"{server}/oauth/token/", query_string={"grant_type": "refresh_token",
                                                             "refresh_token": refresh_token, **SECRET})


# --- B1: two regional servers; a token works only at the one that issued it ---

@pytest.mark.parametrize("region, own, other, host", [("ru", RU, WORLD, "oauth.bitrix24.tech"),
                                                      ("world", WORLD, RU, "oauth.bitrix.info")])
def test_a_portal_s_tokens_work_only_at_its_regional_oauth_server(clock, monkeypatch, region, own, other, host):
    """oauth.bitrix24.tech serves portals in Russia, oauth.bitrix.info the rest (b24phpsdk DefaultOAuthServerUrl
    "west"; b24pysdk hard-codes oauth.bitrix24.tech). What the other server answers is UNVERIFIED: here it does
    not know the token (invalid_grant, invalid_token); the app tries the other known server before it drops a
    pair, so it is safe whatever that answer is."""
    client = portal(clock, monkeypatch, oauth_region=region)
    tokens = pair(client)
    foreign = refresh(client, other, tokens["refresh_token"])
    assert (foreign.status_code, foreign.json["error"]) == (400, "invalid_grant")
    assert client.get(f"{other}/rest/app.info/", query_string={"auth": tokens["access_token"]}).status_code == 401
    answer = refresh(client, own, tokens["refresh_token"]).json
    # The refresh answer names the server (settings/oauth/auto-renewal.md: domain, server_endpoint).
    assert (answer["domain"], answer["server_endpoint"]) == (host, f"http://127.0.0.1:8082{own}/rest/")
    assert client.get(f"{own}/rest/app.info/", query_string={"auth": answer["access_token"]}).status_code == 200
    # The launch and the events carry the portal's own server too.
    assert client.post("/_sandbox/launch", json={"user_id": 1}).json["form"]["SERVER_ENDPOINT"] == \
        f"http://127.0.0.1:8082{own}/rest/"
    assert client.get("/_sandbox/state").json["config"]["server_endpoint"] == f"http://127.0.0.1:8082{own}/rest/"
    emulated = client.application.extensions["bitrix24_portal"]
    assert app_install.portal_auth(emulated)["server_endpoint"] == f"http://127.0.0.1:8082{own}/rest/"  # events' auth[]


def test_an_unknown_region_is_refused_at_start(clock, monkeypatch):
    with pytest.raises(SystemExit, match="OAUTH_REGION"):
        portal(clock, monkeypatch, oauth_region="mars")


# --- B11: app.info on the OAuth server, as the SDKs call it ---

def test_oauth_app_info_answers_as_the_sdks_call_it_and_not_with_json(client: FlaskClient) -> None:
    """b24pysdk bitrix_oauth_requester.py: GET {oauth}/rest/app.info/?auth=...; b24phpsdk src/Core/ApiClient.php
    posts to {oauth}/rest/app.info. The .json form is in neither SDK nor in the docs (UNVERIFIED): the emulator
    does not serve it, so an app that sent it would fail here rather than on a real server."""
    token = pair(client)["access_token"]
    assert client.get(f"{RU}/rest/app.info/", query_string={"auth": token}).json["result"]["client_id"] == \
        "local.sandbox.telemost"
    assert client.post(f"{RU}/rest/app.info", json={"auth": token}).status_code == 200
    assert client.post(f"{RU}/rest/app.info.json", json={"auth": token}).status_code == 404


# --- B9: a renamed portal ---

def test_a_renamed_portal_redirects_its_old_host_and_names_the_new_one_everywhere(client: FlaskClient) -> None:
    """b24pysdk credentials/bitrix_token.py follows a 302 from the old domain (BitrixResponse302JSONDecodeError,
    new_domain from Location); the refresh answer's client_endpoint is the portal's REST address
    (settings/oauth/auto-renewal.md)."""
    tokens = pair(client)
    assert client.post("/_sandbox/rename", json={"domain": "localhost:8082"}).status_code == 200
    old = client.post("/rest/user.current.json?x=1", json={"auth": tokens["access_token"]},
                      headers={"Host": "127.0.0.1:8082"})
    assert (old.status_code, old.headers["Location"]) == (302, "http://localhost:8082/rest/user.current.json?x=1")
    new = client.post("/rest/user.current.json", json={"auth": tokens["access_token"]},
                      headers={"Host": "localhost:8082"})
    assert new.json["result"]["ID"] == "1"
    answer = refresh(client, RU, tokens["refresh_token"]).json
    # The portal moved, its OAuth server did not.
    assert (answer["client_endpoint"], answer["server_endpoint"]) == \
        ("http://localhost:8082/rest/", "http://127.0.0.1:8082/oauth-server-ru/rest/")
    info = client.get(f"{RU}/rest/app.info/", query_string={"auth": answer["access_token"]}).json["result"]
    assert (info["install"]["domain"], info["install"]["client_endpoint"]) == \
        ("localhost:8082", "http://localhost:8082/rest/")
    assert client.post("/_sandbox/launch", json={"user_id": 1}).json["query"]["DOMAIN"] == "localhost:8082"
    client.post("/_sandbox/reset")
    assert client.get("/_sandbox/state").json["config"]["domain"] == "127.0.0.1:8082"


@pytest.mark.parametrize("body", [{}, {"domain": "not a host"}, {"domain": "127.0.0.1:8082"}, {"domain": 5}])
def test_a_rename_needs_a_new_host(client: FlaskClient, body) -> None:
    assert client.post("/_sandbox/rename", json=body).status_code == 400


# --- B10: a deleted portal ---

def test_a_deleted_portal_answers_portal_deleted_with_500(client: FlaskClient) -> None:
    """b24restdocs _includes/system-errors.md: 500 PORTAL_DELETED "Portal was deleted"."""
    token = pair(client)["access_token"]
    client.post("/_sandbox/delete_portal")
    answer = client.post("/rest/user.current.json", json={"auth": token})
    assert (answer.status_code, answer.json["error"], answer.json["error_description"]) == \
        (500, "PORTAL_DELETED", "Portal was deleted")
    client.post("/_sandbox/reset")
    assert client.post("/rest/user.current.json", json={"auth": pair(client)["access_token"]}).status_code == 200
