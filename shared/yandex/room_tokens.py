"""Whose Yandex token acts on a conference's room.

A room made is changed with its organiser's token only (room_organiser.py). A new room is made, in order:
- with the owner's own connected account, when they connected one;
- as the owner, by the portal's Yandex 360 service application (token exchange: employee_tokens.py), when
  the administrator set one and the owner's e-mail has an account in the organisation;
- with the portal's Yandex 360 organisation (accounts.ORGANISATION), when the administrator connected it;
- with the deployment's YANDEX_OAUTH_TOKEN, for a single-company deployment, when the portal connected none:
  one portal's organisation is never used for another portal.
A way that was wanted and not taken (no account in the organisation) is said beside the room (client.note).
A connected account, or the portal's organisation, that Yandex stops accepting is never silently swapped
for another token: the step fails and says who must reconnect it.
"""

from __future__ import annotations

from typing import Protocol

import requests

from shared.clients.errors import PermanentError
from shared.clients.telemost import TelemostClient
from shared.config import Settings
from shared.models import Conference, YandexAccount
from shared.yandex import room_organiser
from shared.yandex.employee_tokens import EmployeeTokens, NoEmployeeToken


class Accounts(Protocol):
    """What this module needs of accounts.YandexAccounts (which makes a RoomTokens of itself)."""

    settings: Settings
    http: requests.Session

    def find(self, portal: str, user_id: int) -> YandexAccount | None: ...

    def account_client(self, account: YandexAccount, organiser: str) -> TelemostClient: ...


NO_TOKEN = (
    "There is no Yandex token to create rooms with: connect your Yandex account, or ask the portal's "
    "administrator to connect the Yandex 360 organisation in the app's settings (or set YANDEX_OAUTH_TOKEN)."
)
ORGANISATION_RECONNECT = (
    "Yandex no longer accepts the portal's Yandex 360 organisation ({email}): the portal's administrator must "
    "connect it again in the app's settings, then retry."
)


class RoomTokens:
    def __init__(self, accounts: Accounts, employees: EmployeeTokens) -> None:
        self.accounts, self.employees = accounts, employees

    def telemost_for(self, conference: Conference) -> TelemostClient:
        if conference.telemost_id is not None and conference.room_organiser is not None:
            return self._organisers(conference)
        own = self.accounts.find(conference.portal, conference.owner_id)
        if own is not None:
            return self.accounts.account_client(own, room_organiser.of_account(own.email))
        note = None
        if conference.owner_email and self.employees.service_app(conference.portal) is not None:
            try:
                return self._employee(conference.portal, conference.owner_email)
            except NoEmployeeToken as missing:
                note = missing.why
        client = self._portal_wide(conference.portal)
        if note:
            client.note = note.replace("{fallback}", _named(client))
        return client

    def _employee(self, portal: str, email: str) -> TelemostClient:
        self.employees.token(portal, email)  # raises NoEmployeeToken before any room is asked for
        return EmployeeTelemostClient(self, portal, email)

    def _portal_wide(self, portal: str) -> TelemostClient:
        """The portal's organisation, else the deployment's token, else a PermanentError saying what to do."""
        organisation = self.accounts.find(portal, room_organiser.ORGANISATION_USER)
        if organisation is not None:
            if not organisation.usable:
                raise PermanentError(
                    "Telemost",
                    ORGANISATION_RECONNECT.format(email=organisation.email or ""),
                    code=room_organiser.ORGANISATION_RECONNECT_CODE,
                )
            return self.accounts.account_client(
                organisation, room_organiser.of_portal_organisation(organisation.email)
            )
        if not self.accounts.settings.yandex_oauth_token:
            raise PermanentError("Telemost", NO_TOKEN)
        return self._deployment()

    def _deployment(self) -> TelemostClient:
        settings = self.accounts.settings
        token = settings.yandex_oauth_token
        assert token is not None  # both callers checked that the setting is there
        return TelemostClient(
            settings.telemost_api_url,
            token,
            settings.http_timeout_seconds,
            self.accounts.http,
            organiser=room_organiser.of_organisation_token(token),
        )

    def _organisers(self, conference: Conference) -> TelemostClient:
        """The room's organiser's token, or a PermanentError saying how to bring it back."""
        organiser = conference.room_organiser
        assert organiser is not None  # telemost_for asks only when it is recorded
        kind, email = room_organiser.parse(organiser)
        if kind == room_organiser.ORGANISATION:
            if not self.accounts.settings.yandex_oauth_token:
                raise room_organiser.missing_organisation_token()
            return (
                self._deployment()
            )  # a new value of the setting may be another account's: see room_organiser
        if kind == room_organiser.EMPLOYEE:
            if self.employees.service_app(conference.portal) is None:
                raise room_organiser.missing_service_app(email)
            return EmployeeTelemostClient(self, conference.portal, email)
        user_id = (
            room_organiser.ORGANISATION_USER
            if kind == room_organiser.PORTAL_ORGANISATION
            else conference.owner_id
        )
        account = self.accounts.find(conference.portal, user_id)
        if account is None or not room_organiser.same_account(account.email, email):
            if kind == room_organiser.PORTAL_ORGANISATION:
                raise room_organiser.missing_portal_organisation(email)
            raise room_organiser.missing_account(email)
        return self.accounts.account_client(account, organiser)


def _named(client: TelemostClient) -> str:
    kind, email = room_organiser.parse(client.organiser or "")
    if kind == room_organiser.PORTAL_ORGANISATION:
        return (
            f"the portal's Yandex 360 organisation ({email})"
            if email
            else "the portal's Yandex 360 organisation"
        )
    return "the deployment's Yandex token (YANDEX_OAUTH_TOKEN)"


class EmployeeTelemostClient(TelemostClient):
    """Telemost as the employee, with the token the service app got for them; refused, it is asked for anew once."""

    def __init__(self, rooms: RoomTokens, portal: str, email: str) -> None:
        settings = rooms.accounts.settings
        super().__init__(
            settings.telemost_api_url,
            "",
            settings.http_timeout_seconds,
            rooms.accounts.http,
            room_organiser.of_employee(email),
        )
        self.employees, self.portal, self.email = rooms.employees, portal, email

    def _request(self, method: str, path: str, **kwargs):
        self.token = self._token()
        try:
            return super()._request(method, path, **kwargs)
        except PermanentError as error:
            if error.status != 401:
                raise
        self.token = self._token(seen=self.token)
        return super()._request(method, path, **kwargs)

    def _token(self, seen: str | None = None) -> str:
        try:
            return self.employees.token(self.portal, self.email, seen)
        except NoEmployeeToken:
            raise room_organiser.missing_service_app(self.email) from None
