"""A portal's settings, as its administrator decided them: defaults of new meetings, who may broadcast, the
organisation's Yandex 360 service application. Every change is recorded with who made it (SettingsChange)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.crypto import TokenBox
from shared.db import Database
from shared.models import PortalSettings, SettingsChange, utcnow
from shared.portal.caller import Caller
from shared.schemas import ConferenceIn
from shared.settings_schemas import DefaultsIn, SettingsIn

SECRET_CHANGED = "changed"  # what the audit says of a secret: never its value
BROADCASTS_REFUSED = (
    "Only portal administrators may make broadcasts here: the portal's administrator set "
    '"Who may make broadcasts" to administrators in the app\'s settings.'
)


class BroadcastNotAllowed(Exception):
    """The portal's setting `broadcasts` is `admins` and the caller is not one."""

    def __init__(self) -> None:
        super().__init__(BROADCASTS_REFUSED)


@dataclass(frozen=True)
class Effective:
    """The settings in force for a portal: its own row's, or the defaults where it has none."""

    defaults: DefaultsIn
    broadcasts: str = "everyone"
    service_app_client_id: str | None = None
    service_app_secret: str | None = None  # sealed
    row: PortalSettings | None = None


def _row(session: Session, portal: str) -> PortalSettings | None:
    return session.scalars(select(PortalSettings).where(PortalSettings.portal == portal)).one_or_none()


def current(session: Session, portal: str) -> Effective:
    row = _row(session, portal)
    if row is None:
        return Effective(DefaultsIn())
    return Effective(
        DefaultsIn(
            waiting_room_level=row.waiting_room_level,  # type: ignore[arg-type]  # stored from the Literal
            duration_minutes=row.duration_minutes,
            reminder_minutes=row.reminder_minutes,
            auto_summary=row.auto_summary,
        ),
        row.broadcasts,
        row.service_app_client_id,
        row.service_app_secret,
        row,
    )


def _flat(effective: Effective) -> dict:
    """The settings as audited names and values (the secret as stored, sealed: compared, never recorded)."""
    flat = {f"defaults.{name}": value for name, value in effective.defaults.model_dump().items()}
    flat["broadcasts"] = effective.broadcasts
    flat["yandex.service_app.client_id"] = effective.service_app_client_id
    flat["yandex.service_app.client_secret"] = effective.service_app_secret
    return flat


def save(db: Database, box: TokenBox, caller: Caller, wanted: SettingsIn) -> dict:
    """Stores what the administrator set; answers what changed ({name: {"from", "to"}}), recorded if anything."""
    with db.write() as session:
        before = current(session, caller.portal)
        row = before.row or PortalSettings(portal=caller.portal)
        app = wanted.yandex.service_app
        sealed = _secret(box, before.service_app_secret, app)
        for name, value in wanted.defaults.model_dump().items():
            setattr(row, name, value)
        row.broadcasts = wanted.broadcasts
        row.service_app_client_id = app.client_id if app is not None else None
        row.service_app_secret = sealed
        after = Effective(wanted.defaults, wanted.broadcasts, row.service_app_client_id, sealed)
        changes = {
            name: {"from": old, "to": new}
            for (name, old), new in zip(_flat(before).items(), _flat(after).values(), strict=True)
            if old != new
        }
        secret_name = "yandex.service_app.client_secret"
        if secret_name in changes:  # recorded as set or removed, never as its value
            changes[secret_name] = {
                "from": "set" if before.service_app_secret else None,
                "to": SECRET_CHANGED if sealed else None,
            }
        if not changes:
            return {}
        row.updated_by_id, row.updated_by_name, row.updated_at = caller.user_id, caller.name, utcnow()
        session.add(row)
        session.add(
            SettingsChange(
                portal=caller.portal, user_id=caller.user_id, user_name=caller.name, changes=changes
            )
        )
    return changes


def record(db: Database, caller: Caller, changes: dict) -> None:
    """A change made elsewhere than in save (the organisation connected or disconnected), in the same audit."""
    with db.write() as session:
        session.add(
            SettingsChange(
                portal=caller.portal, user_id=caller.user_id, user_name=caller.name, changes=changes
            )
        )


def _secret(box: TokenBox, stored: str | None, app) -> str | None:
    """The sealed secret to keep: none without an app; the stored one unless a different one is given."""
    if app is None:
        return None
    if app.client_secret is None or box.open(stored) == app.client_secret:
        return stored
    return box.seal(app.client_secret)


def changes_page(session: Session, portal: str, page: int, per_page: int) -> tuple[list[SettingsChange], int]:
    where = SettingsChange.portal == portal
    total = session.scalar(select(func.count()).select_from(SettingsChange).where(where)) or 0
    rows = session.scalars(
        select(SettingsChange)
        .where(where)
        .order_by(SettingsChange.at.desc(), SettingsChange.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def with_defaults(data: ConferenceIn, effective: Effective) -> ConferenceIn:
    """The conference as asked, its left-out defaultable fields taken from the portal's settings."""
    left_out = {
        name: getattr(effective.defaults, name)
        for name in ConferenceIn.PORTAL_DEFAULTS
        if name not in data.model_fields_set
    }
    return data.model_copy(update=left_out) if left_out else data


def check_broadcast(caller: Caller, data: ConferenceIn, effective: Effective) -> None:
    if data.type == "broadcast" and effective.broadcasts == "admins" and not caller.is_admin:
        raise BroadcastNotAllowed()
