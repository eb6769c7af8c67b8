"""Confirming an uninstall with the portal before anything is forgotten (DESIGN §5).

ONAPPUNINSTALL carries no token, only the application token, which every launch hands to every employee's
browser: anyone can send one. A real uninstall revokes the app's tokens ("When an application is
uninstalled, all access permissions for the application to the API are revoked",
b24restdocs api-reference/common/events/on-app-uninstall.md; settings/app-uninstallation.md), so the
portal's word is asked with the app's own pair: while the portal still honours it, the app is installed
and the event changes nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from shared.clients.errors import PermanentError
from shared.db import Database
from shared.models import BitrixCredential, Portal
from shared.portal.access import BitrixAccess

log = logging.getLogger(__name__)
# How the portal and its OAuth server refuse a token that is no more (reference/bitrix24-rest.md §2, §4).
REVOKED_CODES = {"invalid_token", "invalid_grant", "no_auth_found", "expired_token", "invalid_credentials"}


def revoked(error: PermanentError) -> bool:
    return error.status == 401 or (error.code or "").lower() in REVOKED_CODES


def confirm_uninstall(access: BitrixAccess, member_id: str, ts: int) -> bool:
    """Forgets the portal's tokens when the portal no longer honours the app's own pair; answers whether it did.

    A transient failure raises (the task tries again); any other refusal, or no pair to ask with, keeps
    everything: a wrong uninstall would lock every user out while the portal still shows the app.
    """
    try:
        access.app_client(member_id).call("app.info")
    except PermanentError as error:
        if revoked(error):
            forget_installation(access.db, member_id, ts)
            return True
        log.warning(
            "ONAPPUNINSTALL for %s not confirmed (%s); nothing forgotten", member_id, error.code or error
        )
        return False
    log.warning(
        "ONAPPUNINSTALL for %s not confirmed: the portal still accepts the app's authorisation; "
        "nothing forgotten",
        member_id,
    )
    return False


def forget_installation(db: Database, member_id: str, ts: int) -> None:
    """Marks the portal uninstalled and drops its tokens; its history stays."""
    with db.write() as session:
        portal = session.scalars(select(Portal).where(Portal.member_id == member_id)).one_or_none()
        if portal is None or not portal.installed:
            return
        portal.installed, portal.last_event_ts, portal.last_event = (
            False,
            max(ts, portal.last_event_ts),
            "ONAPPUNINSTALL",
        )
        session.execute(delete(BitrixCredential).where(BitrixCredential.portal_id == portal.id))
    log.info("uninstalled from portal %s (confirmed with the portal)", member_id)
