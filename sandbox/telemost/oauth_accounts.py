"""The Yandex accounts that can sign in to the sandbox's Yandex OAuth server, the Yandex 360 for
Business organisations they belong to, and what login.yandex.ru/info tells about each."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCOPE_LOGIN_EMAIL = "login:email"
SCOPE_LOGIN_INFO = "login:info"


@dataclass(frozen=True)
class Organization:
    """A Yandex 360 for Business organisation: every account on its domain is an employee."""

    org_id: str
    domain: str


# The first is the sandbox Bitrix24 portal's organisation; the second stands for another customer
# (a second portal), so tests can show that one organisation's service app never reaches the other's people.
ORGANIZATIONS: tuple[Organization, ...] = (Organization("1000001", "example.com"),
                                           Organization("1000002", "example.org"))


@dataclass(frozen=True)
class YandexAccount:
    uid: str
    email: str
    real_name: str

    @property
    def login(self) -> str:
        return self.email.partition("@")[0]

    @property
    def organization(self) -> Organization | None:
        domain = self.email.rpartition("@")[2]
        return next((org for org in ORGANIZATIONS if org.domain == domain), None)

    @property
    def in_organization(self) -> bool:
        return self.organization is not None

    def info(self, scopes: frozenset[str], client_id: str) -> dict[str, Any]:
        """login.yandex.ru/info: the e-mail and name fields only with the login:* scopes that grant them."""
        body: dict[str, Any] = {"id": self.uid, "login": self.login, "client_id": client_id}
        if SCOPE_LOGIN_EMAIL in scopes:
            body.update(default_email=self.email, emails=[self.email])
        if SCOPE_LOGIN_INFO in scopes:
            first_name, _, last_name = self.real_name.partition(" ")
            body.update(real_name=self.real_name, display_name=self.real_name,
                        first_name=first_name, last_name=last_name)
        return body


# The sandbox portal's users (all in the first organisation), two employees of the second one, and one
# personal account, which the Telemost API lets make ordinary public meetings only [D5]. Ids are fixed
# so they are stable across restarts; 113… is the range Yandex 360 accounts have, a shorter one a
# personal account's.
SANDBOX_ACCOUNTS: dict[str, YandexAccount] = {account.email: account for account in (
    YandexAccount("1130000000000001", "ivan.petrov@example.com", "Ivan Petrov"),
    YandexAccount("1130000000000002", "anna.smirnova@example.com", "Anna Smirnova"),
    YandexAccount("1130000000000003", "sergey.ivanov@example.com", "Sergey Ivanov"),
    YandexAccount("1130000000000004", "olga.kuznetsova@example.com", "Olga Kuznetsova"),
    YandexAccount("1130000000000005", "dmitry.sokolov@example.com", "Dmitry Sokolov"),
    YandexAccount("1130000000000006", "maria.popova@example.com", "Maria Popova"),
    YandexAccount("1130000000000101", "pavel.volkov@example.org", "Pavel Volkov"),
    YandexAccount("1130000000000102", "elena.morozova@example.org", "Elena Morozova"),
    YandexAccount("1000000007", "personal.user@yandex.ru", "Personal User"),
)}


def find_account(name: str) -> YandexAccount | None:
    """By e-mail or login, case-insensitively: Yandex's login_hint takes either."""
    name = name.strip().lower()
    return SANDBOX_ACCOUNTS.get(name) or next(
        (account for account in SANDBOX_ACCOUNTS.values() if account.login == name), None)


def employee(org: Organization, subject: str, by_uid: bool) -> YandexAccount | None:
    """The account of `org` named by its uid or its e-mail (case-insensitively), else None: a personal
    account and another organisation's employee are no employees of `org` either."""
    subject = subject.strip().lower()
    account = (next((a for a in SANDBOX_ACCOUNTS.values() if a.uid == subject), None) if by_uid
               else SANDBOX_ACCOUNTS.get(subject))
    return account if account is not None and account.organization == org else None
