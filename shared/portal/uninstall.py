"""Confirming an uninstall with the portal before anything is forgotten (DESIGN §5), and forgetting it.

ONAPPUNINSTALL carries no token, only the application token, which every launch hands to every employee's
browser: anyone can send one. A real uninstall revokes the app's tokens ("When an application is
uninstalled, all access permissions for the application to the API are revoked",
b24restdocs api-reference/common/events/on-app-uninstall.md; settings/app-uninstallation.md), so the
portal's word is asked with the app's own pair: while the portal still honours it, the app is installed
and the event changes nothing.

Its data.CLEAN is the "Delete application settings and data" option the administrator was offered
("Value of the "Clear application data" option set by the user during uninstallation. Values: `1` or `0`",
on-app-uninstall.md). Without it the portal's history stays and only the tokens go; with it every row of
the portal goes too, except the portal's own row (its install_generation must keep rising, or a session
token of the old install would open the new one). The portal cannot be asked whether CLEAN was ticked
(the app's pair is refused by then), so a doubt keeps the data: a plain uninstall stored for the same
portal outweighs a clean one, which anyone with the application token could have sent beside it.
"""

from __future__ import annotations

import logging
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import delete, exists, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import InstrumentedAttribute, Session

from shared.clients.errors import PermanentError
from shared.db import Database
from shared.models import (
    BitrixCredential,
    BitrixRestCall,
    Conference,
    InboundEvent,
    Portal,
    PortalSettings,
    SettingsChange,
    Step,
    YandexAccount,
)
from shared.portal.access import BitrixAccess

log = logging.getLogger(__name__)
# How the portal and its OAuth server refuse a token that is no more (reference/bitrix24-rest.md §2, §4).
REVOKED_CODES = {"invalid_token", "invalid_grant", "no_auth_found", "expired_token", "invalid_credentials"}
# The subjects an ONAPPUNINSTALL is stored under (conferences.portal_events): apart, so that a clean one and
# a plain one never join one waiting row (the unique index of InboundEvent) and the plain one can be seen.
UNINSTALL = "uninstall"
CLEAN_UNINSTALL = "uninstall:clean"
# Every table of a portal's data, by its column holding the portal's member_id: a clean uninstall deletes
# their rows. A table added for a portal's data is one line here. Conference steps are deleted first, by
# their conference (ON DELETE CASCADE would do it too, but their count is logged); the portal's tokens
# (bitrix_credentials) go with every uninstall, and its REST log is found by host (_rest_log_hosts).
PORTAL_DATA_COLUMNS: tuple[InstrumentedAttribute[str], ...] = (
    Conference.portal,
    YandexAccount.portal,
    PortalSettings.portal,
    SettingsChange.portal,
    InboundEvent.portal,
)


def revoked(error: PermanentError) -> bool:
    return error.status == 401 or (error.code or "").lower() in REVOKED_CODES


def confirm_uninstall(access: BitrixAccess, member_id: str, ts: int, clean: bool = False) -> bool:
    """Forgets the portal's tokens (and with `clean` all its data) when the portal no longer honours the
    app's own pair; answers whether it did.

    A transient failure raises (the task tries again); any other refusal, or no pair to ask with, keeps
    everything: a wrong uninstall would lock every user out while the portal still shows the app.
    """
    try:
        access.app_client(member_id).call("app.info")
    except PermanentError as error:
        if revoked(error):
            forget_installation(access.db, member_id, ts, clean)
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


def forget_installation(db: Database, member_id: str, ts: int, clean: bool = False) -> None:
    """Marks the portal uninstalled and drops its tokens; its history stays unless `clean`, and then it
    goes in the same transaction. Only the uninstall that ends an install does either: a later one (the
    portal is uninstalled already) finds nothing to forget."""
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
        if clean and _plain_uninstall_stored(session, member_id):
            log.warning(
                "ONAPPUNINSTALL for %s asked to delete its data and also not to: data kept", member_id
            )
            clean = False
        deleted = _delete_portal_data(session, portal) if clean else None
    if deleted is None:
        log.info("uninstalled from portal %s (confirmed with the portal)", member_id)
    else:
        counts = ", ".join(f"{table} {count}" for table, count in deleted.items())
        log.info(
            "uninstalled from portal %s (confirmed with the portal), its data deleted: %s", member_id, counts
        )


def _plain_uninstall_stored(session: Session, member_id: str) -> bool:
    return bool(
        session.scalar(
            select(exists().where(InboundEvent.portal == member_id, InboundEvent.subject == UNINSTALL))
        )
    )


def _rest_log_hosts(portal: Portal) -> set[str]:
    """The hosts the portal's REST calls are logged under: the client records its REST root's netloc
    (shared/clients/bitrix24.py), which is the portal's domain unless it names a port."""
    return {portal.domain, urlsplit(portal.client_endpoint).netloc} - {""}


def _delete_portal_data(session: Session, portal: Portal) -> dict[str, int]:
    """Deletes every row of the portal's data; answers how many went, by table. The inbound event being
    processed goes too: the worker's `done` then deletes nothing, and a failure rolls all of it back."""
    member_id = portal.member_id
    deleted = {
        Step.__tablename__: _deleted(
            session,
            delete(Step).where(
                Step.conference_id.in_(select(Conference.id).where(Conference.portal == member_id))
            ),
        )
    }
    for column in PORTAL_DATA_COLUMNS:
        model = column.class_
        deleted[model.__tablename__] = _deleted(session, delete(model).where(column == member_id))
    deleted[BitrixRestCall.__tablename__] = _deleted(
        session, delete(BitrixRestCall).where(BitrixRestCall.host.in_(_rest_log_hosts(portal)))
    )
    return deleted


def _deleted(session: Session, statement) -> int:
    # No loaded object is among the rows (only the portal is), so the session has nothing to bring in line.
    # A DELETE answers a CursorResult, which has the rowcount; Session.execute's stubs say Result.
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast("CursorResult[Any]", result).rowcount
