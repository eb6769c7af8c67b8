"""Installing and uninstalling the app on a portal, and keeping the token pairs it is given.

Install arrives two ways (reference §1.3): the install page, opened by an administrator with the
launch fields, and the ONAPPINSTALL event, which "may arrive with a delay". Either is accepted only
when the OAuth server vouches for its token (our application, that portal) and the token's user is
an administrator. ONAPPUNINSTALL carries no token: its application_token must match the stored one.
An event whose `ts` is not newer than the last one accepted is a replay and changes nothing.
"""
from __future__ import annotations

import logging
from sqlalchemy import delete, select

from ..clients.bitrix24 import Bitrix24Client
from ..clients.errors import OutsideServiceError
from ..crypto import TokenBox
from ..models import BitrixCredential, Portal, utcnow
from .bitrix_access import PORTAL_CREDENTIAL, save_credential
from .identity import Identity, Launch, NotVouched, PortalAccess, VerifiedUser

log = logging.getLogger(__name__)
EVENTS_BOUND = ("ONAPPUNINSTALL", "ONCALENDARENTRYUPDATE", "ONCALENDARENTRYDELETE")


def _replayed(portal: Portal, marker: str, ts: int) -> bool:
    """`ts` has one-second steps: the same second is fine for another event, not for the same one again
    (`marker` names the event and, for an install, its token)."""
    return ts < portal.last_event_ts or (ts == portal.last_event_ts and marker == portal.last_event)


class Portals:
    def __init__(self, identity: Identity, box: TokenBox) -> None:
        self.identity, self.box, self.db = identity, box, identity.db

    def install(self, launch: Launch, ts: int | None = None, scope: str | None = None,
                events_url: str | None = None) -> VerifiedUser:
        """Stores the portal and the administrator's pair; raises NotVouched for anything less than proof."""
        if self.identity.oauth is None:
            raise NotVouched("The app has no Bitrix24 application credentials (BITRIX24_CLIENT_ID) to install with")
        if not (launch.application_token and launch.refresh_id):
            raise NotVouched("An install must carry the application token and a refresh token")
        info = self.identity.app_info(launch)
        endpoint = str((info.get("install") or {}).get("client_endpoint") or "")
        if not endpoint.startswith(("http://", "https://")):
            raise NotVouched("The OAuth server named no REST endpoint for that portal")
        access = PortalAccess(launch.member_id, launch.domain.strip().lower(), endpoint, None,
                              endpoint.startswith("https"))
        user = self.identity.user(access, launch.auth_id)
        if not user.is_admin:
            raise NotVouched("Only a portal administrator can install the app")
        with self.db.write() as session:
            portal = session.scalars(select(Portal).where(Portal.member_id == launch.member_id)).one_or_none()
            marker = "ONAPPINSTALL:" + self.box.digest(launch.auth_id)[:16]
            if portal is not None and ts is not None and _replayed(portal, marker, ts):
                raise NotVouched("That install event is a replay or older than one already accepted")
            if portal is None:
                portal = Portal(member_id=launch.member_id)
                session.add(portal)
            portal.domain, portal.client_endpoint, portal.installed = access.domain, endpoint, True
            portal.application_token_digest = self.box.digest(launch.application_token)
            portal.scope = scope or portal.scope
            portal.installed_at = utcnow()
            if ts is not None:
                portal.last_event_ts, portal.last_event = ts, marker
            session.flush()
            save_credential(session, self.box, portal.id, PORTAL_CREDENTIAL, launch.auth_id, launch.refresh_id,
                            launch.expires_in or 3600)
        log.info("installed on portal %s (%s) by user %s", launch.member_id, access.domain, user.id)
        if events_url:
            self._bind_events(endpoint, launch.auth_id, events_url)
        return user

    def _bind_events(self, endpoint: str, auth: str, events_url: str) -> None:
        api = Bitrix24Client(endpoint, auth=auth, timeout=self.identity.settings.http_timeout_seconds,
                             session=self.identity.http, limiter=self.identity.limiter)
        for event in EVENTS_BOUND:
            try:
                api.call("event.bind", {"event": event, "handler": events_url})
            except OutsideServiceError as error:  # "already binded" on a reinstall is fine
                log.info("event.bind %s: %s", event, error.code or error.message)

    def uninstall(self, member_id: str, application_token: str, ts: int) -> None:
        """Marks the portal uninstalled and drops its tokens; its history stays."""
        with self.db.write() as session:
            portal = session.scalars(select(Portal).where(Portal.member_id == member_id)).one_or_none()
            if portal is None or not portal.installed \
                    or not self.box.matches(application_token, portal.application_token_digest):
                raise NotVouched("Unknown portal or wrong application token")
            if _replayed(portal, "ONAPPUNINSTALL", ts):
                raise NotVouched("That uninstall event is a replay or older than one already accepted")
            portal.installed, portal.last_event_ts, portal.last_event = False, ts, "ONAPPUNINSTALL"
            session.execute(delete(BitrixCredential).where(BitrixCredential.portal_id == portal.id))
        log.info("uninstalled from portal %s", member_id)

    def verify_event(self, member_id: str, application_token: str) -> None:
        """Any other event is genuine only with the application token stored at install."""
        with self.db.read() as session:
            portal = session.scalars(select(Portal).where(Portal.member_id == member_id)).one_or_none()
        if portal is None or not portal.installed \
                or not self.box.matches(application_token, portal.application_token_digest):
            raise NotVouched("Unknown portal or wrong application token")

    def keep_user_tokens(self, user: VerifiedUser, launch: Launch) -> None:
        """A launch carries the user's own pair: with it the app acts as that user (their calendar, their name)."""
        if user.portal.portal_id is None or not launch.refresh_id or self.identity.oauth is None:
            return
        with self.db.write() as session:
            save_credential(session, self.box, user.portal.portal_id, user.id, launch.auth_id, launch.refresh_id,
                            launch.expires_in or 3600)

    def is_installed(self, key: str) -> bool:
        """False only for a portal that uninstalled the app (the configured webhook portal has no row)."""
        with self.db.read() as session:
            installed = session.scalars(select(Portal.installed).where(Portal.member_id == key)).one_or_none()
        return installed is not False
