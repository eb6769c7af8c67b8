"""A portal's settings (shared/portal/settings.py): what a create leaves out is the portal's, broadcasts may be
an administrator's only, and every change is recorded once with who made it, a secret never by its value."""
from __future__ import annotations

import pytest

from shared.crypto import TokenBox
from shared.models import PortalSettings, SettingsChange
from shared.portal import settings
from shared.portal.caller import Caller
from shared.schemas import ConferenceIn
from shared.settings_schemas import DefaultsIn, SettingsIn
from tests.unit.pipeline.test_state_transitions import db  # noqa: F401  (a fixture)

BOX = TokenBox("unit-test-secret")
IVAN = Caller("portal-a", 1, "Ivan Petrov", is_admin=True)
ANNA = Caller("portal-a", 2, "Anna Smirnova")
NOTES = DefaultsIn(waiting_room_level="ORGANIZATION", duration_minutes=30, reminder_minutes=0, auto_summary=True)


def effective(db, portal: str = "portal-a") -> settings.Effective:  # noqa: F811
    with db.read() as session:
        return settings.current(session, portal)


def changes(db) -> list[SettingsChange]:  # noqa: F811
    with db.read() as session:
        return list(session.query(SettingsChange).order_by(SettingsChange.id))


def test_a_portal_without_settings_has_the_defaults_a_person_expects(db):  # noqa: F811
    assert effective(db).defaults == DefaultsIn(waiting_room_level="PUBLIC", duration_minutes=60,
                                                reminder_minutes=15, auto_summary=False)
    assert effective(db).broadcasts == "everyone"


def test_what_a_create_leaves_out_is_the_portals_and_what_it_says_wins(db):  # noqa: F811
    settings.save(db, BOX, IVAN, SettingsIn(defaults=NOTES))
    filled = settings.with_defaults(ConferenceIn(name="Left out"), effective(db))
    assert (filled.waiting_room_level, filled.duration_minutes, filled.reminder_minutes, filled.auto_summary) == (
        "ORGANIZATION", 30, 0, True)
    said = settings.with_defaults(ConferenceIn(name="Said", duration_minutes=90, auto_summary=False), effective(db))
    assert (said.duration_minutes, said.auto_summary, said.waiting_room_level) == (90, False, "ORGANIZATION")
    assert settings.with_defaults(ConferenceIn(name="Other portal"), effective(db, "portal-b")).duration_minutes == 60


def test_broadcasts_limited_to_administrators_refuse_anyone_else_naming_the_setting(db):  # noqa: F811
    settings.save(db, BOX, IVAN, SettingsIn(broadcasts="admins"))
    broadcast = ConferenceIn(type="broadcast", name="Town hall", live_stream={"title": "Town hall"})
    with pytest.raises(settings.BroadcastNotAllowed, match="Who may make broadcasts"):
        settings.check_broadcast(ANNA, broadcast, effective(db))
    settings.check_broadcast(IVAN, broadcast, effective(db))
    settings.check_broadcast(ANNA, ConferenceIn(name="A meeting"), effective(db))


def test_each_change_is_recorded_once_with_who_made_it_and_a_save_of_the_same_records_nothing(db):  # noqa: F811
    assert settings.save(db, BOX, IVAN, SettingsIn(defaults=NOTES)) == {
        "defaults.waiting_room_level": {"from": "PUBLIC", "to": "ORGANIZATION"},
        "defaults.duration_minutes": {"from": 60, "to": 30},
        "defaults.reminder_minutes": {"from": 15, "to": 0},
        "defaults.auto_summary": {"from": False, "to": True},
    }
    assert settings.save(db, BOX, IVAN, SettingsIn(defaults=NOTES)) == {}
    recorded = changes(db)
    assert [(c.user_id, c.user_name) for c in recorded] == [(1, "Ivan Petrov")]
    with db.read() as session:
        row = session.query(PortalSettings).one()
    assert (row.updated_by_id, row.updated_by_name) == (1, "Ivan Petrov")


def test_a_service_application_secret_is_sealed_kept_when_left_out_and_never_recorded(db):  # noqa: F811
    app = {"yandex": {"service_app": {"client_id": "service-app", "client_secret": "s3cr3t"}}}
    settings.save(db, BOX, IVAN, SettingsIn.model_validate(app))
    stored = effective(db)
    assert stored.service_app_secret != "s3cr3t" and BOX.open(stored.service_app_secret) == "s3cr3t"
    kept = settings.save(db, BOX, IVAN, SettingsIn.model_validate({"yandex": {"service_app": {"client_id": "service-app"}}}))
    assert kept == {} and BOX.open(effective(db).service_app_secret) == "s3cr3t"
    removed = settings.save(db, BOX, IVAN, SettingsIn())
    assert removed["yandex.service_app.client_secret"] == {"from": "set", "to": None}
    assert effective(db).service_app_secret is None
    assert "s3cr3t" not in str([c.changes for c in changes(db)])
