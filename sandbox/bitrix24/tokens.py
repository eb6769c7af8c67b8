"""OAuth access and refresh tokens and authorization codes (reference §0.3, §2).

Access tokens live token_ttl seconds (3600), refresh tokens 180 days, codes 30 s. A refresh rotates
both tokens; the refresh token used becomes invalid at once. The access token it replaced is left to
expire on its own (the reference says nothing of revoking it, and concurrent callers still hold it).
Each token names the regional OAuth server that issued it: only that one refreshes it or vouches for it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

from .errors import OAuthError, expired_token, invalid_token


@dataclass(frozen=True)
class AccessToken:
    value: str
    user_id: int
    scope: str
    expires_at: float
    client_id: str = ""  # the application it was issued to
    server: str = ""  # the region of the OAuth server that issued it (settings.OAUTH_SERVERS)


@dataclass(frozen=True)
class RefreshToken:
    value: str
    user_id: int
    scope: str
    expires_at: float
    client_id: str = ""  # the application it was issued to
    server: str = ""  # the region of the OAuth server that issued it (settings.OAUTH_SERVERS)


@dataclass(frozen=True)
class TokenPair:
    access: AccessToken
    refresh: RefreshToken


@dataclass(frozen=True)
class AuthCode:
    value: str
    user_id: int
    scope: str
    expires_at: float


def _opaque() -> str:
    return secrets.token_hex(16)  # 32 hex characters, the short form the docs show


def invalid_grant(what: str) -> OAuthError:
    return OAuthError(400, "invalid_grant", f"The {what} is invalid or has expired")


class TokenStore:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._codes: dict[str, AuthCode] = {}

    def issue(self, user_id: int, scope: str, ttl: float, refresh_ttl: float, client_id: str,
              server: str = "") -> TokenPair:
        now = self._clock()
        access = AccessToken(_opaque(), user_id, scope, now + ttl, client_id, server)
        refresh = RefreshToken(_opaque(), user_id, scope, now + refresh_ttl, client_id, server)
        self._access[access.value] = access
        self._refresh[refresh.value] = refresh
        return TokenPair(access, refresh)

    def issued(self, kind: str, value: str) -> bool:
        """Whether this store issued the token or code ("access", "refresh", "code"), still held or not expired."""
        held = {"access": self._access, "refresh": self._refresh, "code": self._codes}[kind]
        return value in held

    def check_access(self, value: str) -> AccessToken:
        token = self._access.get(value)
        if token is None:
            raise invalid_token()
        if self._clock() >= token.expires_at:
            raise expired_token()
        return token

    def rotate(self, refresh_value: str, ttl: float, refresh_ttl: float, client_id: str, server: str = "") -> TokenPair:
        """Only the application a refresh token was issued to may use it (RFC 6749 §6: the server "MUST ...
        validate the refresh token" and that it "was issued to the authenticated client"), and only at the
        server that issued it: another region's server does not know it, so it reads as invalid there."""
        old = self._refresh.get(refresh_value)
        if old is None or self._clock() >= old.expires_at or old.client_id != client_id or old.server != server:
            raise invalid_grant("refresh token")
        del self._refresh[refresh_value]
        return self.issue(old.user_id, old.scope, ttl, refresh_ttl, old.client_id, old.server)

    def revoke_all(self) -> None:
        """Uninstalling the app revokes its API access: every token then reads as unknown (invalid_token)."""
        self._access.clear()
        self._refresh.clear()
        self._codes.clear()

    def issue_code(self, user_id: int, scope: str, ttl: float) -> AuthCode:
        code = AuthCode(_opaque(), user_id, scope, self._clock() + ttl)
        self._codes[code.value] = code
        return code

    def redeem_code(self, value: str) -> AuthCode:
        """A code works once, within its lifetime."""
        code = self._codes.pop(value, None)
        if code is None or self._clock() >= code.expires_at:
            raise invalid_grant("authorization code")
        return code
