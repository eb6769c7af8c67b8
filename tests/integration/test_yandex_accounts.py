"""A user's own Yandex account: connect, use, expiry, revocation and reconnecting (issue: identity)."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import redis
import requests
from sqlalchemy import select, update

from shared.models import YandexAccount, utcnow

from .test_pipeline import step

ANNA_YANDEX = "anna.smirnova@example.com"


def start(stack, api, replace: bool = False) -> tuple[requests.Session, str]:
    """The popup opens the app's login route: a browser that now holds the flow's cookie, and the
    Yandex URL it is sent to. `replace` is the consent the app asks for before replacing an account."""
    browser = requests.Session()
    params = {"token": api.token, **({"replace": "1"} if replace else {})}
    to_yandex = browser.get(f"{stack.web_url}/auth/yandex/login", params=params, allow_redirects=False)
    assert to_yandex.status_code == 302, to_yandex.text
    return browser, to_yandex.headers["Location"]


def sign_in_at_yandex(authorize_url: str, email: str) -> str:
    """Yandex's consent as `email` (auto in the sandbox): the callback URL Yandex sends the browser to."""
    consent = requests.get(authorize_url, params={"login_hint": email, "sandbox_auto": 1}, allow_redirects=False)
    assert consent.status_code == 302, consent.text
    return consent.headers["Location"]


def connect(stack, api, email: str = ANNA_YANDEX, replace: bool = False) -> requests.Response:
    """The popup's journey: the app's login route, Yandex's consent, the callback, in one browser."""
    browser, authorize_url = start(stack, api, replace)
    return browser.get(sign_in_at_yandex(authorize_url, email), allow_redirects=False)


def oauth_control(stack, action: str, **body) -> None:
    requests.post(f"{stack.telemost_url}/_sandbox/oauth/{action}", json=body).raise_for_status()


def test_a_connected_account_is_the_organiser_of_the_users_rooms(stack, anna):
    page = connect(stack, anna)
    assert page.status_code == 200 and ANNA_YANDEX in page.text
    assert anna.request("GET", "/api/yandex/account").json() == {"connected": True, "email": ANNA_YANDEX,
                                                                  "needs_reconnect": False}
    done = anna.wait_final(anna.create({"name": "Mine"})["id"])

    assert done["status"] == "ready"
    assert stack.telemost_state()["conferences"][0]["owner_token"] == f"oauth:{ANNA_YANDEX}"


def test_without_an_account_rooms_are_made_with_the_organisation_token(stack, ivan):
    done = ivan.wait_final(ivan.create({"name": "Org"})["id"])
    assert stack.telemost_state()["conferences"][0]["owner_token"] == "sandbox-org-token"
    assert done["status"] == "ready"


def accounts(stack, database, **overrides):
    """The app's YandexAccounts as beat's job builds them, on the stack's database, Redis and emulators,
    with `overrides` of their Settings (the sandbox fixes the Yandex client's whatever the environment says)."""
    from shared.config import load_settings
    from shared.crypto import TokenBox
    from shared.yandex.accounts import YandexAccounts
    settings = dataclasses.replace(load_settings(stack.env, env_file=None), **overrides)
    return YandexAccounts(settings, database, TokenBox(settings.secret_key), redis.Redis(port=stack.redis_port),
                          requests.Session())


def age_the_pair(database, days: int) -> None:
    """The stored pair was issued `days` ago (its expiry stays what Yandex said)."""
    with database.write() as session:
        session.execute(update(YandexAccount).values(token_issued_at=utcnow() - timedelta(days=days)))


def stored_access_token(database) -> str:
    with database.read() as session:
        return session.scalars(select(YandexAccount.access_token)).one()


def test_beat_refreshes_a_pair_well_before_it_dies(stack, anna, database):
    """A refresh token lives exactly as long as its access token ("Время жизни токенов совпадает"), and
    Yandex recommends refreshing long-lived tokens every three months (yandex.ru/dev/id/doc/ru/tokens/
    refresh-client): beat renews a pair two thirds through its life, or at three months."""
    connect(stack, anna)
    jobs = accounts(stack, database)
    assert jobs.refresh_ahead() == 0  # a young pair is left alone
    age_the_pair(database, days=91)
    before = stored_access_token(database)

    assert jobs.refresh_ahead() == 1
    assert jobs.refresh_ahead() == 0  # young again
    assert stored_access_token(database) != before
    assert anna.wait_final(anna.create({"name": "Renewed"})["id"])["status"] == "ready"


def test_a_pair_that_already_died_asks_the_user_to_reconnect(stack, anna, database):
    """The emulator's expire ends the access and the refresh token at once, as Yandex's pairs end: no
    refresh brings it back, and the app says so before and when a room needs it."""
    connect(stack, anna)
    oauth_control(stack, "expire", email=ANNA_YANDEX)
    age_the_pair(database, days=400)

    assert accounts(stack, database).refresh_ahead() == 0
    assert anna.request("GET", "/api/yandex/account").json()["needs_reconnect"] is True
    failed = anna.wait_final(anna.create({"name": "After expiry"})["id"])
    assert failed["status"] == "failed"
    error = step(failed, "create_room")
    assert f"your connected account {ANNA_YANDEX}" in error["error"] and "reconnect your Yandex account" in error["error"]
    assert error["error_code"] == "yandex_reconnect"


def test_a_revoked_account_fails_the_step_saying_to_reconnect_and_reconnecting_fixes_it(stack, anna):
    connect(stack, anna)
    oauth_control(stack, "revoke", email=ANNA_YANDEX)

    failed = anna.wait_final(anna.create({"name": "Revoked"})["id"])
    assert failed["status"] == "failed"
    assert "reconnect your Yandex account" in step(failed, "create_room")["error"]
    assert anna.request("GET", "/api/yandex/account").json()["needs_reconnect"] is True

    assert connect(stack, anna).status_code == 200
    assert anna.request("POST", f"/api/conferences/{failed['id']}/retry").status_code == 202
    assert anna.wait_final(failed["id"])["status"] == "ready"


def test_disconnect_goes_back_to_the_organisation_token(stack, anna):
    connect(stack, anna)
    assert anna.request("DELETE", "/api/yandex/account").status_code == 204
    assert anna.request("GET", "/api/yandex/account").json()["connected"] is False
    anna.wait_final(anna.create({"name": "Org again"})["id"])
    assert stack.telemost_state()["conferences"][0]["owner_token"] == "sandbox-org-token"


def test_a_callback_with_a_forged_or_stale_state_connects_nothing(stack, anna):
    page = requests.get(f"{stack.web_url}/auth/yandex/callback", params={"code": "1234567", "state": "forged"})
    assert page.status_code == 400
    assert anna.request("GET", "/api/yandex/account").json()["connected"] is False


def test_the_login_route_needs_a_valid_app_token(stack):
    assert requests.get(f"{stack.web_url}/auth/yandex/login", params={"token": "nope"},
                        allow_redirects=False).status_code == 401


def test_a_personal_account_makes_public_meetings_and_is_told_what_needs_an_organisation(stack, anna):
    """yandex.com/dev/telemost/doc/ru/conferences/conference-create.md: a personal Yandex ID makes an
    ordinary public meeting; broadcasts and organisation-only access depend on the user's rights (the
    emulator refuses them to a personal account with ApiRestrictedToOrganizations)."""
    connect(stack, anna, "personal.user@yandex.ru", replace=True)
    public = anna.wait_final(anna.create({"name": "Open", "waiting_room_level": "PUBLIC"})["id"])
    assert public["status"] == "ready"

    closed = anna.wait_final(anna.create({"name": "Staff only", "waiting_room_level": "ORGANIZATION"})["id"])
    error = step(closed, "create_room")["error"]
    assert "personal Yandex account makes ordinary public meetings only" in error
    assert "Yandex 360 for Business account" in error


def test_a_cancel_on_a_personal_account_goes_ahead_though_the_room_cannot_be_locked(stack, anna):
    """A personal account makes public meetings only (yandex.com/dev/telemost/doc/ru/conferences/
    conference-create.md), and a cancel's only way to close a room is an admins-only waiting room, which the
    emulator refuses it (ApiRestrictedToOrganizations). Whether real Telemost lets a personal account set
    that is UNVERIFIED: either way the calendar event goes and the invitees hear of the cancel, and the
    room's step says its link still works."""
    from .test_edit_cancel import notifications
    from .test_pipeline import meeting

    connect(stack, anna, "personal.user@yandex.ru", replace=True)
    made = anna.wait_final(anna.create(meeting(invitees=[3], waiting_room_level="PUBLIC"))["id"])
    assert made["status"] == "ready" and made["calendar_event_id"] is not None, made["steps"]

    assert anna.request("DELETE", f"/api/conferences/{made['id']}").status_code == 202
    after = anna.wait_final(made["id"])
    assert after["calendar_event_id"] is None and stack.bitrix_state()["events"] == []
    assert "cancelled" in notifications(stack)[3]
    assert "link still works" in (step(after, "create_room")["error"] or "")
    assert stack.telemost_state()["conferences"][0]["waiting_room_level"] == "PUBLIC"
