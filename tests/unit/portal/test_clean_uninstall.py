"""A confirmed uninstall with "delete application data" ticked deletes every row of the portal (shared/portal/
uninstall.py), against a real database: the doc's data.CLEAN is "Value of the "Clear application data"
option set by the user during uninstallation. Values: `1` or `0`" (b24restdocs
api-reference/common/events/on-app-uninstall.md; the option is "Delete application settings and data",
settings/app-uninstallation.md). Without it the history stays and only the tokens go.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shared.clients.errors import PermanentError
from shared.conferences import portal_events as events
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
from shared.portal import uninstall
from tests.unit.pipeline.test_state_transitions import db  # noqa: F401  (a fixture)
from web.bitrix_events import _data_deletion_asked

ACME, OTHER = "member-acme", "member-other"
DOMAINS = {ACME: "acme.bitrix24.ru", OTHER: "other.bitrix24.ru"}
# Every table of a portal's data, by the column naming its portal; the REST log and the portal's tokens
# are counted apart (by host, by portal id).
BY_MEMBER_ID = (Conference, YandexAccount, PortalSettings, SettingsChange, InboundEvent)


def add_portal(database, member_id: str) -> None:
    """A portal with a row in every table of its data: a conference of two steps, a Yandex account and
    organisation, settings and their audit, a stored event, a REST call logged by domain and one by host:port."""
    domain = DOMAINS[member_id]
    with database.write() as session:
        portal = Portal(member_id=member_id, domain=domain, client_endpoint=f"https://{domain}:8443/rest/",
                        install_generation=3, last_event_ts=100)
        session.add(portal)
        session.flush()
        session.add(BitrixCredential(portal_id=portal.id, user_id=0, access_token="sealed", refresh_token="sealed",
                                     expires_at=utcnow() + timedelta(hours=1)))
        conference = Conference(portal=member_id, owner_id=2, owner_name="Anna", type="conference", name="Standup",
                                timezone="Europe/Moscow", waiting_room_level="PUBLIC")
        conference.steps = [Step(name="telemost_room"), Step(name="calendar_event")]
        session.add(conference)
        session.add(YandexAccount(portal=member_id, user_id=2, access_token="sealed"))
        # The organisation, kept as the portal's user 0 (yandex.accounts.ORGANISATION).
        session.add(YandexAccount(portal=member_id, user_id=0, email="org@example.com", access_token="sealed"))
        session.add(PortalSettings(portal=member_id, waiting_room_level="ORGANIZATION", duration_minutes=30,
                                   reminder_minutes=5, broadcasts="admins"))
        session.add(SettingsChange(portal=member_id, user_id=1, user_name="Ivan",
                                   changes={"duration_minutes": {"from": 60, "to": 30}}))
        session.add(InboundEvent(portal=member_id, subject=events.calendar_subject(7), event="ONCALENDARENTRYUPDATE",
                                 ts=100))
        for host in (domain, f"{domain}:8443"):
            session.add(BitrixRestCall(host=host, method="app.info", status=200, milliseconds=5, request="{}",
                                       response="{}"))


def rows_of(database, member_id: str) -> dict[str, int]:
    domain = DOMAINS[member_id]
    with database.read() as session:
        portal = session.scalars(select(Portal).where(Portal.member_id == member_id)).one()
        counts = {model.__tablename__: session.scalar(select(func.count()).select_from(model)
                                                      .where(model.portal == member_id)) for model in BY_MEMBER_ID}
        counts["conference_steps"] = session.scalar(
            select(func.count()).select_from(Step).join(Conference).where(Conference.portal == member_id))
        counts["bitrix_rest_calls"] = session.scalar(select(func.count()).select_from(BitrixRestCall).where(
            BitrixRestCall.host.in_([domain, f"{domain}:8443"])))
        counts["bitrix_credentials"] = session.scalar(select(func.count()).select_from(BitrixCredential).where(
            BitrixCredential.portal_id == portal.id))
    return counts


def portal_row(database, member_id: str) -> Portal:
    with database.read() as session:
        return session.scalars(select(Portal).where(Portal.member_id == member_id)).one()


EVERY_ROW = {"conferences": 1, "conference_steps": 2, "yandex_accounts": 2,
             "portal_settings": 1, "settings_changes": 1, "inbound_bitrix_events": 1, "bitrix_rest_calls": 2,
             "bitrix_credentials": 1}
NONE = dict.fromkeys(EVERY_ROW, 0)


@pytest.fixture
def two_portals(db):  # noqa: F811
    add_portal(db, ACME)
    add_portal(db, OTHER)
    return db


def test_a_clean_uninstall_deletes_every_row_of_the_portal_and_no_other_portals(two_portals, caplog):
    with caplog.at_level(logging.INFO, logger=uninstall.__name__):
        uninstall.forget_installation(two_portals, ACME, 200, clean=True)

    assert rows_of(two_portals, ACME) == NONE
    assert rows_of(two_portals, OTHER) == EVERY_ROW
    # The portal's row stays, its generation untouched: the next install raises it past every old session.
    kept = portal_row(two_portals, ACME)
    assert (kept.installed, kept.install_generation, kept.last_event_ts, kept.last_event) == (
        False, 3, 200, "ONAPPUNINSTALL")
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith(f"uninstalled from portal {ACME}") and "data deleted" in line
    assert "conferences 1, " in line and "conference_steps 2" in line and "bitrix_rest_calls 2" in line


def test_a_plain_uninstall_drops_only_the_tokens(two_portals):
    uninstall.forget_installation(two_portals, ACME, 200)
    assert rows_of(two_portals, ACME) == {**EVERY_ROW, "bitrix_credentials": 0}


def test_a_clean_uninstall_with_a_plain_one_stored_beside_it_keeps_the_data(two_portals):
    """Never delete on a doubt: the application token is public, so a CLEAN=1 beside the portal's CLEAN=0
    may be anyone's, and the portal can no longer be asked which was its own."""
    events.store(two_portals, ACME, events.uninstall_subject(False), "ONAPPUNINSTALL", 150)
    uninstall.forget_installation(two_portals, ACME, 200, clean=True)
    assert rows_of(two_portals, ACME) == {**EVERY_ROW, "bitrix_credentials": 0, "inbound_bitrix_events": 2}
    assert not portal_row(two_portals, ACME).installed


def test_a_clean_uninstall_after_the_portal_was_uninstalled_deletes_nothing(two_portals):
    uninstall.forget_installation(two_portals, ACME, 200)
    uninstall.forget_installation(two_portals, ACME, 300, clean=True)
    assert rows_of(two_portals, ACME) == {**EVERY_ROW, "bitrix_credentials": 0}


class RevokedAccess:
    """The portal refuses the app's own pair: the app is uninstalled."""

    def __init__(self, database) -> None:
        self.db = database

    def app_client(self, member_id):
        raise PermanentError("Bitrix24", "refused", code="invalid_token", status=401)


def test_the_stored_clean_uninstall_being_processed_is_deleted_with_the_rest_and_then_done(two_portals):
    row_id = events.store(two_portals, ACME, events.uninstall_subject(True), "ONAPPUNINSTALL", 200)
    taken = events.take(two_portals, row_id)
    assert taken.subject == uninstall.CLEAN_UNINSTALL
    assert events.process(RevokedAccess(two_portals), taken) == []
    events.done(two_portals, row_id)  # as the worker does next: the row is gone already, nothing fails
    assert rows_of(two_portals, ACME) == NONE
    assert rows_of(two_portals, OTHER) == EVERY_ROW


def test_a_plain_stored_uninstall_is_processed_keeping_the_data(two_portals):
    taken = events.take(two_portals, events.store(two_portals, ACME, events.UNINSTALL, "ONAPPUNINSTALL", 200))
    events.process(RevokedAccess(two_portals), taken)
    assert rows_of(two_portals, ACME) == {**EVERY_ROW, "bitrix_credentials": 0, "inbound_bitrix_events": 2}


@pytest.mark.parametrize("data, asked", [
    ({"CLEAN": "1"}, True), ({"CLEAN": "0"}, False), ({"CLEAN": 1}, True), ({"CLEAN": 0}, False),
    ({"CLEAN": "Y"}, False), ({"CLEAN": "true"}, False), ({"CLEAN": " 1"}, False), ({"CLEAN": "01"}, False),
    ({"CLEAN": {"1": "1"}}, False), ({}, False), ("1", False), (None, False),
])
def test_only_a_clean_of_1_asks_for_the_data_to_be_deleted(data, asked):
    """The portal posts data[CLEAN] as a form field, "1" or "0"; anything else reads as 0."""
    assert _data_deletion_asked(data) is asked
