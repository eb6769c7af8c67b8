"""Whose Yandex token acts on a room, and when a connected account is refreshed, refused or unusable.

No stack: SQLite in tmp_path, a dict standing in for Redis (the lock and the connect flow's store are the
`locks` argument), and a fake OAuth put where YandexAccounts keeps its client (`.oauth`).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select

from shared.clients.errors import PermanentError
from shared.clients.telemost import TelemostClient
from shared.config import load_settings
from shared.crypto import TokenBox
from shared.db import Database
from shared.models import Base, Conference, YandexAccount, utcnow
from shared.yandex import room_organiser
from shared.yandex.accounts import (APP_REFUSED_CODE, STALE, OTHER_BROWSER, AccountTelemostClient, ConnectFlow,
                                    ConnectRefused, YandexAccounts)

SECRET = "a-secret-key-long-enough"
ORG_TOKEN = "y0_organisation_token"
PORTAL = "acme.bitrix24.ru"


class FakeRedis:
    """The few Redis calls YandexAccounts makes: set with a TTL, a take-once script, and a lock."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.locked: list[str] = []

    def register_script(self, script):
        def take_once(keys):
            return self.values.pop(keys[0], None)
        return take_once

    def set(self, key, value, ex=None):
        self.values[key] = value

    @contextmanager
    def lock(self, name, timeout=None, blocking_timeout=None):
        self.locked.append(name)
        yield


class FakeOAuth:
    """Yandex OAuth at the seam: refresh answers the next pair, or raises the error it was given."""

    def __init__(self, refresh_answer=None, email="anna@yandex.ru") -> None:
        self.refresh_answer, self.email, self.refreshed = refresh_answer, email, []

    def authorize_url(self, state, verifier):
        return f"https://oauth.example/authorize?state={state}"

    def exchange(self, code, verifier):
        return {"access_token": f"access-{code}", "refresh_token": f"refresh-{code}", "expires_in": 31536000}

    def info(self, access_token):
        return {"default_email": self.email}

    def refresh(self, refresh_token):
        self.refreshed.append(refresh_token)
        if isinstance(self.refresh_answer, Exception):
            raise self.refresh_answer
        return self.refresh_answer


class FakeResponse:
    def __init__(self, status: int, body: dict | None = None) -> None:
        self.status_code, self._body = status, body or {}
        self.content, self.reason, self.headers = b"{}", "", {}

    def json(self):
        return self._body


class FakeHttp:
    """Telemost at the seam: answers in turn, and keeps the token each call carried."""

    def __init__(self, *responses: FakeResponse) -> None:
        self.responses, self.tokens = list(responses), []

    def request(self, method, url, headers=None, **kwargs):
        self.tokens.append(headers["Authorization"])
        return self.responses.pop(0)


def make_settings(organisation_token: str | None = ORG_TOKEN):
    env = {"SECRET_KEY": SECRET, "SANDBOX": "off", "BITRIX24_WEBHOOK_URL": "https://acme.bitrix24.ru/rest/1/abc/",
           "YANDEX_CLIENT_ID": "client", "YANDEX_CLIENT_SECRET": "secret",
           "YANDEX_REDIRECT_URI": "https://app.example/auth/yandex/callback"}
    if organisation_token:
        env["YANDEX_OAUTH_TOKEN"] = organisation_token
    return load_settings(env, env_file=None)


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def accounts_for(db, oauth=None, organisation_token=ORG_TOKEN, http=None) -> YandexAccounts:
    accounts = YandexAccounts(make_settings(organisation_token), db, TokenBox(SECRET), FakeRedis(), http or FakeHttp())
    accounts.oauth = oauth or FakeOAuth()
    return accounts


def add_account(db, user_id=7, email="Anna@Yandex.ru", expires_in=timedelta(days=300), usable=True,
                refresh="refresh-1", access="access-1") -> int:
    box = TokenBox(SECRET)
    with db.write() as session:
        account = YandexAccount(portal=PORTAL, user_id=user_id, email=email, access_token=box.seal(access),
                                refresh_token=box.seal(refresh) if refresh else None, usable=usable,
                                token_issued_at=utcnow(), expires_at=utcnow() + expires_in)
        session.add(account)
        session.flush()
        return account.id


def conference(owner_id=7, telemost_id=None, organiser=None, cancel_requested=False) -> Conference:
    return Conference(portal=PORTAL, owner_id=owner_id, telemost_id=telemost_id, room_organiser=organiser,
                      cancel_requested=cancel_requested)


def stored(db, account_id) -> YandexAccount:
    with db.read() as session:
        return session.get(YandexAccount, account_id)


# --- whose token a conference gets ---------------------------------------------------------------------

def test_a_new_room_of_an_owner_with_an_account_is_made_as_that_account_named_by_its_casefolded_address(db):
    account_id = add_account(db, email="Anna@Yandex.ru")
    client = accounts_for(db).telemost_for(conference())
    assert isinstance(client, AccountTelemostClient)
    assert (client.account_id, client.organiser) == (account_id, "account:anna@yandex.ru")


def test_a_new_room_of_an_owner_without_an_account_is_made_with_the_organisation_token_or_refused(db):
    add_account(db, user_id=99)  # someone else's account is not the owner's
    client = accounts_for(db).telemost_for(conference(owner_id=7))
    assert type(client) is TelemostClient
    assert client.token == ORG_TOKEN
    assert client.organiser == room_organiser.of_organisation_token(ORG_TOKEN)
    assert client.organiser.startswith("organisation:") and ORG_TOKEN not in client.organiser
    with pytest.raises(PermanentError) as error:  # and with no organisation token either, nothing to make it with
        accounts_for(db, organisation_token=None).telemost_for(conference(owner_id=7))
    assert "YANDEX_OAUTH_TOKEN" in error.value.message and error.value.code is None


def test_a_made_room_stays_with_its_organisation_organiser_though_the_owner_connected_an_account_since(db):
    add_account(db, email="anna@yandex.ru")
    made = conference(telemost_id="room-1", organiser=room_organiser.of_organisation_token("an-older-token"))
    client = accounts_for(db).telemost_for(made)
    assert type(client) is TelemostClient and client.token == ORG_TOKEN
    # The client is named after the token set now, so a changed token no longer counts as the organiser.
    assert room_organiser.asked_as_organiser(made, client.organiser) is False


def test_a_room_made_as_an_account_needs_that_very_account_connected_again(db):
    add_account(db, email="other@yandex.ru")
    made = conference(telemost_id="room-1", organiser=room_organiser.of_account("Anna@Yandex.ru"))
    with pytest.raises(PermanentError) as error:
        accounts_for(db).telemost_for(made)
    assert error.value.code == room_organiser.RECONNECT_CODE and "anna@yandex.ru" in error.value.message
    # the same address in another case is the same account, and keeps the recorded organiser
    account_id = add_account(db, user_id=8, email="ANNA@yandex.ru")
    client = accounts_for(db).telemost_for(conference(owner_id=8, telemost_id="room-1",
                                                      organiser="account:anna@yandex.ru"))
    assert (client.account_id, client.organiser) == (account_id, "account:anna@yandex.ru")


def test_a_room_made_with_the_organisation_token_is_refused_once_no_such_token_is_set(db):
    made = conference(telemost_id="room-1", organiser=room_organiser.of_organisation_token(ORG_TOKEN))
    with pytest.raises(PermanentError) as error:
        accounts_for(db, organisation_token=None).telemost_for(made)
    assert error.value.message == room_organiser.missing_organisation_token().message


def test_an_account_marked_unusable_is_never_swapped_for_the_organisation_token(db):
    add_account(db, usable=False, email="anna@yandex.ru")
    accounts = accounts_for(db)
    with pytest.raises(PermanentError) as error:
        accounts.telemost_for(conference())
    assert error.value.code == room_organiser.RECONNECT_CODE and " anna@yandex.ru " in error.value.message
    assert accounts.status(PORTAL, 7) == {"connected": True, "email": "anna@yandex.ru", "needs_reconnect": True}


# --- room_organiser's rules ---------------------------------------------------------------------------

def test_only_an_account_organiser_has_an_address_and_only_the_organisers_404_means_the_room_is_gone():
    assert room_organiser.account_email("account:anna@yandex.ru") == "anna@yandex.ru"
    assert room_organiser.account_email(room_organiser.of_organisation_token("t")) is None
    assert room_organiser.account_email(None) is None
    assert room_organiser.of_account(None) == "account:"

    not_found = PermanentError("Telemost", "gone", code="ConferenceNotFound", status=404)
    cancelled = conference(telemost_id="r", organiser="account:anna@yandex.ru", cancel_requested=True)
    assert room_organiser.room_is_gone(cancelled, "account:anna@yandex.ru", not_found) is True
    assert room_organiser.room_is_gone(cancelled, "account:bob@yandex.ru", not_found) is False
    assert room_organiser.room_is_gone(conference(telemost_id="r", organiser=None, cancel_requested=True),
                                       None, not_found) is False  # unknown organiser: never taken for closed
    assert room_organiser.room_is_gone(conference(telemost_id="r", organiser="account:anna@yandex.ru"),
                                       "account:anna@yandex.ru", not_found) is False  # not a cancel


def test_a_403_or_404_to_someone_not_the_organiser_is_explained_and_the_rest_pass_unchanged():
    room = conference(telemost_id="room-42", organiser="account:anna@yandex.ru")
    forbidden = PermanentError("Telemost", "raw", code="Forbidden", status=403)
    explained = room_organiser.explain_refusal(room, "organisation:abc", forbidden)
    assert explained is not forbidden
    assert (explained.code, explained.status) == ("Forbidden", 403) and "room-42" in explained.message
    assert room_organiser.explain_refusal(room, "account:anna@yandex.ru", forbidden) is forbidden
    server = PermanentError("Telemost", "raw", status=400)
    assert room_organiser.explain_refusal(room, "organisation:abc", server) is server
    cohosts = PermanentError("Telemost", "raw", status=404, subjects=["x@yandex.ru"])
    assert room_organiser.explain_refusal(room, "organisation:abc", cohosts) is cohosts


# --- refresh and refusals -----------------------------------------------------------------------------

def test_a_token_is_refreshed_under_the_lock_only_when_about_to_expire_or_refused(db):
    oauth = FakeOAuth({"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 3600})
    accounts = accounts_for(db, oauth)
    fresh = add_account(db, user_id=1, expires_in=timedelta(days=300))
    assert accounts.token(fresh) == "access-1" and oauth.refreshed == []

    expiring = add_account(db, user_id=2, expires_in=timedelta(seconds=30))  # within REFRESH_AHEAD (60 s)
    assert accounts.token(expiring) == "access-2"
    assert oauth.refreshed == ["refresh-1"] and accounts.locks.locked == [f"lock:yandex-refresh:{expiring}"]
    box, saved = TokenBox(SECRET), stored(db, expiring)
    assert (box.open(saved.access_token), box.open(saved.refresh_token)) == ("access-2", "refresh-2")
    assert timedelta(minutes=59) < saved.expires_at - utcnow() <= timedelta(hours=1)

    # a token Telemost refused (`seen`) is refreshed though it has not expired
    assert accounts.token(fresh, seen="access-1") == "access-2" and oauth.refreshed == ["refresh-1", "refresh-1"]


def test_invalid_grant_marks_the_account_for_reconnecting(db):
    account_id = add_account(db, email="anna@yandex.ru", expires_in=timedelta(seconds=1))
    refused = PermanentError("Yandex", "Yandex refused (invalid_grant): expired", code="invalid_grant", status=400)
    with pytest.raises(PermanentError) as error:
        accounts_for(db, FakeOAuth(refused)).token(account_id)
    assert error.value.code == room_organiser.RECONNECT_CODE and "anna@yandex.ru" in error.value.message
    assert stored(db, account_id).usable is False


@pytest.mark.parametrize("code, says", [("invalid_client", "YANDEX_CLIENT_ID"), ("unauthorized_client", "YANDEX_CLIENT_ID"),
                                        ("invalid_request", "tries again later")])
def test_other_refusals_blame_the_app_and_leave_the_account_connected(db, code, says):
    account_id = add_account(db, expires_in=timedelta(seconds=1))
    refused = PermanentError("Yandex", f"Yandex refused ({code}): no.", code=code, status=400)
    with pytest.raises(PermanentError) as error:
        accounts_for(db, FakeOAuth(refused)).token(account_id)
    assert error.value.code == APP_REFUSED_CODE and says in error.value.message
    assert f"({code}): no)" in error.value.message  # the trailing full stop is dropped inside the brackets
    assert stored(db, account_id).usable is True


def test_an_expiring_account_without_a_refresh_token_is_marked_for_reconnecting(db):
    oauth = FakeOAuth()
    account_id = add_account(db, refresh=None, expires_in=timedelta(seconds=1))
    with pytest.raises(PermanentError) as error:
        accounts_for(db, oauth).token(account_id)
    assert error.value.code == room_organiser.RECONNECT_CODE
    assert stored(db, account_id).usable is False and oauth.refreshed == []


def test_beat_renews_only_due_usable_accounts_and_counts_them(db):
    oauth = FakeOAuth({"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 31536000})
    accounts = accounts_for(db, oauth)
    due = add_account(db, user_id=1, refresh="refresh-due")
    add_account(db, user_id=2, refresh="refresh-fresh")
    add_account(db, user_id=3, refresh="refresh-unusable", usable=False)
    with db.write() as session:
        for account in session.scalars(select(YandexAccount).where(YandexAccount.user_id.in_([1, 3]))):
            account.token_issued_at = utcnow() - timedelta(days=91)
    assert accounts.refresh_ahead() == 1
    assert oauth.refreshed == ["refresh-due"]
    assert stored(db, due).token_issued_at > utcnow() - timedelta(minutes=1)


def test_a_second_401_after_a_refresh_marks_the_account_unusable(db):
    oauth = FakeOAuth({"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 3600})
    http = FakeHttp(FakeResponse(401), FakeResponse(401))
    accounts = accounts_for(db, oauth, http=http)
    account_id = add_account(db)
    with pytest.raises(PermanentError) as error:
        AccountTelemostClient(accounts, account_id, "account:anna@yandex.ru").clear_cohosts("room-1")
    assert (error.value.code, error.value.status) == (room_organiser.RECONNECT_CODE, 401)
    assert http.tokens == ["OAuth access-1", "OAuth access-2"]
    assert stored(db, account_id).usable is False


# --- connect flow -------------------------------------------------------------------------------------

def test_a_sign_in_finishes_once_and_only_in_the_browser_that_started_it(db):
    accounts = accounts_for(db)
    url, browser = accounts.start_connect(PORTAL, 7, replace=False)
    state = url.split("state=", 1)[1]
    with pytest.raises(ConnectRefused) as other:
        accounts.finish_connect(state, "another-browser-secret")
    assert other.value.message == OTHER_BROWSER
    with pytest.raises(ConnectRefused) as used:  # the wrong browser already took it
        accounts.finish_connect(state, browser)
    assert used.value.message == STALE

    url, browser = accounts.start_connect(PORTAL, 7, replace=True)
    state = url.split("state=", 1)[1]
    flow = accounts.finish_connect(state, browser)
    assert (flow.portal, flow.user_id, flow.replace, len(flow.code_verifier)) == (PORTAL, 7, True, 86)
    with pytest.raises(ConnectRefused) as again:
        accounts.finish_connect(state, browser)
    assert again.value.message == STALE
    with pytest.raises(ConnectRefused) as long_state:
        accounts.finish_connect("x" * 129, browser)
    assert long_state.value.message == STALE


def test_another_account_replaces_the_connected_one_only_with_consent(db):
    account_id = add_account(db, email="anna@yandex.ru", usable=False)
    accounts = accounts_for(db, FakeOAuth(email="bob@yandex.ru"))
    with pytest.raises(ConnectRefused) as refused:
        accounts.connect(ConnectFlow(PORTAL, 7, "verifier", replace=False), "code-1")
    assert (refused.value.status, refused.value.replace) == (409, True)
    assert stored(db, account_id).email == "anna@yandex.ru"

    assert accounts.connect(ConnectFlow(PORTAL, 7, "verifier", replace=True), "code-2") == "bob@yandex.ru"
    saved = stored(db, account_id)
    assert (saved.email, saved.usable, TokenBox(SECRET).open(saved.access_token)) == ("bob@yandex.ru", True,
                                                                                       "access-code-2")
