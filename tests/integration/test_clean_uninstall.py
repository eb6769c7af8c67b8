"""An uninstall with "Delete application settings and data" ticked (b24restdocs settings/app-uninstallation.md):
ONAPPUNINSTALL's data.CLEAN is "Value of the "Clear application data" option set by the user during
uninstallation. Values: `1` or `0`" (api-reference/common/events/on-app-uninstall.md). Once the portal
confirms the uninstall (it refuses the app's own pair), every row of the portal goes, and a reinstall starts
empty. A plain uninstall keeping the history is tested in test_identity.py.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import requests
from sqlalchemy import func, select

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
    utcnow,
)
from tests.support.processes import wait_until

BY_MEMBER_ID = (Conference, YandexAccount, PortalSettings, SettingsChange, InboundEvent)


def what_the_portal_has(database, member_id: str) -> dict[str, int]:
    with database.read() as session:
        portal = session.scalars(select(Portal).where(Portal.member_id == member_id)).one()
        hosts = {portal.domain, urlsplit(portal.client_endpoint).netloc}
        counts = {model.__tablename__: session.scalar(select(func.count()).select_from(model)
                                                      .where(model.portal == member_id)) for model in BY_MEMBER_ID}
        counts["conference_steps"] = session.scalar(
            select(func.count()).select_from(Step).join(Conference).where(Conference.portal == member_id))
        counts["bitrix_rest_calls"] = session.scalar(
            select(func.count()).select_from(BitrixRestCall).where(BitrixRestCall.host.in_(hosts)))
        counts["bitrix_credentials"] = session.scalar(
            select(func.count()).select_from(BitrixCredential).where(BitrixCredential.portal_id == portal.id))
    return counts


def database_portal(database, member_id: str) -> Portal:
    with database.read() as session:
        return session.scalars(select(Portal).where(Portal.member_id == member_id)).one()


def add_what_the_api_does_not_make_yet(database, member_id: str) -> None:
    """Settings, their audit and the organisation's and a user's Yandex tokens, written as their code would."""
    with database.write() as session:
        session.add(PortalSettings(portal=member_id, waiting_room_level="ORGANIZATION", duration_minutes=30,
                                   reminder_minutes=5, broadcasts="admins"))
        session.add(SettingsChange(portal=member_id, user_id=1, user_name="Ivan Petrov",
                                   changes={"duration_minutes": {"from": 60, "to": 30}}))
        # The organisation, kept as the portal's user 0 (yandex.accounts.ORGANISATION).
        session.add(YandexAccount(portal=member_id, user_id=0, email="org@example.com", access_token="sealed"))
        session.add(YandexAccount(portal=member_id, user_id=2, access_token="sealed",
                                  expires_at=utcnow() + timedelta(days=1)))


def test_a_clean_uninstall_deletes_everything_of_the_portal_and_a_reinstall_starts_empty(stack, anna, database):
    member_id = stack.launch(1)["form"]["member_id"]
    made = anna.create({"name": "Gone with the data"})
    anna.wait_final(made["id"])
    add_what_the_api_does_not_make_yet(database, member_id)
    before = what_the_portal_has(database, member_id)
    assert before["conferences"] >= 1 and before["conference_steps"] >= 1 and before["bitrix_rest_calls"] >= 1
    generation = database_portal(database, member_id).install_generation

    delivered = requests.post(f"{stack.bitrix_url}/_sandbox/uninstall", json={"clean": 1}, timeout=15).json()["delivered"]
    assert delivered["status"] == 200 and '"checking":true' in delivered["body"].replace(" ", "")

    wait_until(lambda: what_the_portal_has(database, member_id)["conferences"] == 0, 30, "the data deleted")
    assert what_the_portal_has(database, member_id) == dict.fromkeys(before, 0)
    portal = database_portal(database, member_id)
    assert not portal.installed and portal.install_generation == generation  # the row stays, to count installs
    assert anna.request("GET", "/api/conferences").status_code == 401

    stack.install()
    ivan = stack.login(1)
    assert ivan.request("GET", "/api/conferences?scope=all").json()["total"] == 0
    assert database_portal(database, member_id).install_generation == generation + 1
    assert anna.request("GET", "/api/conferences").status_code == 401  # a session of the old install stays shut
    with database.read() as session:
        assert session.scalars(select(PortalSettings).where(PortalSettings.portal == member_id)).all() == []
