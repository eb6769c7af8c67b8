"""Who opened the app: the portal must vouch for the AUTH_ID (DESIGN §5, reference/bitrix24-rest.md §1.2).

Nothing posted is trusted as is. The member_id must be a portal the app is installed on (or the one
configured by BITRIX24_WEBHOOK_URL), the DOMAIN must be that portal's, the OAuth server's app.info
must name our application, that member_id and that domain, and user.current on the portal's own
endpoint (stored at install or configured, never taken from the request) says who the user is.

The OAuth server is regional, and the launch names it (SERVER_ENDPOINT): only a known server is asked
(OAuthServers), so the posted value can pick among Bitrix24's own servers and nothing else. A portal
renamed since it was stored (a new DOMAIN for the same member_id) is accepted when its OAuth server's
app.info names that domain; the stored domain and endpoint then follow it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import requests
from sqlalchemy import select

from shared.clients.bitrix24 import Bitrix24Client, TokenExpired, ask_in_turn, web_host
from shared.clients.errors import OutsideServiceError, TransientError
from shared.config import Settings
from shared.db import Database
from shared.models import Portal
from shared.portal.access import oauth_servers
from shared.portal.notes import PortalNotes
from shared.portal.rest_log import RestLog

log = logging.getLogger(__name__)
MAX_NAME = 255  # what the database keeps of a user's name; the portal allows longer ones
EXPIRED = "The authorisation has expired: renew it (BX24.refreshAuth) and sign in again"


class NotVouched(Exception):
    """The portal does not vouch for this launch; the message is safe to show."""


@dataclass(frozen=True)
class Launch:
    """What Bitrix24 posts when it opens the app (reference §1.1), or what the front end renews with."""

    auth_id: str
    domain: str
    member_id: str
    refresh_id: str | None = None  # kept only once the OAuth server vouches for it (Portals.verified_pair)
    application_token: str | None = None
    server_endpoint: str | None = (
        None  # the OAuth server named by the launch: asked first when it is a known one
    )


@dataclass(frozen=True)
class PortalAccess:
    """The portal a launch belongs to, as the app knows it (not as the request says)."""

    key: str  # conferences are partitioned by this: the member_id (the domain in plain webhook mode)
    domain: str
    rest_url: str
    portal_id: int | None  # the installed portal's row; None for the configured webhook portal
    secure: bool
    install_generation: int = 0  # of the installed portal's row (0: the webhook portal, which has none)
    oauth_server: str | None = (
        None  # the portal's OAuth server: recorded, then the one that vouched for the launch
    )
    marked_deleted: bool = False  # it answered PORTAL_DELETED before (PortalNotes.deleted)


@dataclass(frozen=True)
class VerifiedUser:
    portal: PortalAccess
    id: int
    name: str
    email: str | None
    is_admin: bool

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "email": self.email, "is_admin": self.is_admin}


class Identity:
    def __init__(self, settings: Settings, db: Database, http: requests.Session, limiter=None) -> None:
        self.settings, self.db, self.http, self.limiter = settings, db, http, limiter
        self.servers = oauth_servers(settings, http)
        self.rest_log = RestLog(db)

    def client(self, rest_url: str, auth: str) -> Bitrix24Client:
        """A client on a token the request brought (a launch's AUTH_ID, an install's), in the portal's budget."""
        return Bitrix24Client(
            rest_url,
            auth=auth,
            timeout=self.settings.http_timeout_seconds,
            session=self.http,
            limiter=self.limiter,
            recorder=self.rest_log,
        )

    def verify(self, launch: Launch) -> VerifiedUser:
        """Raises NotVouched, or TransientError when the portal cannot be asked right now."""
        portal = self._known_portal(launch)
        if self.servers is not None:
            info, server = self.app_info(launch, portal.oauth_server)
            portal = self._follow(portal, launch, info, server)
        user = self.user(portal, launch.auth_id)
        if portal.portal_id is not None and portal.marked_deleted:
            PortalNotes(self.db, portal.portal_id).welcome_back()
        return user

    def _known_portal(self, launch: Launch) -> PortalAccess:
        domain = launch.domain.strip().lower()
        with self.db.read() as session:
            row = session.scalars(
                select(Portal).where(Portal.member_id == launch.member_id, Portal.installed.is_(True))
            ).one_or_none()
        if row is not None:
            if row.domain.lower() != domain and self.servers is None:
                raise NotVouched("That portal does not match the one the app is installed on")
            # A new DOMAIN may be a renamed portal: app.info on its OAuth server must name it (verify, _follow).
            return PortalAccess(
                launch.member_id,
                row.domain,
                row.client_endpoint,
                row.id,
                row.client_endpoint.startswith("https"),
                row.install_generation,
                row.oauth_server,
                row.deleted_at is not None,
            )
        if self.settings.portal_domain and domain == self.settings.portal_domain:
            # Without app credentials nothing can vouch for the member_id: the domain keys the data then.
            key = launch.member_id if self.servers is not None else domain
            base = self.settings.portal_base_url
            assert base is not None  # set whenever portal_domain is: both come from the webhook URL
            return PortalAccess(key, domain, base + "/rest/", None, base.startswith("https"))
        raise NotVouched("This app is not installed on that portal")

    def app_info(self, launch: Launch, recorded: str | None = None) -> tuple[dict, str]:
        """The OAuth server's word on the token (our application, that portal, that domain), and which server
        gave it: the launch's own server first (when known), then the portal's recorded one, then the others."""
        assert self.servers is not None  # asked only with app credentials (verify, Portals.install)
        servers = self.servers.in_turn(launch.server_endpoint, recorded)
        server, info = self._ask(
            lambda: ask_in_turn(servers, lambda oauth: oauth.app_info(launch.auth_id)),
            "The Bitrix24 OAuth server",
        )
        install = info.get("install") if isinstance(info.get("install"), dict) else {}
        if info.get("client_id") != self.settings.bitrix24_client_id:
            raise NotVouched("The authorisation belongs to another application")
        if (
            str(install.get("member_id", "")) != launch.member_id
            or str(install.get("domain", "")).lower() != launch.domain.strip().lower()
        ):
            raise NotVouched("The authorisation belongs to another portal")
        return info, server.base_url

    def _follow(self, portal: PortalAccess, launch: Launch, info: dict, server: str) -> PortalAccess:
        """Keeps what the OAuth server just vouched for: its own address, and a renamed portal's domain and
        REST endpoint (app.info install.domain has just been matched with the launch's DOMAIN)."""
        if portal.portal_id is None:
            return portal
        notes = PortalNotes(self.db, portal.portal_id)
        notes.server(server)
        domain = launch.domain.strip().lower()
        if domain == portal.domain.lower():
            return replace(portal, oauth_server=server)
        endpoint = str(info["install"].get("client_endpoint") or "")
        if web_host(endpoint) != domain:
            raise NotVouched("That portal does not match the one the app is installed on")
        log.info("portal %s was renamed to %s", portal.key, domain)
        notes.moved(endpoint)
        return replace(
            portal, domain=domain, rest_url=endpoint, secure=endpoint.startswith("https"), oauth_server=server
        )

    def user(self, portal: PortalAccess, auth_id: str) -> VerifiedUser:
        api = self.client(portal.rest_url, auth_id)
        commands: dict[str, tuple[str, dict[str, Any]]] = {
            "user": ("user.current", {}),
            "admin": ("user.admin", {}),
        }
        if self.servers is None and self.settings.bitrix24_app_code:
            commands["app"] = ("app.info", {})  # the same request: which application the token was issued to
        outcome = self._ask(lambda: api.batch(commands), "The portal")
        # A command the portal could not answer just now (its bucket full, say) refuses nobody: the launch
        # is asked again, as when the whole request fails so.
        busy = next(
            (error for key, error in outcome.errors.items() if key in commands and error.transient), None
        )
        if isinstance(busy, TokenExpired):
            raise NotVouched(EXPIRED)
        if busy is not None:
            raise busy
        if "app" in commands:
            self._own_application(outcome.results.get("app"))
        user = outcome.results.get("user")
        if not isinstance(user, dict) or not str(user.get("ID", "")).isdigit():
            raise NotVouched("The portal did not say who the user is")
        name = (
            " ".join(filter(None, [user.get("NAME"), user.get("LAST_NAME")])).strip() or f"User {user['ID']}"
        )
        email = user.get("EMAIL") if isinstance(user.get("EMAIL"), str) and user.get("EMAIL") else None
        return VerifiedUser(
            portal=portal,
            id=int(user["ID"]),
            name=name[:MAX_NAME],
            email=email[:MAX_NAME] if email else None,
            is_admin=outcome.results.get("admin") is True,
        )

    def _own_application(self, info) -> None:
        """Webhook mode has no OAuth server to ask; the portal's app.info says whose the token is (its CODE,
        b24restdocs api-reference/common/system/app-info.md). Without BITRIX24_APP_CODE this cannot be checked."""
        code = info.get("CODE") if isinstance(info, dict) else None
        if str(code or "") != self.settings.bitrix24_app_code:
            raise NotVouched("The authorisation belongs to another application")

    @staticmethod
    def _ask(call, who: str):
        try:
            return call()
        except TokenExpired:
            raise NotVouched(EXPIRED) from None
        except TransientError:
            raise
        except OutsideServiceError as error:
            raise NotVouched(
                f"{who} did not accept the authorisation ({error.code or error.status})"
            ) from None
