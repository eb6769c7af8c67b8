"""Attacks on identity and ownership: forged and borrowed tokens, other people's conferences (IDOR), forged
and replayed Bitrix24 events, launch fields that lie. What tests/integration already covers is not repeated."""
from __future__ import annotations

import json
import re
import secrets
import time

import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.integration.stack import ApiClient
from tests.integration.test_identity import install_event, post_event
from tests.integration.test_pipeline import meeting, step

APP_TOKEN_SALT = "telemost-app-token"  # web/auth.py
OTHER_PORTAL = "0123456789abcdef0123456789abcdef"  # a member_id the app has never seen


def forged(stack, claims: dict, key: str | None = None, salt: str = APP_TOKEN_SALT,
           signer=TimestampSigner) -> ApiClient:
    serializer = URLSafeTimedSerializer(key or stack.env["SECRET_KEY"], salt=salt, signer=signer)
    return ApiClient(stack.web_url, serializer.dumps(claims))


def portal_of(stack) -> str:
    return stack.launch(1)["form"]["member_id"]


def app_config(page: requests.Response) -> dict:
    return json.loads(re.search(r'<script id="app-config" type="application/json">(.*?)</script>', page.text, re.S)
                      .group(1))


def ready(api: ApiClient, body: dict) -> dict:
    done = api.wait_final(api.create(body)["id"])
    assert done["status"] == "ready", done["steps"]
    return done


# --- app tokens ------------------------------------------------------------------------------------

def _tampered(token: str, **changes) -> str:
    """The token's payload changed (say, to another user or to an administrator), its signature kept."""
    serializer = URLSafeTimedSerializer("not-needed-to-read", salt=APP_TOKEN_SALT)
    _, claims = serializer.loads_unsafe(token)
    _, timestamp, signature = token.rsplit(".", 2)
    return f"{serializer.dump_payload({**claims, **changes}).decode()}.{timestamp}.{signature}"


@pytest.mark.parametrize("how", ["another key", "the Yandex state's salt", "the default salt", "tampered user",
                                 "tampered admin flag"])
def test_a_token_the_app_did_not_issue_for_this_purpose_is_refused(stack, anna, how):
    mine = anna.create({"name": "Anna's"})
    claims = {"p": portal_of(stack), "u": 2, "n": "Anna Smirnova", "a": True}
    token = {
        "another key": lambda: forged(stack, claims, key=secrets.token_urlsafe(32)).token,
        # The Yandex OAuth state is signed with the same key: it must not pass for an app token.
        "the Yandex state's salt": lambda: forged(stack, claims, salt="yandex-oauth-state").token,
        "the default salt": lambda: forged(stack, claims, salt="itsdangerous").token,
        "tampered user": lambda: _tampered(anna.token, u=1, n="Ivan Petrov"),
        "tampered admin flag": lambda: _tampered(anna.token, a=True),
    }[how]()
    intruder = ApiClient(stack.web_url, token)

    for method, path in [("GET", "/api/current-user"), ("GET", "/api/conferences?scope=all"),
                         ("GET", f"/api/conferences/{mine['id']}"), ("DELETE", f"/api/conferences/{mine['id']}")]:
        response = intruder.request(method, path)
        assert response.status_code == 401, (how, method, path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
    assert anna.get(mine["id"])["status"] not in ("cancelling", "cancelled")


def test_an_expired_token_is_refused_and_says_how_to_renew(stack):
    class HalfAnHourAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 1801  # TOKEN_TTL_SECONDS is 1800

    stale = forged(stack, {"p": portal_of(stack), "u": 2, "n": "Anna Smirnova", "a": False}, signer=HalfAnHourAgo)
    response = stale.request("GET", "/api/current-user")
    assert response.status_code == 401
    assert "POST /api/session" in response.json()["error"]["message"]


def test_the_yandex_login_popup_refuses_a_token_for_another_purpose(stack):
    state = forged(stack, {"p": portal_of(stack), "u": 2}, salt="yandex-oauth-state").token
    response = requests.get(f"{stack.web_url}/auth/yandex/login", params={"token": state}, allow_redirects=False)
    assert response.status_code == 401


# --- other people's conferences (IDOR) --------------------------------------------------------------

def _intruders(stack) -> dict[str, ApiClient]:
    return {
        "the portal's administrator": stack.login(1),
        "an invitee of the conference": stack.login(3),
        # A real signature (the key is the app's), another portal, the same user id as the owner.
        "the same user id on another portal": forged(stack, {"p": OTHER_PORTAL, "u": 2, "n": "Anna Elsewhere",
                                                             "a": True}),
    }


def _snapshot(stack, anna, conference_id: int) -> dict:
    bitrix = stack.bitrix_state()
    return {"conference": anna.get(conference_id), "rooms": stack.telemost_state()["conferences"],
            "events": bitrix["events"], "notifications": bitrix["notifications"]}


def test_no_route_that_takes_an_id_lets_anyone_else_read_or_change_a_conference(stack, anna):
    target = ready(anna, meeting(invitees=[3]))
    before = _snapshot(stack, anna, target["id"])
    body = {"name": "Taken over", "invitees": [1], "start_at": target["start_at"]}
    missing = anna.request("GET", "/api/conferences/2147483647").json()

    for who, intruder in _intruders(stack).items():
        for method, path, kwargs in [
            ("GET", f"/api/conferences/{target['id']}", {}),
            ("PUT", f"/api/conferences/{target['id']}", {"json": body}),
            ("PUT", f"/api/conferences/{target['id']}", {"json": {}}),  # a bad body: still a 404, not a 422
            ("DELETE", f"/api/conferences/{target['id']}", {}),
            ("POST", f"/api/conferences/{target['id']}/retry", {}),
        ]:
            response = intruder.request(method, path, **kwargs)
            assert response.status_code == 404, (who, method, path, response.text)
            assert response.json() == missing, "someone else's conference must look like one that does not exist"
        listed = intruder.request("GET", "/api/conferences?per_page=100").json()["items"]
        assert target["id"] not in [c["id"] for c in listed], who

    time.sleep(1.5)  # a sweep or two: any work an intruder had queued would show by now
    assert _snapshot(stack, anna, target["id"]) == before


def test_no_one_else_can_retry_a_failed_conference(stack, anna):
    stack.telemost_faults(error_rate=1.0, status=403)
    failed = anna.wait_final(anna.create({"name": "Failed on purpose"})["id"])
    assert failed["status"] == "failed"
    stack.telemost_faults()

    for who, intruder in _intruders(stack).items():
        assert intruder.request("POST", f"/api/conferences/{failed['id']}/retry").status_code == 404, who

    time.sleep(1.5)
    after = anna.get(failed["id"])
    assert after["status"] == "failed" and step(after, "create_room")["attempts"] == 1
    assert stack.telemost_state()["conferences"] == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_id_beyond_the_database_range_is_a_404_whatever_the_method(anna, method):
    # Werkzeug answered 405 for PUT and DELETE here (a GET rule for the same path came first).
    response = anna.request(method, "/api/conferences/2147483648", json={"name": "x"})
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


def test_an_idempotency_key_never_answers_with_another_portals_conference(stack, anna):
    key = {"Idempotency-Key": f"team-sync-{secrets.token_hex(4)}"}
    mine = anna.request("POST", "/api/conferences", json={"name": "Mine"}, headers=key)
    stranger = forged(stack, {"p": OTHER_PORTAL, "u": 2, "n": "Anna Elsewhere", "a": False})
    theirs = stranger.request("POST", "/api/conferences", json={"name": "Theirs"}, headers=key)

    assert (mine.status_code, theirs.status_code) == (202, 202)
    assert theirs.json()["id"] != mine.json()["id"] and theirs.json()["name"] == "Theirs"
    again = anna.request("POST", "/api/conferences", json={"name": "Mine"}, headers=key)
    assert (again.status_code, again.json()["id"]) == (200, mine.json()["id"])


# --- launch fields ---------------------------------------------------------------------------------

def test_a_refresh_token_is_not_an_auth_id(stack):
    launch = stack.launch(2)
    session = requests.post(f"{stack.web_url}/api/session", json={
        "auth_id": launch["form"]["REFRESH_ID"], "domain": launch["query"]["DOMAIN"],
        "member_id": launch["form"]["member_id"]})
    assert session.status_code == 401
    page = stack.open_app(2, form={"AUTH_ID": launch["form"]["REFRESH_ID"]})
    assert page.status_code == 401 and "app-config" not in page.text


def test_the_portal_says_who_the_user_is_whatever_the_other_fields_claim(stack):
    sergey = stack.launch(3)["form"]
    page = stack.open_app(2, form={"AUTH_ID": sergey["AUTH_ID"], "REFRESH_ID": sergey["REFRESH_ID"]})
    assert page.status_code == 200
    assert app_config(page)["user"]["id"] == 3 and "Anna Smirnova" not in page.text


def test_a_domain_in_the_form_that_differs_from_the_portals_is_refused(stack):
    page = stack.open_app(2, form={"DOMAIN": "evil.bitrix24.ru"})  # the form is read before the query string
    assert page.status_code == 401 and "app-config" not in page.text


@pytest.mark.parametrize("expires", ["²", "9" * 1000, "-5", "3600.5"])
def test_a_launch_with_a_strange_auth_expires_never_answers_500(stack, expires):
    # '²' passes str.isdigit() and breaks int(); a thousand digits overflowed the token's expiry date.
    page = stack.open_app(2, form={"AUTH_EXPIRES": expires})
    assert page.status_code == 200, page.text[:300]
    forged_launch = requests.post(stack.web_url + "/", params={"DOMAIN": "x.bitrix24.ru"},
                                  data={"AUTH_ID": "x", "member_id": "y", "AUTH_EXPIRES": expires})
    assert forged_launch.status_code == 401


# --- Bitrix24 events ---------------------------------------------------------------------------------

@pytest.mark.parametrize("ts", ["²", "9" * 5000, "4294967296", "-1", "1e3", ""])
@pytest.mark.parametrize("event", ["ONAPPINSTALL", "ONAPPUNINSTALL", "ONCALENDARENTRYDELETE"])
def test_an_event_whose_ts_is_not_a_time_is_a_400(stack, event, ts):
    launch = stack.launch(1)
    response = post_event(stack, {"event": event, "ts": ts, "auth[member_id]": launch["form"]["member_id"],
                                  "auth[application_token]": launch["form"]["APPLICATION_TOKEN"]})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("expires", ["²", "9" * 5000])
def test_an_install_event_with_a_strange_expires_in_is_refused_not_a_500(stack, expires):
    assert post_event(stack, install_event(stack, access_token="forged", expires_in=expires)).status_code == 401


@pytest.mark.parametrize("event_id", ["²", "9" * 30, "-1", "1; DROP TABLE conferences"])
def test_a_genuine_calendar_event_with_a_strange_id_changes_nothing(stack, anna, event_id):
    target = ready(anna, meeting(invitees=[]))
    launch = stack.launch(1)
    response = post_event(stack, {"event": "ONCALENDARENTRYDELETE", "ts": str(int(time.time())),
                                  "data[id]": event_id, "auth[member_id]": launch["form"]["member_id"],
                                  "auth[application_token]": launch["form"]["APPLICATION_TOKEN"]})
    assert response.status_code == 200, response.text
    assert anna.get(target["id"])["status"] == "ready"


@pytest.mark.parametrize("who", ["a wrong application token", "another portal's member_id", "no auth at all"])
def test_a_forged_calendar_delete_does_not_cancel_a_conference(stack, anna, who):
    target = ready(anna, meeting(invitees=[3]))
    launch = stack.launch(1)
    auth = {"auth[member_id]": launch["form"]["member_id"],
            "auth[application_token]": launch["form"]["APPLICATION_TOKEN"]}
    auth = {"a wrong application token": {**auth, "auth[application_token]": "guessed"},
            "another portal's member_id": {**auth, "auth[member_id]": OTHER_PORTAL},
            "no auth at all": {}}[who]
    response = post_event(stack, {"event": "ONCALENDARENTRYDELETE", "ts": str(int(time.time())),
                                  "data[id]": str(target["calendar_event_id"]), **auth})
    assert response.status_code == 401
    time.sleep(1)
    assert anna.get(target["id"])["status"] == "ready"
    assert [e["id"] for e in stack.bitrix_state()["events"]] == [target["calendar_event_id"]]


def test_an_install_event_older_than_the_last_one_accepted_is_refused(stack):
    now = int(time.time())
    assert post_event(stack, {**install_event(stack), "ts": str(now)}).status_code == 200
    # A genuine but older event (delayed, or captured and sent again) must not roll the tokens back.
    assert post_event(stack, {**install_event(stack), "ts": str(now - 60)}).status_code == 401


def test_an_old_uninstall_replayed_after_a_reinstall_is_refused(stack, anna):
    launch = stack.launch(1)
    uninstall = {"event": "ONAPPUNINSTALL", "data[CLEAN]": "0", "auth[member_id]": launch["form"]["member_id"],
                 "auth[domain]": launch["query"]["DOMAIN"],
                 "auth[application_token]": launch["form"]["APPLICATION_TOKEN"]}
    assert post_event(stack, {**install_event(stack), "ts": str(int(time.time()))}).status_code == 200

    # An uninstall from before that install (captured on the way, sent again) must not remove the app.
    assert post_event(stack, {**uninstall, "ts": str(int(time.time()) - 3600)}).status_code == 401
    assert anna.request("GET", "/api/current-user").status_code == 200
    # Nor may one with the right token but another portal's member_id.
    assert post_event(stack, {**uninstall, "auth[member_id]": OTHER_PORTAL,
                              "ts": str(int(time.time()) + 1)}).status_code == 401
    assert anna.request("GET", "/api/current-user").status_code == 200
