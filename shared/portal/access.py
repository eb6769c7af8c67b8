"""How the app reaches a portal's REST API: the configured webhook, or the OAuth tokens it was given.

Access tokens live an hour and every refresh rotates both tokens, so a refresh is done by one
process at a time per credential (a lock in Redis) and the new pair is saved at once; a process that
waited for the lock uses the pair the other one saved (reference/bitrix24-rest.md §2, b24jssdk#182).

The OAuth server is regional: a pair is refreshed at the portal's own (its recorded server_endpoint), and
a refusal there or elsewhere drops the pair only when every known server refused it. What the portal's
answers say of the portal itself (its server, a new domain, that it was deleted) is kept (PortalNotes).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
import requests
from sqlalchemy import delete, select

from shared.clients.bitrix24 import Bitrix24Client, OAuthServers, PortalDeleted, TokenExpired, ask_in_turn
from shared.clients.errors import PermanentError
from shared.config import Settings
from shared.crypto import TokenBox
from shared.db import Database
from shared.limiter.cells import MAX_WAIT_SECONDS, portal_rate_limiter
from shared.models import BitrixCredential, Portal, utcnow
from shared.portal.notes import PortalNotes, same_rest_root
from shared.portal.rest_log import RestLog

log = logging.getLogger(__name__)
PORTAL_CREDENTIAL = 0  # user_id of the installing administrator's pair
REFRESH_AHEAD = timedelta(seconds=60)
# Refresh tokens live 180 days; one not used for this long is renewed so an idle portal keeps access.
# Access tokens are refreshed on use instead of on a timer: the reference warns that refreshing on a
# timer "may be blocked by automation" (reference/bitrix24-rest.md §2).
KEEP_ALIVE_AFTER = timedelta(days=150)
LOCK_SECONDS = 30
REAUTH = "bitrix_reauth"  # the step's error_code: the page renews the user's pair, then retries


def reauth() -> PermanentError:
    return PermanentError(
        "Bitrix24",
        "The app holds no Bitrix24 authorisation of yours: open the app in the portal "
        "again (it renews it), then retry.",
        code=REAUTH,
    )


def oauth_servers(settings: Settings, http: requests.Session) -> OAuthServers | None:
    """The OAuth servers the app may ask, None without application credentials (webhook mode)."""
    if not settings.bitrix24_client_id:
        return None
    return OAuthServers(
        settings.bitrix24_oauth_url,
        settings.bitrix24_oauth_servers,
        settings.bitrix24_client_id,
        settings.bitrix24_client_secret or "",
        settings.http_timeout_seconds,
        http,
    )


class BitrixTokens:
    """One credential's access token: refreshed when it is about to expire or was refused as expired."""

    def __init__(
        self, db: Database, box: TokenBox, servers: OAuthServers, locks: redis.Redis, credential_id: int
    ) -> None:
        self.db, self.box, self.servers, self.locks, self.credential_id = (
            db,
            box,
            servers,
            locks,
            credential_id,
        )

    def _load(self) -> BitrixCredential:
        with self.db.read() as session:
            credential = session.get(BitrixCredential, self.credential_id)
        if credential is None:
            raise PermanentError(
                "Bitrix24",
                "The app has no authorisation for this portal any more: open it in "
                "the portal again, or reinstall it.",
            )
        return credential

    def current(self) -> str:
        credential = self._load()
        token = self.box.open(credential.access_token) or ""
        if credential.expires_at - REFRESH_AHEAD <= utcnow():
            return self.refresh(seen=token)
        return token

    def refresh(self, seen: str, fresh_answer: bool = False) -> str:
        """A fresh access token; `seen` is the one found stale, so a refresh someone else made is reused (unless
        `fresh_answer`: what the OAuth server says now is wanted, not only a token)."""
        with self.locks.lock(
            f"lock:bitrix-refresh:{self.credential_id}",
            timeout=LOCK_SECONDS,
            blocking_timeout=LOCK_SECONDS + 5,
        ):
            credential = self._load()
            token = self.box.open(credential.access_token) or ""
            if token != seen and credential.expires_at - REFRESH_AHEAD > utcnow() and not fresh_answer:
                return token
            with self.db.read() as session:
                portal = session.get(Portal, credential.portal_id)
            refresh_token = self.box.open(credential.refresh_token) or ""
            try:
                # The portal's own server first; a refusal there (or a server never recorded) is asked of the
                # others, as a pair works only where it was issued: one server's "no" is not every server's.
                server, answer = ask_in_turn(
                    self.servers.in_turn(portal.oauth_server if portal else None),
                    lambda oauth: oauth.refresh(refresh_token),
                )
            except PermanentError:  # every known server refused it: no server would take it
                self._forget(credential)
                if credential.user_id == PORTAL_CREDENTIAL:
                    raise
                # A user's own pair has ended: never the administrator's in its place (DESIGN §5). The
                # user's next launch (or the page's renewal) brings a new one.
                raise reauth() from None
            with self.db.write() as session:
                row = session.get(BitrixCredential, self.credential_id)
                assert (
                    row is not None
                )  # _load found it; one forgotten meanwhile is not handled (it never was)
                row.access_token = self.box.seal(answer["access_token"])
                row.refresh_token = self.box.seal(answer["refresh_token"])
                row.expires_at = utcnow() + timedelta(seconds=token_lifetime(answer.get("expires_in")))
                row.refreshed_at = utcnow()
            if portal is not None:
                PortalNotes(self.db, portal.id).heard_refresh(
                    self.servers, server.base_url, answer, portal.member_id
                )
            return answer["access_token"]

    def rest_endpoint(self) -> str | None:
        """The portal's REST endpoint as the app keeps it (from the OAuth server's answers, never a redirect)."""
        with self.db.read() as session:
            credential = session.get(BitrixCredential, self.credential_id)
            portal = session.get(Portal, credential.portal_id) if credential is not None else None
            return portal.client_endpoint if portal is not None else None

    def _forget(self, credential: BitrixCredential) -> None:
        log.warning(
            "Bitrix24 refused to refresh credential %s (portal %s, user %s); it is dropped",
            credential.id,
            credential.portal_id,
            credential.user_id,
        )
        with self.db.write() as session:
            session.execute(delete(BitrixCredential).where(BitrixCredential.id == credential.id))


class TokenBitrix24Client(Bitrix24Client):
    """A Bitrix24 client on an OAuth credential: on expired_token it refreshes once and repeats the call; a
    PORTAL_DELETED is noted on the portal, and a redirect is followed only where the OAuth server says the
    portal now is."""

    def __init__(
        self,
        rest_url: str,
        tokens: BitrixTokens,
        timeout: float,
        session: requests.Session,
        limiter=None,
        notes: PortalNotes | None = None,
        recorder=None,
    ) -> None:
        super().__init__(rest_url, None, timeout, session, limiter, recorder)
        self.tokens, self.notes = tokens, notes

    def confirm_move(self, root: str) -> str | None:
        """A 302 alone moves nothing (whoever answers for the old host could send the token anywhere): a refresh
        answer names the portal's REST endpoint (client_endpoint, b24restdocs settings/oauth/auto-renewal.md),
        which BitrixTokens keeps (PortalNotes.heard_refresh). The call goes there, wherever the redirect
        pointed; None when the OAuth server names the root that just redirected."""
        self.auth = self.tokens.refresh(seen=self.auth or "", fresh_answer=True)
        endpoint = self.tokens.rest_endpoint()
        if not endpoint or same_rest_root(endpoint, self.rest_url):
            return None
        if not same_rest_root(endpoint, root):
            log.warning(
                "a redirect to %s was not followed: the OAuth server puts the portal at %s", root, endpoint
            )
        return endpoint.rstrip("/") + "/"

    def call(self, method, params=None):
        self.auth = self.tokens.current()
        try:
            try:
                return super().call(method, params)
            except TokenExpired:
                self.auth = self.tokens.refresh(seen=self.auth)
                return super().call(method, params)
        except PortalDeleted:
            if self.notes is not None:
                log.warning("portal %s answered PORTAL_DELETED: it is marked gone", self.notes.portal_id)
                self.notes.deleted()
            raise


class BitrixAccess:
    """Picks the way to a portal for server-side calls: the webhook for its portal, else OAuth tokens."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        box: TokenBox,
        locks: redis.Redis,
        http: requests.Session,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.settings, self.db, self.box, self.locks, self.http = settings, db, box, locks, http
        self.limiter = portal_rate_limiter(
            locks, settings.bitrix24_rate_per_second, settings.bitrix24_burst, max_wait_seconds
        ).acquire
        self.servers = oauth_servers(settings, http)
        self.rest_log = RestLog(db)

    def webhook(self) -> Bitrix24Client | None:
        if not self.settings.bitrix24_webhook_url:
            return None
        return Bitrix24Client(
            self.settings.bitrix24_webhook_url,
            timeout=self.settings.http_timeout_seconds,
            session=self.http,
            limiter=self.limiter,
            recorder=self.rest_log,
        )

    def client(self, portal_key: str, user_id: int) -> Bitrix24Client:
        """The client for work done for `user_id` on `portal_key`: with that user's own pair, never the
        administrator's in its place; PermanentError(bitrix_reauth) when the app has none of theirs."""
        client = self._oauth_client(portal_key, user_id)
        if client is None:
            raise reauth()
        return client

    def app_client(self, portal_key: str) -> Bitrix24Client:
        """The client for what the app itself asks the portal (is an event real, is the app still installed):
        the installing administrator's pair, or the webhook."""
        client = self._oauth_client(portal_key, PORTAL_CREDENTIAL)
        if client is None:
            raise PermanentError(
                "Bitrix24",
                "The app has no authorisation for this portal: an administrator must reinstall it.",
            )
        return client

    def _oauth_client(self, portal_key: str, user_id: int) -> Bitrix24Client | None:
        """The webhook for its portal, else the credential of (portal, user_id), or None when there is none."""
        with self.db.read() as session:
            portal = session.scalars(select(Portal).where(Portal.member_id == portal_key)).one_or_none()
            if portal is not None and not portal.installed:
                raise PermanentError("Bitrix24", "The app was uninstalled from this portal.")
            if portal is not None and portal.deleted_at is not None:
                raise PortalDeleted(
                    "Bitrix24",
                    "The Bitrix24 portal was deleted (PORTAL_DELETED): the app no longer "
                    "calls it. Opening the app there again lifts this.",
                    code="PORTAL_DELETED",
                )
            if self.settings.bitrix24_webhook_url and (
                portal is None or portal.domain == self.settings.portal_domain
            ):
                return self.webhook()
            if portal is None or self.servers is None:
                raise PermanentError(
                    "Bitrix24",
                    "The app is not installed on this portal: an administrator must "
                    "install it (or set BITRIX24_WEBHOOK_URL).",
                )
            chosen = session.scalars(
                select(BitrixCredential.id).where(
                    BitrixCredential.portal_id == portal.id, BitrixCredential.user_id == user_id
                )
            ).one_or_none()
            endpoint, portal_id = portal.client_endpoint, portal.id
        if chosen is None:
            return None
        tokens = BitrixTokens(self.db, self.box, self.servers, self.locks, chosen)
        return TokenBitrix24Client(
            endpoint,
            tokens,
            self.settings.http_timeout_seconds,
            self.http,
            self.limiter,
            PortalNotes(self.db, portal_id),
            self.rest_log,
        )


def keep_alive(access: BitrixAccess) -> int:
    """Renews every pair whose refresh token is getting old; answers how many were renewed."""
    if access.servers is None:
        return 0
    with access.db.read() as session:
        ids = list(
            session.scalars(
                select(BitrixCredential.id).where(BitrixCredential.refreshed_at < utcnow() - KEEP_ALIVE_AFTER)
            )
        )
    renewed = 0
    for credential_id in ids:
        tokens = BitrixTokens(access.db, access.box, access.servers, access.locks, credential_id)
        try:
            tokens.refresh(seen=tokens.current())
            renewed += 1
        except Exception as error:  # one portal's failure must not stop the others
            log.warning("could not renew Bitrix24 credential %s: %s", credential_id, error)
    return renewed


def token_lifetime(expires_in) -> int:
    """An answer's expires_in in seconds, within what Bitrix24 issues (an hour); anything else reads as an hour."""
    value = int(expires_in) if str(expires_in or "").isdecimal() and len(str(expires_in)) < 7 else 0
    return value if 0 < value <= 24 * 3600 else 3600


def save_credential(
    session, box: TokenBox, portal_id: int, user_id: int, access: str, refresh: str, expires_in: int
) -> None:
    """Stores (or replaces) a pair as soon as it is received: a rotated pair is the only valid one."""
    credential = session.scalars(
        select(BitrixCredential).where(
            BitrixCredential.portal_id == portal_id, BitrixCredential.user_id == user_id
        )
    ).one_or_none()
    if credential is None:
        credential = BitrixCredential(portal_id=portal_id, user_id=user_id)
        session.add(credential)
    credential.access_token, credential.refresh_token = box.seal(access), box.seal(refresh)
    credential.expires_at = utcnow() + timedelta(seconds=expires_in)
    credential.refreshed_at = utcnow()
