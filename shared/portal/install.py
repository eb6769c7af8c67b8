"""Installing and uninstalling the app on a portal, and keeping the token pairs it is given.

Install arrives two ways (reference §1.3): the install page, opened by an administrator with the
launch fields, and the ONAPPINSTALL event, which "may arrive with a delay". Either is accepted only
when the OAuth server vouches for its token (our application, that portal), the token's user is
an administrator, and its refresh token is theirs. ONAPPUNINSTALL carries no token, and its
application_token reaches every employee's browser with each launch: it only routes the event, and the
uninstall is confirmed with the portal before anything is forgotten (shared/portal/uninstall.py).
An event whose `ts` is not newer than the last one accepted is a replay and changes nothing.
The OAuth server that vouched is kept as the portal's (it is regional); a pair is exchanged there.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from shared.clients.bitrix24 import ask_in_turn
from shared.clients.errors import OutsideServiceError
from shared.crypto import TokenBox
from shared.models import BitrixCredential, Portal, utcnow
from shared.portal import robot
from shared.portal.access import PORTAL_CREDENTIAL, save_credential, token_lifetime
from shared.portal.identity import Identity, Launch, NotVouched, PortalAccess, VerifiedUser
from shared.portal.notes import PortalNotes

log = logging.getLogger(__name__)
EVENTS_BOUND = ("ONAPPUNINSTALL", "ONCALENDARENTRYUPDATE", "ONCALENDARENTRYDELETE")
# Where the app is offered besides the app menu, each opening the same verified launch with PLACEMENT and
# PLACEMENT_OPTIONS (web/launch.py). The chat's input panel and sidebar require OPTIONS.iconName, a Font
# Awesome 4 name (b24restdocs api-reference/widgets/im/textarea.md, im/sidebar.md); context ALL: personal
# and group chats alike. The CRM card's top button menu (widgets/crm/detail-toolbar.md) and the employee
# card's menu (widgets/user-profile/profile-toolbar.md) take no OPTIONS.
CHAT_ENTRY = {
    "TITLE": "Telemost",
    "DESCRIPTION": "A Yandex Telemost meeting for this chat",
    "LANG_ALL": {"ru": {"TITLE": "Телемост", "DESCRIPTION": "Встреча в Яндекс Телемосте для этого чата"}},
    "OPTIONS": {"iconName": "fa-video-camera", "context": "ALL", "role": "USER"},
}
CARD_ENTRY = {
    "TITLE": "Telemost meeting",
    "DESCRIPTION": "A Yandex Telemost meeting about this record",
    "LANG_ALL": {
        "ru": {"TITLE": "Встреча в Телемосте", "DESCRIPTION": "Встреча в Яндекс Телемосте по этой записи"}
    },
}
PROFILE_ENTRY = {
    "TITLE": "Telemost meeting",
    "DESCRIPTION": "A Yandex Telemost meeting with this employee",
    "LANG_ALL": {
        "ru": {"TITLE": "Встреча в Телемосте", "DESCRIPTION": "Встреча в Яндекс Телемосте с сотрудником"}
    },
}
CRM_TOOLBARS = {
    "CRM_DEAL_DETAIL_TOOLBAR": "deal",
    "CRM_LEAD_DETAIL_TOOLBAR": "lead",
    "CRM_CONTACT_DETAIL_TOOLBAR": "contact",
    "CRM_COMPANY_DETAIL_TOOLBAR": "company",
}
PLACEMENTS_BOUND = {
    "IM_TEXTAREA": CHAT_ENTRY,
    "IM_SIDEBAR": CHAT_ENTRY,
    **dict.fromkeys(CRM_TOOLBARS, CARD_ENTRY),
    "USER_PROFILE_TOOLBAR": PROFILE_ENTRY,
}


def _replayed(portal: Portal, marker: str, ts: int) -> bool:
    """`ts` has one-second steps: the same second is fine for another event, not for the same one again
    (`marker` names the event and, for an install, its token)."""
    return ts < portal.last_event_ts or (ts == portal.last_event_ts and marker == portal.last_event)


class Portals:
    def __init__(self, identity: Identity, box: TokenBox) -> None:
        self.identity, self.box, self.db = identity, box, identity.db

    def install(
        self, launch: Launch, ts: int | None = None, scope: str | None = None, events_url: str | None = None
    ) -> VerifiedUser:
        """Stores the portal and the administrator's pair; raises NotVouched for anything less than proof."""
        if self.identity.servers is None:
            raise NotVouched(
                "The app has no Bitrix24 application credentials (BITRIX24_CLIENT_ID) to install with"
            )
        if not (launch.application_token and launch.refresh_id):
            raise NotVouched("An install must carry the application token and a refresh token")
        info, server = self.identity.app_info(launch)
        endpoint = str((info.get("install") or {}).get("client_endpoint") or "")
        if not endpoint.startswith(("http://", "https://")):
            raise NotVouched("The OAuth server named no REST endpoint for that portal")
        access = PortalAccess(
            launch.member_id, launch.domain.strip().lower(), endpoint, None, endpoint.startswith("https")
        )
        user = self.identity.user(access, launch.auth_id)
        if not user.is_admin:
            raise NotVouched("Only a portal administrator can install the app")
        marker = "ONAPPINSTALL:" + self.box.digest(launch.auth_id)[:16]
        with self.db.read() as session:
            portal = session.scalars(select(Portal).where(Portal.member_id == launch.member_id)).one_or_none()
        if portal is not None and ts is not None and _replayed(portal, marker, ts):
            raise NotVouched("That install event is a replay or older than one already accepted")
        pair = self.verified_pair(access.key, user.id, launch.refresh_id, server)
        if pair is None:
            raise NotVouched("The install's refresh token is not the installing administrator's")
        with self.db.write() as session:
            portal = session.scalars(select(Portal).where(Portal.member_id == launch.member_id)).one_or_none()
            if portal is None:
                portal = Portal(member_id=launch.member_id, install_generation=1)
                session.add(portal)
            elif not portal.installed or not self.box.matches(
                launch.application_token, portal.application_token_digest
            ):
                # A new installation: app tokens issued under the last one stop working (DESIGN §5). The
                # install page and its ONAPPINSTALL carry the same application token and count once.
                portal.install_generation += 1
            portal.domain, portal.client_endpoint, portal.installed = access.domain, endpoint, True
            portal.oauth_server, portal.deleted_at = pair["server"], None
            portal.application_token_digest = self.box.digest(launch.application_token)
            portal.scope = scope or portal.scope
            portal.installed_at = utcnow()
            if ts is not None:
                portal.last_event_ts, portal.last_event = ts, marker
            session.flush()
            save_credential(
                session,
                self.box,
                portal.id,
                PORTAL_CREDENTIAL,
                pair["access_token"],
                pair["refresh_token"],
                token_lifetime(pair.get("expires_in")),
            )
        log.info("installed on portal %s (%s) by user %s", launch.member_id, access.domain, user.id)
        if events_url:
            self.bind_events(endpoint, launch.auth_id, events_url)
        return user

    def bind_events(self, endpoint: str, auth: str, events_url: str) -> list[str]:
        """Binds the handlers the app needs that are not bound yet; answers what failed, for the install page.

        What a repeated event.bind answers is not documented (api-reference/events/event-bind.md lists only
        ERROR_EVENT_NOT_FOUND and ACCESS_DENIED), so, as b24phpsdk's EventManager does, event.get says what
        is bound and only the rest is bound; an answer that still says "already" (a race) is no failure."""
        wanted = {event: {"event": event, "handler": events_url} for event in EVENTS_BOUND}
        return self._bind_missing(self.identity.client(endpoint, auth), "event", events_url, wanted)

    def bind_placements(self, endpoint: str, auth: str, handler: str) -> list[str]:
        """Binds the placements not bound to `handler` yet, as bind_events does for events (what a repeated
        placement.bind answers is not documented either, api-reference/widgets/placement-bind.md). A
        reinstall binds again what an uninstall removed."""
        wanted = {
            placement: {"PLACEMENT": placement, "HANDLER": handler, **fields}
            for placement, fields in PLACEMENTS_BOUND.items()
        }
        return self._bind_missing(self.identity.client(endpoint, auth), "placement", handler, wanted)

    def register_robot(self, endpoint: str, auth: str, handler: str) -> list[str]:
        """Registers the automation rule (shared/portal/robot.py) unless bizproc.robot.list names it; a reinstall
        registers it again where an uninstall removed it. ERROR_ACTIVITY_ALREADY_INSTALLED (a race, or a list
        that could not be read) is no failure (b24restdocs bizproc-robot-add.md, bizproc-robot-list.md)."""
        api = self.identity.client(endpoint, auth)
        try:
            listed = api.result("bizproc.robot.list")
        except OutsideServiceError as error:
            log.warning("bizproc.robot.list failed (%s); registering the robot", error.code or error.message)
            listed = []
        codes = {str(row.get("CODE") if isinstance(row, dict) else row) for row in listed or []}
        if robot.CODE in codes:
            return []
        try:
            api.result("bizproc.robot.add", {**robot.DEFINITION, "HANDLER": handler})
        except OutsideServiceError as error:
            if error.code == "ERROR_ACTIVITY_ALREADY_INSTALLED":
                return []
            return [f"{robot.CODE}: {error.message}"]
        return []

    @staticmethod
    def _bind_missing(api, kind: str, handler: str, wanted: dict[str, dict]) -> list[str]:
        """`kind`.get says what is bound; each of `wanted` ({name: the bind's params}) not bound to `handler`
        is bound with `kind`.bind. Answers "NAME: why" for each the portal refused."""
        try:
            bound = api.result(f"{kind}.get")
        except OutsideServiceError as error:
            log.warning("%s.get failed (%s); binding every one", kind, error.code or error.message)
            bound = []
        have = {
            (str(b.get(kind, "")).upper(), b.get("handler"))
            for b in (bound if isinstance(bound, list) else [])
            if isinstance(b, dict)
        }
        problems = []
        for name, params in wanted.items():
            if (name, handler) in have:
                continue
            try:
                api.call(f"{kind}.bind", params)
            except OutsideServiceError as error:
                if "already" in error.message.lower():
                    log.info("%s.bind %s: already bound (%s)", kind, name, error.code)
                    continue
                log.warning("%s.bind %s failed: %s", kind, name, error.message)
                problems.append(f"{name}: {error.message}")
        return problems

    def hear_uninstall(self, member_id: str, application_token: str, ts: int) -> None:
        """An ONAPPUNINSTALL routed to its portal: a hint to confirm with the portal (worker side,
        shared/portal/uninstall.py), never a proof. Every employee's browser carries the application token."""
        with self.db.read() as session:
            portal = session.scalars(select(Portal).where(Portal.member_id == member_id)).one_or_none()
        if (
            portal is None
            or not portal.installed
            or not self.box.matches(application_token, portal.application_token_digest)
        ):
            raise NotVouched("Unknown portal or wrong application token")
        if _replayed(portal, "ONAPPUNINSTALL", ts):
            raise NotVouched("That uninstall event is a replay or older than one already accepted")

    def verify_event(self, member_id: str, application_token: str) -> None:
        """Any other event is genuine only with the application token stored at install."""
        with self.db.read() as session:
            portal = session.scalars(select(Portal).where(Portal.member_id == member_id)).one_or_none()
        if (
            portal is None
            or not portal.installed
            or not self.box.matches(application_token, portal.application_token_digest)
        ):
            raise NotVouched("Unknown portal or wrong application token")

    def keep_user_tokens(self, user: VerifiedUser, refresh_id: str | None, replace: bool) -> None:
        """A launch (or a renewal) carries the user's own pair: with it the app acts as that user (their
        calendar, their rights). A launch replaces the pair kept (a person opening the app is rare, and the
        newest pair is the surest); a renewal of the page's session, every 24 minutes, only fills a gap: a
        pair the portal refused was dropped, and the page renews when a step asks for one."""
        if (
            user.portal.portal_id is None
            or not refresh_id
            or self.identity.servers is None
            or (not replace and self._has_pair(user))
        ):
            return
        pair = self.verified_pair(user.portal.key, user.id, refresh_id, user.portal.oauth_server)
        if pair is not None:
            with self.db.write() as session:
                save_credential(
                    session,
                    self.box,
                    user.portal.portal_id,
                    user.id,
                    pair["access_token"],
                    pair["refresh_token"],
                    token_lifetime(pair.get("expires_in")),
                )
            PortalNotes(self.db, user.portal.portal_id).server(pair["server"])

    def verified_pair(
        self, portal_key: str, user_id: int, refresh_id: str, server: str | None
    ) -> dict | None:
        """A posted refresh token is kept only as the OAuth server vouches for it: exchanged there (`server`, the
        one that vouched for the launch, first), its answer must name this user on this portal; the pair it answers
        is what is kept, with the server's lifetime, not the posted AUTH_EXPIRES, and the server it names as
        the portal's. None when it does not (someone else's token, a made-up one)."""
        servers = self.identity.servers
        assert servers is not None  # both callers checked that the app has credentials
        try:
            asked, answer = ask_in_turn(servers.in_turn(server), lambda oauth: oauth.refresh(refresh_id))
        except OutsideServiceError as error:
            log.warning(
                "the refresh token posted for user %s on %s was refused (%s); not kept",
                user_id,
                portal_key,
                error.code or error.status,
            )
            return None
        if (
            str(answer.get("user_id")) != str(user_id)
            or str(answer.get("member_id")) != portal_key
            or not answer.get("refresh_token")
        ):
            log.warning(
                "the refresh token posted for user %s on %s is not theirs; not kept", user_id, portal_key
            )
            return None
        return {
            "access_token": str(answer["access_token"]),
            "refresh_token": str(answer["refresh_token"]),
            "expires_in": answer.get("expires_in"),
            "server": servers.known(answer.get("server_endpoint")) or asked.base_url,
        }

    def hear_server_endpoint(self, member_id: str, server_endpoint) -> bool:
        """An event's auth[server_endpoint], for an event already verified (verify_event): kept as the portal's
        OAuth server when it names a known one; anything else is ignored. Answers whether it was kept."""
        url = self.identity.servers.known(server_endpoint) if self.identity.servers is not None else None
        if url is None:
            return False
        with self.db.read() as session:
            portal_id = session.scalars(
                select(Portal.id).where(Portal.member_id == member_id, Portal.installed.is_(True))
            ).one_or_none()
        if portal_id is None:
            return False
        PortalNotes(self.db, portal_id).server(url)
        return True

    def _has_pair(self, user: VerifiedUser) -> bool:
        with self.db.read() as session:
            return (
                session.scalars(
                    select(BitrixCredential.id).where(
                        BitrixCredential.portal_id == user.portal.portal_id,
                        BitrixCredential.user_id == user.id,
                    )
                ).first()
                is not None
            )

    def install_generation(self, key: str) -> int | None:
        """The install app tokens of `key` must name: None once the app was uninstalled there, 0 for the
        configured webhook portal (it has no row)."""
        with self.db.read() as session:
            row = session.execute(
                select(Portal.installed, Portal.install_generation).where(Portal.member_id == key)
            ).one_or_none()
        if row is None:
            return 0
        return row.install_generation if row.installed else None

    def is_installed(self, key: str) -> bool:
        """False only for a portal that uninstalled the app (the configured webhook portal has no row)."""
        return self.install_generation(key) is not None
