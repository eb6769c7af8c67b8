"""Users' own Yandex accounts: connect, refresh, disconnect, and whose token acts on a room.

A user who connected an account is the organiser of their new rooms; everyone else's rooms are made with
the organisation token (YANDEX_OAUTH_TOKEN). A room made is changed with its organiser's token only
(room_organiser.py), whatever the owner connected since. A connected account that Yandex stops accepting
is never silently swapped for the organisation token: the step fails and says to reconnect, or, when
Yandex refuses the app's own client credentials rather than the user's grant, that the app must be fixed.

A refresh token dies with its access token ("Время жизни токенов совпадает", about a year), and Yandex
recommends refreshing long-lived tokens every three months (yandex.ru/dev/id/doc/ru/tokens/refresh-client):
beat renews each pair ahead of that (`refresh_ahead`), so nobody is asked to reconnect once a year.

Connecting is one sign-in at Yandex that the app starts and finishes (§5): the `state` Yandex carries is
a random nonce kept in Redis with who asked, the PKCE verifier and a digest of a secret the starting
browser holds in a cookie; it is taken once, atomically. A different account than the one connected
replaces it only with the user's consent, given when the sign-in started.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import redis
import requests
from sqlalchemy import delete, select

from shared.clients.errors import OutsideServiceError, PermanentError
from shared.clients.telemost import TelemostClient
from shared.clients.yandex_oauth import YandexOAuth
from shared.config import Settings
from shared.crypto import TokenBox
from shared.db import Database
from shared.models import Conference, YandexAccount, utcnow
from shared.yandex import room_organiser
from shared.yandex.employee_tokens import EmployeeTokens
from shared.yandex.room_organiser import ORGANISATION_USER as ORGANISATION
from shared.yandex.room_organiser import same_account
from shared.yandex.room_tokens import RoomTokens

RECONNECT = (
    "Yandex no longer accepts your connected account{account} (its authorisation ran out or was revoked): "
    "reconnect your Yandex account in the app, then retry."
)
APP_CREDENTIALS_REFUSED = (
    "Yandex refused the app's own Yandex credentials (YANDEX_CLIENT_ID / YANDEX_CLIENT_SECRET) "
    "while renewing the connected account's token ({error}). Your account stays connected; "
    "the app's administrator must fix the app's Yandex settings, then retry."
)
RENEWAL_REFUSED = (
    "Yandex refused to renew the connected account's token ({error}). Your account stays connected "
    "and the app tries again later; if this goes on, tell the app's administrator."
)
APP_REFUSED_CODE = "yandex_app_refused"  # the step's error_code: the operator, not the user, must act
GRANT_GONE = "invalid_grant"  # the only refresh refusal that means the user must connect again
APP_REFUSED = frozenset({"invalid_client", "unauthorized_client"})
REFRESH_AHEAD = timedelta(seconds=60)
# Beat renews a pair once it is this old, or two thirds through its life if that comes first.
REFRESH_EVERY = timedelta(days=90)
LOCK_SECONDS = 30
CONNECT_TTL_SECONDS = 600  # as long as Yandex's code lives (yandex.ru/dev/id/doc/ru/codes/code-url)
MAX_STATE_CHARS = 128
# GET and DEL in one step (GETDEL needs Redis 6.2): two callbacks with one state cannot both take it.
_TAKE_ONCE = (
    "local value = redis.call('GET', KEYS[1]) if value then redis.call('DEL', KEYS[1]) end return value"
)
STALE = "This sign-in has expired, was already used, or did not start here. Start again from the app."
OTHER_BROWSER = (
    "This sign-in was started in another browser or window, so it was not finished here. "
    "Start again from the app in this browser."
)
STORE_DOWN = "The app cannot keep track of the sign-in right now. Try again in a minute."
log = logging.getLogger(__name__)


class ConnectRefused(Exception):
    """A sign-in the app will not finish, and nothing stored: `message` is for the person."""

    def __init__(self, message: str, status: int = 400, replace: bool = False) -> None:
        super().__init__(message)
        self.message, self.status = message, status
        self.replace = replace  # the refusal is a replacement the user may consent to


@dataclass(frozen=True)
class ConnectFlow:
    """A sign-in started by (portal, user_id), as the callback finds it."""

    portal: str
    user_id: int
    code_verifier: str
    replace: bool
    by: tuple[int, str] | None = None  # (user id, name) of the administrator connecting the organisation


class YandexAccounts:
    def __init__(
        self, settings: Settings, db: Database, box: TokenBox, locks: redis.Redis, http: requests.Session
    ) -> None:
        self.settings, self.db, self.box, self.locks, self.http = settings, db, box, locks, http
        self._take_once = locks.register_script(_TAKE_ONCE)
        self.rooms = RoomTokens(self, EmployeeTokens(settings, db, box, locks, http))
        self.oauth = (
            YandexOAuth(
                settings.yandex_oauth_url,
                settings.yandex_login_url,
                settings.yandex_client_id,
                settings.yandex_client_secret or "",
                settings.yandex_redirect_uri or "",
                settings.http_timeout_seconds,
                http,
            )
            if settings.yandex_client_id
            else None
        )

    def _find(self, session, portal: str, user_id: int) -> YandexAccount | None:
        return session.scalars(
            select(YandexAccount).where(YandexAccount.portal == portal, YandexAccount.user_id == user_id)
        ).one_or_none()

    def start_connect(
        self, portal: str, user_id: int, replace: bool, by: tuple[int, str] | None = None
    ) -> tuple[str, str]:
        """A new sign-in: the Yandex URL to send the browser to, and the secret that browser must keep."""
        state, browser_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters of RFC 7636 §4.1's alphabet (43 to 128)
        flow = {
            "portal": portal,
            "user_id": user_id,
            "code_verifier": verifier,
            "replace": replace,
            "browser": _digest(browser_secret),
            "by": list(by) if by else None,  # who connects the organisation, for the settings' history
        }
        try:
            self.locks.set(_flow_key(state), json.dumps(flow), ex=CONNECT_TTL_SECONDS)
        except redis.RedisError:
            raise ConnectRefused(STORE_DOWN, 503) from None
        assert self.oauth is not None  # the web layer offers connecting only when it is set up
        return self.oauth.authorize_url(state, verifier), browser_secret

    def finish_connect(self, state: str, browser_secret: str | None) -> ConnectFlow:
        """The sign-in `state` names, taken once whatever follows, and only in the browser that started it."""
        if not state or len(state) > MAX_STATE_CHARS:
            raise ConnectRefused(STALE)
        try:
            stored = self._take_once(keys=[_flow_key(state)])
        except redis.RedisError:
            raise ConnectRefused(STORE_DOWN, 503) from None
        if stored is None:
            raise ConnectRefused(STALE)
        flow = json.loads(stored)
        if not browser_secret or not hmac.compare_digest(flow["browser"], _digest(browser_secret)):
            raise ConnectRefused(OTHER_BROWSER)
        by = flow.get("by")
        return ConnectFlow(
            flow["portal"],
            int(flow["user_id"]),
            flow["code_verifier"],
            bool(flow["replace"]),
            (int(by[0]), str(by[1])) if by else None,
        )

    def connect(self, flow: ConnectFlow, code: str) -> str | None:
        """Exchanges the code with the flow's verifier, learns the address, stores the pair; answers the address.

        An account other than the connected one is refused unless the flow carries the user's consent.
        """
        assert self.oauth is not None  # the web layer offers connecting only when it is set up
        pair = self.oauth.exchange(code, flow.code_verifier)
        info = self.oauth.info(pair["access_token"])
        email = info.get("default_email") or (info.get("emails") or [None])[0]
        with self.db.write() as session:
            account = self._find(session, flow.portal, flow.user_id)
            if account is not None and not flow.replace and not same_account(account.email, email):
                raise _replacement_refused(account.email, email)
            account = account or YandexAccount(portal=flow.portal, user_id=flow.user_id)
            session.add(account)
            self._store(account, pair)
            account.email, account.usable, account.connected_at = email, True, utcnow()
        return email

    def _store(self, account: YandexAccount, pair: dict) -> None:
        account.access_token = self.box.seal(pair["access_token"])
        account.refresh_token = self.box.seal(pair["refresh_token"]) if pair.get("refresh_token") else None
        account.token_issued_at = utcnow()
        account.expires_at = account.token_issued_at + timedelta(seconds=int(pair.get("expires_in") or 3600))

    def status(self, portal: str, user_id: int) -> dict:
        with self.db.read() as session:
            account = self._find(session, portal, user_id)
        if account is None:
            return {"connected": False, "email": None, "needs_reconnect": False}
        return {"connected": True, "email": account.email, "needs_reconnect": not account.usable}

    def organisation_status(self, portal: str) -> dict:
        with self.db.read() as session:
            account = self._find(session, portal, ORGANISATION)
        return {
            **self.status(portal, ORGANISATION),
            "connected_at": account.connected_at.isoformat() if account else None,
        }

    def disconnect(self, portal: str, user_id: int) -> None:
        with self.db.write() as session:
            session.execute(
                delete(YandexAccount).where(YandexAccount.portal == portal, YandexAccount.user_id == user_id)
            )

    def telemost_for(self, conference: Conference) -> TelemostClient:
        """The token to act on the conference's room with (yandex.room_tokens says whose)."""
        return self.rooms.telemost_for(conference)

    def find(self, portal: str, user_id: int) -> YandexAccount | None:
        with self.db.read() as session:
            return self._find(session, portal, user_id)

    def account_client(self, account: YandexAccount, organiser: str) -> TelemostClient:
        if not account.usable or self.oauth is None:
            raise _reconnect(account.email)
        return AccountTelemostClient(self, account.id, organiser)

    def token(self, account_id: int, seen: str | None = None) -> str:
        """The account's access token, refreshed (one process at a time) when expiring or refused as `seen`."""
        with self.db.read() as session:
            account = session.get(YandexAccount, account_id)
        current = self.box.open(account.access_token) if account else None
        if account is None or not account.usable or current is None:
            raise _reconnect(account.email if account else None)

        def fresh_enough(account: YandexAccount, token: str | None) -> bool:
            return token != seen and (
                account.expires_at is None or account.expires_at - REFRESH_AHEAD > utcnow()
            )

        return current if fresh_enough(account, current) else self._refresh(account_id, fresh_enough)

    def refresh_ahead(self) -> int:
        """Beat's job: renews every usable pair that is due (`_refresh_due`), and marks the ones Yandex no
        longer renews (already dead) for reconnecting, so that the app says so before a room needs them.
        Answers how many were renewed."""
        if self.oauth is None:
            return 0
        with self.db.read() as session:
            due = [
                account.id
                for account in session.scalars(select(YandexAccount).where(YandexAccount.usable))
                if _refresh_due(account)
            ]
        renewed = 0
        for account_id in due:
            try:
                self._refresh(account_id, lambda account, _: not _refresh_due(account))
                renewed += 1
            except PermanentError:
                pass  # _refresh marked it for reconnecting (invalid_grant) or logged why Yandex refused
            except (OutsideServiceError, redis.RedisError) as error:
                log.warning("Yandex account %s not renewed this time: %s", account_id, error)
        return renewed

    def _refresh(self, account_id: int, still_good: Callable[[YandexAccount, str | None], bool]) -> str:
        """Refreshes the pair unless, once this process holds the account's lock, `still_good(account,
        access_token)` says another process just did. A refusal is what `_refused` makes of it."""
        with self.locks.lock(
            f"lock:yandex-refresh:{account_id}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS + 5
        ):
            with self.db.read() as session:
                account = session.get(YandexAccount, account_id)
            if account is None:
                raise _reconnect(None)  # disconnected meanwhile
            current = self.box.open(account.access_token)
            if still_good(account, current):
                # Refreshed by another process while this one waited.
                return current  # type: ignore[return-value]  # None if unopenable and still_good ignores it
            refresh = self.box.open(account.refresh_token)
            if refresh is None:
                self.mark_unusable(account_id)
                raise _reconnect(account.email)
            assert self.oauth is not None  # an account client is made only when it is set up
            try:
                pair = self.oauth.refresh(refresh)
            except PermanentError as error:
                raise self._refused(account, error) from None
            with self.db.write() as session:  # the rotated pair is the only valid one: save it at once
                stored = session.get(YandexAccount, account_id)
                assert stored is not None  # a disconnect while refreshing is not handled (it never was)
                self._store(stored, pair)
            return pair["access_token"]

    def _refused(self, account: YandexAccount, error: PermanentError) -> PermanentError:
        """What a refused refresh means. Only invalid_grant says the user's grant is gone (revoked, expired
        or invalid: yandex.ru/dev/id/doc/ru/tokens/refresh-client); invalid_client and unauthorized_client
        refuse the app's own credentials, and the rest refuse this request: neither is the user's to fix,
        so the account stays connected and the next run tries again."""
        if error.code == GRANT_GONE:
            self.mark_unusable(account.id)
            return _reconnect(account.email)
        if error.code in APP_REFUSED:
            log.error(
                "Yandex refuses the app's YANDEX_CLIENT_ID/YANDEX_CLIENT_SECRET renewing account %s: %s",
                account.id,
                error,
            )
            message = APP_CREDENTIALS_REFUSED
        else:
            log.warning(
                "Yandex refused to renew account %s; trying again on the next run: %s", account.id, error
            )
            message = RENEWAL_REFUSED
        return PermanentError("Telemost", message.format(error=str(error).rstrip(".")), code=APP_REFUSED_CODE)

    def mark_unusable(self, account_id: int) -> None:
        with self.db.write() as session:
            account = session.get(YandexAccount, account_id)
            if account is not None:
                account.usable = False


def _refresh_due(account: YandexAccount) -> bool:
    if account.expires_at is None:
        return False
    issued = account.token_issued_at or account.connected_at
    return utcnow() >= issued + min((account.expires_at - issued) * 2 / 3, REFRESH_EVERY)


def _reconnect(email: str | None) -> PermanentError:
    return PermanentError(
        "Telemost", RECONNECT.format(account=f" {email}" if email else ""), code=room_organiser.RECONNECT_CODE
    )


def _flow_key(state: str) -> str:
    return f"yandex-connect:{state}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _replacement_refused(connected: str | None, offered: str | None) -> ConnectRefused:
    return ConnectRefused(
        f"The Yandex account {connected or 'you connected before'} is connected to the app, and you signed in "
        f"to Yandex as {offered or 'another account'}, so nothing was changed. To replace the connected "
        "account, choose Replace when the app asks (or disconnect it in the app first) and sign in again.",
        status=409,
        replace=True,
    )


class AccountTelemostClient(TelemostClient):
    """Telemost as a connected user: a refused token is refreshed once; refused again, the user must reconnect."""

    def __init__(self, accounts: YandexAccounts, account_id: int, organiser: str) -> None:
        settings = accounts.settings
        super().__init__(
            settings.telemost_api_url, "", settings.http_timeout_seconds, accounts.http, organiser
        )
        self.accounts, self.account_id = accounts, account_id

    def _request(self, method: str, path: str, **kwargs):
        self.token = self.accounts.token(self.account_id)
        try:
            return super()._request(method, path, **kwargs)
        except PermanentError as error:
            if error.status != 401:
                raise
        self.token = self.accounts.token(self.account_id, seen=self.token)
        try:
            return super()._request(method, path, **kwargs)
        except PermanentError as error:
            if error.status == 401:
                self.accounts.mark_unusable(self.account_id)
                raise PermanentError(
                    "Telemost", RECONNECT.format(account=""), code=room_organiser.RECONNECT_CODE, status=401
                ) from None
            raise
