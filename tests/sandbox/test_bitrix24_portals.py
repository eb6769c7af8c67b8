"""The many-portal Bitrix24 emulator (sandbox/bitrix24/portals.py): portals apart, one OAuth server for all.

Each portal is reached by the Host of its own address (127.0.0.n:8082), as the app reaches a portal at its
client_endpoint; the OAuth server is on portal 1's host, where the app's sandbox settings trust it."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from sandbox.bitrix24.portals import ManyPortals, binds, count_from_env, create_app

from .conftest import FakeClock

PORT = 8082
OAUTH = f"http://127.0.0.1:{PORT}"
CLIENT = {"client_id": "local.sandbox.telemost", "client_secret": "sandbox-secret"}


@pytest.fixture
def portals(clock: FakeClock) -> ManyPortals:
    return create_app(4, {"public_url": OAUTH, "clock": clock})


@pytest.fixture
def client(portals: ManyPortals) -> Client:
    return Client(portals)


def at(n: int) -> str:
    return f"http://127.0.0.{n}:{PORT}"


def tokens(client: Client, n: int, user_id: int = 2) -> dict[str, Any]:
    response = client.post("/_sandbox/tokens", json={"user_id": user_id}, base_url=at(n))
    assert response.status_code == 200, response.json
    return response.json


def call(client: Client, n: int, method: str, token: str) -> TestResponse:
    return client.post(f"/rest/{method}.json", json={"auth": token}, base_url=at(n))


def refresh(client: Client, refresh_token: str) -> TestResponse:
    query = {"grant_type": "refresh_token", "refresh_token": refresh_token, **CLIENT}
    return client.get("/oauth-server-ru/oauth/token/", query_string=query, base_url=OAUTH)


def test_each_portal_has_its_own_host_member_id_and_application_token(client: Client) -> None:
    configs = [client.get("/_sandbox/state", base_url=at(n)).json["config"] for n in (1, 2, 3, 4)]
    assert [c["domain"] for c in configs] == [f"127.0.0.{n}:{PORT}" for n in (1, 2, 3, 4)]
    # member_id is "the unique identifier of Bitrix24" (b24restdocs settings/oauth/index.md): one per portal.
    # Portal 1 is the single-portal emulator's (sandbox/bitrix24/settings.py), the one the app's tests know.
    assert configs[0]["member_id"] == "5a0db0f5c3d54b3e8f2a1c0d9e8f7a6b"
    assert len({c["member_id"] for c in configs}) == 4
    assert all(len(c["member_id"]) == 32 for c in configs)
    launches = [
        client.post("/_sandbox/launch", json={"user_id": 2}, base_url=at(n)).json["form"] for n in (1, 2, 3)
    ]
    # application_token is handed over at the install and compared in every later event
    # (api-reference/events/safe-event-handlers.md); no page says in so many words that it differs between
    # portals: the emulator makes it differ, as a secret of each install. Every portal names the one OAuth
    # server as SERVER_ENDPOINT (settings/oauth/index.md: server_endpoint is "the address of the REST
    # interface of the authorization server", https://oauth.bitrix.info/rest/ in its examples).
    assert len({form["APPLICATION_TOKEN"] for form in launches}) == 3
    assert {form["SERVER_ENDPOINT"] for form in launches} == {f"{OAUTH}/oauth-server-ru/rest/"}
    assert [form["member_id"] for form in launches] == [c["member_id"] for c in configs[:3]]


def test_a_token_of_one_portal_is_refused_by_another(client: Client) -> None:
    token = tokens(client, 2)["access_token"]
    assert call(client, 2, "user.current", token).json["result"]["ID"] == "2"
    # A token is for the portal that issued it: calls go to its client_endpoint (settings/oauth/index.md
    # "Method calls go to the address from client_endpoint"). No source says what another portal answers to
    # it; the emulator answers invalid_token, as for any token it does not know (reference §3, unverified).
    refused = call(client, 3, "user.current", token)
    assert (refused.status_code, refused.json["error"]) == (401, "invalid_token")


def test_each_portal_has_its_own_bucket(client: Client, clock: FakeClock) -> None:
    # "Request intensity is tracked separately for each Bitrix24. A limit triggered for an application in
    # one Bitrix24 does not affect its operation in another Bitrix24." (b24restdocs limits.md); 50 and 2 a
    # second for the usual plans (the same page's table).
    token_2, token_3 = tokens(client, 2)["access_token"], tokens(client, 3)["access_token"]
    assert all(call(client, 2, "user.current", token_2).status_code == 200 for _ in range(50))
    full = call(client, 2, "user.current", token_2)
    assert (full.status_code, full.json["error"]) == (503, "QUERY_LIMIT_EXCEEDED")
    assert call(client, 3, "user.current", token_3).status_code == 200
    summary = client.get("/_sandbox/portals", base_url=OAUTH).json
    assert [p["rejected"]["QUERY_LIMIT_EXCEEDED"] for p in summary] == [0, 1, 0, 0]
    assert [p["bucket"]["level"] for p in summary] == [0, 50, 1, 0]


def test_the_one_oauth_server_refreshes_a_token_of_any_portal(client: Client) -> None:
    # oauth.bitrix.info "only it issues and renews tokens" (settings/oauth/index.md), for every portal: its
    # answer names the portal by member_id and client_endpoint (settings/oauth/auto-renewal.md).
    members = [p["member_id"] for p in client.get("/_sandbox/portals", base_url=OAUTH).json]
    for n in (1, 2, 4):
        issued = tokens(client, n, user_id=n)
        renewed = refresh(client, issued["refresh_token"])
        assert renewed.status_code == 200, renewed.json
        body = renewed.json
        assert (body["member_id"], body["client_endpoint"], body["user_id"]) == (
            members[n - 1],
            f"{at(n)}/rest/",
            n,
        )
        assert body["server_endpoint"] == f"{OAUTH}/oauth-server-ru/rest/"
        assert call(client, n, "user.current", body["access_token"]).json["result"]["ID"] == str(n)
        # The refresh token used is spent (the single-portal emulator's rule, tests/sandbox/test_bitrix24_emulator.py).
        assert refresh(client, issued["refresh_token"]).json["error"] == "invalid_grant"
    assert refresh(client, "not-a-token").json["error"] == "invalid_grant"


def test_the_oauth_server_vouches_for_a_token_of_any_portal_and_exchanges_its_codes(client: Client) -> None:
    token = tokens(client, 3)["access_token"]
    info = client.get(f"/oauth-server-ru/rest/app.info/?auth={token}", base_url=OAUTH).json["result"]
    assert (info["install"]["domain"], info["user_id"]) == (f"127.0.0.3:{PORT}", 2)
    code = client.post("/_sandbox/oauth_code", json={"user_id": 4}, base_url=at(4)).json["code"]
    granted = client.post(
        "/oauth-server-ru/oauth/token/",
        base_url=OAUTH,
        data={"grant_type": "authorization_code", "code": code, **CLIENT},
    )
    assert granted.status_code == 200 and granted.json["client_endpoint"] == f"{at(4)}/rest/"
    # The OAuth server is Bitrix24's, not a portal's: another portal's host does not serve it as the shared one.
    elsewhere = client.get(f"/oauth-server-ru/rest/app.info/?auth={token}", base_url=at(2))
    assert elsewhere.status_code == 401


def test_an_unknown_host_is_no_portal(client: Client) -> None:
    assert client.get("/healthz", base_url=at(5)).status_code == 404
    assert client.get("/healthz", base_url=at(4)).status_code == 200


def test_the_count_and_the_binds() -> None:
    assert count_from_env({"SANDBOX_BITRIX24_PORTALS": "100"}) == 100
    with pytest.raises(SystemExit):
        count_from_env({"SANDBOX_BITRIX24_PORTALS": "255"})
    assert binds(2, PORT) == ["--bind", f"127.0.0.1:{PORT}", "--bind", f"127.0.0.2:{PORT}"]
