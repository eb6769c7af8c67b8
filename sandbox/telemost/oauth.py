"""Yandex OAuth (oauth.yandex.ru) and Yandex ID (login.yandex.ru) of the sandbox: the registered
client, the organisations' service apps, codes, tokens and the rules of the authorization-code and
token-exchange flows, with no HTTP in it (the routes are in oauth_routes.py, the accounts in
oauth_accounts.py).

Access tokens issued here are Telemost tokens of this same emulator (`telemost_token`), so a user who
"connects their Yandex account" in the sandbox organises real sandbox rooms. Behaviour the reference
does not pin down is marked UNVERIFIED; there the emulator takes the stricter reading, so a client
that works here does not lean on a leniency the real server may lack.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from .oauth_accounts import ORGANIZATIONS, SCOPE_LOGIN_EMAIL, SCOPE_LOGIN_INFO, YandexAccount, employee
from .state import CONFERENCE_SCOPES, Token, random_digits

CLIENT_ID = "sandbox-yandex-client"
CLIENT_SECRET = "sandbox-yandex-secret"
# What the sandbox app is registered with; a request without `scope` gets all of them, as on Yandex.
REGISTERED_SCOPES = CONFERENCE_SCOPES | {SCOPE_LOGIN_EMAIL, SCOPE_LOGIN_INFO}
CODE_TTL_S = 600
# Also a service app's token lifetime: public clients of the token exchange see expires_in 3600.
DEFAULT_ACCESS_TTL_S = 3600

# RFC 8693 token exchange as Yandex 360 service apps use it: the grant and the two subject types that
# public clients citing yandex.ru/support/yandex-360/business/admin/ru/security-service-applications
# send (that page's token section itself was not read; UNVERIFIED beyond those names).
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
SUBJECT_UID = "urn:yandex:params:oauth:token-type:uid"
SUBJECT_EMAIL = "urn:yandex:params:oauth:token-type:email"
ISSUED_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"  # RFC 8693 §3


class OAuthError(Exception):
    """An answer of /token or /login/info: {"error", "error_description"} with `status`."""

    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description
        self.headers = headers or {}


def invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


def invalid_grant(what: str) -> OAuthError:
    return OAuthError(400, "invalid_grant", f"The {what} is invalid, expired, used or revoked.")


def invalid_token() -> OAuthError:
    # login.yandex.ru's 401 body is UNVERIFIED: a client should act on the status alone.
    return OAuthError(401, "invalid_token", "Unknown, expired or revoked OAuth token.",
                      {"WWW-Authenticate": 'OAuth realm="login.yandex.ru"'})


def invalid_client(via_basic_auth: bool) -> OAuthError:
    # Yandex documents invalid_client among the 400 answers; RFC 6749 §5.2 requires 401 with
    # WWW-Authenticate when the client used the Authorization header. Each transport gets its own
    # here, so the app must handle both statuses.
    if via_basic_auth:
        return OAuthError(401, "invalid_client", "Client authentication failed.",
                          {"WWW-Authenticate": 'Basic realm="oauth.yandex.ru"'})
    return OAuthError(400, "invalid_client", "Unknown client_id or wrong client_secret.")


def unauthorized_client(description: str) -> OAuthError:
    # RFC 6749 §5.2: an authenticated client that may not use this grant. Public clients of Yandex's
    # token exchange see a 400 whose description says "unauthorized" when the app is no service app
    # of the organisation; the exact code is UNVERIFIED.
    return OAuthError(400, "unauthorized_client", description)


@dataclass(frozen=True)
class ServiceApp:
    """An OAuth app the organisation's owner listed as a service app (Yandex 360 Extended and Optimal
    plans; POST api360 /security/v1/org/{orgId}/service_applications): it gets a token of any employee
    with the token-exchange grant, and no one is asked to consent."""

    client_id: str
    client_secret: str
    org_id: str
    scopes: frozenset[str] = REGISTERED_SCOPES

    def public(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "client_secret": self.client_secret, "org_id": self.org_id,
                "scopes": sorted(self.scopes)}


# One per sandbox organisation (oauth_accounts.ORGANIZATIONS), in the same order.
SANDBOX_SERVICE_APPS = (ServiceApp("sandbox-service-app", "sandbox-service-secret", ORGANIZATIONS[0].org_id),
                        ServiceApp("sandbox-service-app-2", "sandbox-service-secret-2", ORGANIZATIONS[1].org_id))


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked /authorize query (oauth_requests.py reads it): its client and redirect_uri are trusted."""

    redirect_uri: str
    state: str | None
    scopes: frozenset[str]
    login_hint: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass(frozen=True)
class AuthCode:
    value: str
    account: YandexAccount
    request: AuthorizeRequest
    expires_at: float


@dataclass
class IssuedTokens:
    """One access/refresh pair, with one lifetime: "Refresh-токен ... Время жизни токенов совпадает"
    (yandex.ru/dev/id/doc/ru/tokens/refresh-client). A refresh replaces the pair; a revoke marks it and
    keeps it for /state."""

    access_token: str
    refresh_token: str | None  # None for a service app's token: the exchange answers none
    account: YandexAccount
    scopes: frozenset[str]
    access_ttl: int
    expires_at: float
    client_id: str = CLIENT_ID
    revoked: bool = False


class YandexOAuthServer:
    """Everything behind one lock, like TelemostState; the two never hold each other's lock."""

    def __init__(self, default_access_ttl: int = DEFAULT_ACCESS_TTL_S,
                 clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._default_access_ttl = _positive_seconds(default_access_ttl)
        self._access_ttl = self._default_access_ttl
        self._codes: dict[str, AuthCode] = {}
        self._by_access: dict[str, IssuedTokens] = {}
        self._by_refresh: dict[str, IssuedTokens] = {}
        self._service_apps = {app.client_id: app for app in SANDBOX_SERVICE_APPS}

    def reset(self) -> None:
        with self._lock:
            self._access_ttl = self._default_access_ttl
            self._codes, self._by_access, self._by_refresh = {}, {}, {}
            self._service_apps = {app.client_id: app for app in SANDBOX_SERVICE_APPS}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            return {"access_ttl": self._access_ttl,
                    "codes": sum(code.expires_at > now for code in self._codes.values()),
                    "tokens": [{"email": pair.account.email, "client_id": pair.client_id,
                                "expires_at": _iso(pair.expires_at),
                                "expired": pair.expires_at <= now, "revoked": pair.revoked}
                               for pair in self._by_access.values()],
                    "service_apps": [app.public() for app in self._service_apps.values()]}

    # --- sandbox control -------------------------------------------------------------------------

    @property
    def access_ttl(self) -> int:
        with self._lock:
            return self._access_ttl

    def configure(self, access_ttl: int) -> None:
        with self._lock:
            self._access_ttl = _positive_seconds(access_ttl)

    def add_service_app(self, app: ServiceApp) -> None:
        """Lists `app` as a service app of its organisation until a reset; a known client_id is replaced."""
        if app.client_id == CLIENT_ID:
            raise ValueError(f"{CLIENT_ID} is the sandbox's web application, not a service app")
        if app.org_id not in {org.org_id for org in ORGANIZATIONS}:
            raise ValueError(f"org_id must be one of {', '.join(org.org_id for org in ORGANIZATIONS)}")
        with self._lock:
            self._service_apps[app.client_id] = app

    def revoke(self, account: YandexAccount) -> int:
        """The user revoked the app in their Yandex settings: every token and pending code dies."""
        with self._lock:
            self._codes = {value: code for value, code in self._codes.items() if code.account != account}
            return self._for_account(account, lambda pair: setattr(pair, "revoked", True))

    def expire(self, account: YandexAccount) -> int:
        """The account's pairs reach the end of their lifetime now, access and refresh token alike."""
        with self._lock:
            now = self._clock()
            return self._for_account(account, lambda pair: setattr(pair, "expires_at", min(pair.expires_at, now)))

    # --- the emulated OAuth server ---------------------------------------------------------------

    def authenticate(self, client_id: str, client_secret: str, via_basic_auth: bool) -> ServiceApp | None:
        """The service app these credentials are, None for the web application, else invalid_client."""
        with self._lock:
            app = self._service_apps.get(client_id)
        expected = app.client_secret if app else CLIENT_SECRET if client_id == CLIENT_ID else None
        if expected is None or not hmac.compare_digest(client_secret.encode(), expected.encode()):
            raise invalid_client(via_basic_auth)
        return app

    def exchange_for_employee(self, app: ServiceApp, subject: str, subject_type: str) -> IssuedTokens:
        """A token of the employee of `app`'s organisation named by uid or e-mail, with `app`'s scopes.

        Anyone else, a personal account or another organisation's employee included, is refused alike,
        so the answer does not tell whether the address exists elsewhere. The code is invalid_request,
        which RFC 8693 §2.2.2 requires for a subject_token that is "invalid for any reason, or
        unacceptable based on policy". What Yandex answers is UNVERIFIED: the app also reads
        invalid_grant as "not an employee"; should Yandex answer unauthorized_client here too (one
        public client's hint allows it), the app would take a stranger for a refused service app.
        Whether a blocked or deleted employee gets a token is UNVERIFIED: the sandbox has neither.
        """
        if subject_type not in (SUBJECT_UID, SUBJECT_EMAIL):
            raise invalid_request(f"subject_token_type must be {SUBJECT_UID} or {SUBJECT_EMAIL}.")
        org = next(org for org in ORGANIZATIONS if org.org_id == app.org_id)
        account = employee(org, subject, by_uid=subject_type == SUBJECT_UID)
        if account is None:
            raise invalid_request("subject_token names no employee of the service app's organisation.")
        with self._lock:
            return self._issue(account, app.scopes, client_id=app.client_id, with_refresh=False)

    def issue_code(self, account: YandexAccount, request: AuthorizeRequest) -> str:
        with self._lock:
            while (value := random_digits(7)) in self._codes:
                pass
            self._codes[value] = AuthCode(value, account, request, self._clock() + CODE_TTL_S)
            return value

    def redeem_code(self, value: str, redirect_uri: str | None, code_verifier: str | None) -> IssuedTokens:
        """A code works once within CODE_TTL_S, and even a refused attempt uses it up (strict)."""
        with self._lock:
            code = self._codes.pop(value, None)
            if code is None or code.expires_at <= self._clock():
                raise invalid_grant("authorization code")
            # Yandex's token request has no redirect_uri; when one is sent it must match (RFC 6749 §4.1.3).
            if redirect_uri is not None and redirect_uri != code.request.redirect_uri:
                raise invalid_grant("authorization code (redirect_uri differs from the authorize request)")
            _check_pkce(code.request, code_verifier)
            return self._issue(code.account, code.request.scopes)

    def refresh(self, refresh_token: str) -> IssuedTokens:
        """Rotates the pair, while it lives: a refresh token dies with its access token, so an expired
        pair cannot be refreshed (yandex.ru/dev/id/doc/ru/tokens/refresh-client, "Время жизни токенов
        совпадает"; a client refreshes before the end, Yandex recommends every three months).
        The replaced access token stops at once too: whether Yandex keeps it alive until its expiry
        is UNVERIFIED (the page says it may even answer the same one), and a client must switch to
        whatever the answer carries anyway."""
        with self._lock:
            old = self._by_refresh.get(refresh_token)
            if old is None or old.revoked or old.expires_at <= self._clock():
                raise invalid_grant("refresh token")
            del self._by_refresh[old.refresh_token], self._by_access[old.access_token]
            return self._issue(old.account, old.scopes)

    def live_tokens(self, access_token: str) -> IssuedTokens | None:
        """The pair whose access token this is, while it is neither expired nor revoked. Callers
        may read its account and scopes without the lock: only expires_at and revoked ever change."""
        with self._lock:
            pair = self._by_access.get(access_token)
            if pair is None or pair.revoked or pair.expires_at <= self._clock():
                return None
            return pair

    def user_info(self, access_token: str) -> dict[str, Any]:
        pair = self.live_tokens(access_token)
        if pair is None:
            raise invalid_token()
        return pair.account.info(pair.scopes, pair.client_id)

    def telemost_token(self, access_token: str) -> Token | None:
        """The Telemost caller behind a live access token. Its name is the account, not the token
        value, so rooms stay the organiser's across refreshes (a room belongs to a person)."""
        pair = self.live_tokens(access_token)
        if pair is None:
            return None
        account = pair.account
        return Token(f"oauth:{account.email}", pair.scopes, account.in_organization, True, account.email)

    # --- rules -----------------------------------------------------------------------------------

    def _issue(self, account: YandexAccount, scopes: frozenset[str], client_id: str = CLIENT_ID,
               with_refresh: bool = True) -> IssuedTokens:
        # Opaque values in the look of Yandex's (y0_… access, 1:… refresh); clients must not parse them.
        pair = IssuedTokens(access_token="y0_" + secrets.token_urlsafe(40),
                            refresh_token="1:" + secrets.token_urlsafe(40) if with_refresh else None,
                            account=account, scopes=scopes, access_ttl=self._access_ttl,
                            expires_at=self._clock() + self._access_ttl, client_id=client_id)
        self._by_access[pair.access_token] = pair
        if pair.refresh_token is not None:
            self._by_refresh[pair.refresh_token] = pair
        return pair

    def _for_account(self, account: YandexAccount, change: Callable[[IssuedTokens], None]) -> int:
        pairs = [pair for pair in self._by_access.values() if pair.account == account and not pair.revoked]
        for pair in pairs:
            change(pair)
        return len(pairs)


def _check_pkce(request: AuthorizeRequest, code_verifier: str | None) -> None:
    """PKCE (RFC 7636 §4.6), which Yandex ID supports (yandex.ru/dev/id/doc/ru/codes/code-url): a code
    asked for with a code_challenge is exchanged only with the code_verifier it was made from.

    What Yandex answers a missing or wrong verifier is UNVERIFIED (the page does not say); RFC 6749
    §5.2's invalid_grant is what the sandbox answers, and the code is used up either way (strict).
    A verifier sent for a code asked for without a challenge is ignored: RFC 7636 does not settle it
    and neither does Yandex (UNVERIFIED); the app always sends a challenge, so it does not lean on this.
    """
    if request.code_challenge is None:
        return
    if not code_verifier:
        raise invalid_grant("authorization code (code_verifier is missing)")
    if request.code_challenge_method == "S256":
        digest = hashlib.sha256(code_verifier.encode("ascii", "replace")).digest()
        code_verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    if not hmac.compare_digest(code_verifier, request.code_challenge):
        raise invalid_grant("authorization code (code_verifier does not match code_challenge)")


def _positive_seconds(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError("access_ttl must be a whole number of seconds > 0")
    return value


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")
