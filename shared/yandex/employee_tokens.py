"""Each employee's own Yandex token, obtained by the portal's Yandex 360 service application (token exchange).

Where a portal's administrator set a service application (settings page: client id and secret), the app asks
Yandex for the owner's own token by their e-mail (RFC 8693 token exchange: shared/clients/yandex_oauth.py
exchange_for_employee), so every employee is the organiser of their rooms without connecting anything.
The answer has no refresh token and lives about an hour: it is kept in Redis, sealed, a little less than
that, and asked for again when Telemost refuses it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import redis
import requests

from shared.clients.errors import PermanentError
from shared.clients.yandex_oauth import NOT_AN_EMPLOYEE_CODES, SERVICE_APP_REFUSED_CODES, YandexOAuth
from shared.config import Settings
from shared.crypto import TokenBox
from shared.db import Database
from shared.portal import settings as portal_settings

log = logging.getLogger(__name__)
KEEP_LESS_BY = 120  # seconds: a kept token is never used in its last two minutes
NOT_AN_EMPLOYEE = (
    "{email} has no account in the portal's Yandex 360 organisation, so the room was made with {fallback} "
    "instead of as {email}."
)
SERVICE_APP_REFUSED = (
    "Yandex refused the organisation's service application ({error}), so the room was made with {fallback}; "
    "the portal's administrator should check the service application in the app's settings."
)


class NoEmployeeToken(Exception):
    """No token for this employee: why, as a sentence the room step shows beside the room it made otherwise
    ({fallback} names what made it)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class ServiceApp:
    client_id: str
    client_secret: str


class EmployeeTokens:
    def __init__(
        self, settings: Settings, db: Database, box: TokenBox, cache: redis.Redis, http: requests.Session
    ) -> None:
        self.settings, self.db, self.box, self.cache, self.http = settings, db, box, cache, http

    def service_app(self, portal: str) -> ServiceApp | None:
        with self.db.read() as session:
            effective = portal_settings.current(session, portal)
        secret = self.box.open(effective.service_app_secret)
        if not effective.service_app_client_id or not secret:
            return None
        return ServiceApp(effective.service_app_client_id, secret)

    def token(self, portal: str, email: str, seen: str | None = None) -> str:
        """The employee's token: the kept one unless it is `seen` (refused), else a new exchange. Raises
        NoEmployeeToken (no service app, not an employee, the app refused), or a transient error."""
        app = self.service_app(portal)
        if app is None:
            raise NoEmployeeToken(
                "The portal's service application is no longer set up in the app's settings."
            )
        key = _cache_key(portal, app.client_id, email)  # another app set since asks anew
        try:
            stored = self.cache.get(key)
            kept = self.box.open(stored.decode() if isinstance(stored, bytes) else stored)
        except redis.RedisError:
            kept = None  # Redis down: ask Yandex, which answers without it
        if kept and kept != seen:
            return kept
        app = self.service_app(portal)
        if app is None:
            raise NoEmployeeToken(
                "The portal's service application is no longer set up in the app's settings."
            )
        oauth = YandexOAuth(
            self.settings.yandex_oauth_url,
            self.settings.yandex_login_url,
            app.client_id,
            app.client_secret,
            "",
            self.settings.http_timeout_seconds,
            self.http,
        )
        try:
            answer = oauth.exchange_for_employee(app.client_id, app.client_secret, email)
        except PermanentError as error:
            if error.code in NOT_AN_EMPLOYEE_CODES:
                raise NoEmployeeToken(NOT_AN_EMPLOYEE.replace("{email}", email)) from None
            if error.code in SERVICE_APP_REFUSED_CODES:
                log.error(
                    "portal %s: Yandex refuses its service application %s: %s", portal, app.client_id, error
                )
            raise NoEmployeeToken(
                SERVICE_APP_REFUSED.replace("{error}", error.code or str(error.status))
            ) from None
        token = answer["access_token"]
        lifetime = int(answer.get("expires_in") or 3600) - KEEP_LESS_BY
        if lifetime > 0:
            try:
                self.cache.set(key, self.box.seal(token), ex=lifetime)
            except redis.RedisError:
                pass  # kept or not, the token works: the next room asks again
        return token


def _cache_key(portal: str, client_id: str, email: str) -> str:
    named = f"{portal}\n{client_id}\n{email.casefold()}"
    return "yandex-employee:" + hashlib.sha256(named.encode()).hexdigest()[:32]
