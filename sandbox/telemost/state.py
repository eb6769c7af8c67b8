"""What the emulator remembers (tokens, Yandex accounts, conferences) and the rules that need it.

One lock guards everything: the emulator runs under gunicorn with one process and many threads,
and every operation checks all its rules before it changes anything, so a rejected request leaves
no trace.
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from . import errors
from .validation import ConferenceChanges, LiveStreamChanges

SCOPE_CREATE = "telemost-api:conferences.create"
SCOPE_READ = "telemost-api:conferences.read"
SCOPE_UPDATE = "telemost-api:conferences.update"
CONFERENCE_SCOPES = frozenset({SCOPE_CREATE, SCOPE_READ, SCOPE_UPDATE})

# example.com is the sandbox organisation's domain, which the sandbox Bitrix24 portal's users share;
# example.org the second organisation's (oauth_accounts.ORGANIZATIONS), whose people are Yandex users too.
DEFAULT_ACCOUNT_DOMAINS = ("example.com", "example.org", "yandex.ru", "ya.ru")
DEFAULT_PUBLIC_URL = "https://telemost.yandex.ru"
# What another account than the organiser gets for a room: 404 ConferenceNotFound or 403 (UNVERIFIED
# which; errors.not_the_organizer). Tests run the app against both.
FOREIGN_ROOM_STATUSES = (404, 403)
# The spec's example of sip_uri_telemost [S1][C1]: Telemost's one SIP address, the room named by sip_id.
SIP_URI_TELEMOST = "j@sip.t.ya.ru"


@dataclass(frozen=True)
class Token:
    name: str
    scopes: frozenset[str]
    # A Yandex 360 for Business member; a personal Yandex ID makes ordinary public meetings only [D5].
    organization: bool
    live_streams: bool  # the tariff includes broadcasts; otherwise 402
    organizer_email: str  # who a room made with this token belongs to

    def public(self) -> dict[str, Any]:
        return {"token": self.name, "scopes": sorted(self.scopes), "organization": self.organization,
                "live_streams": self.live_streams, "email": self.organizer_email}


def initial_tokens() -> list[Token]:
    read_only = frozenset({SCOPE_READ})
    return [
        Token("sandbox-org-token", CONFERENCE_SCOPES, True, True, "organizer@example.com"),
        Token("sandbox-personal-token", CONFERENCE_SCOPES, False, True, "sandbox.personal@yandex.ru"),
        Token("sandbox-no-broadcast-token", CONFERENCE_SCOPES, True, False, "no-broadcast@example.com"),
        Token("sandbox-readonly-token", read_only, True, True, "readonly@example.com"),
    ]


@dataclass
class LiveStream:
    watch_url: str
    access_level: str = "PUBLIC"  # the server default is UNVERIFIED; clients assume PUBLIC [C5]
    title: str | None = None
    description: str | None = None

    def apply(self, changes: LiveStreamChanges) -> None:
        for name in ("access_level", "title", "description"):
            if (value := getattr(changes, name)) is not None:
                setattr(self, name, value)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"watch_url": self.watch_url, "access_level": self.access_level}
        body.update({name: value for name in ("title", "description")
                     if (value := getattr(self, name)) is not None})
        return body


@dataclass
class Conference:
    id: str
    join_url: str
    sip_id: str
    owner: Token
    created_at: str
    updated_at: str
    waiting_room_level: str = "PUBLIC"
    access_level: str = "PUBLIC"
    live_stream: LiveStream | None = None
    cohosts: list[str] = field(default_factory=list)
    is_auto_summarization_enabled: bool = False
    should_create_public_chat_if_not_exists: bool = False

    def short(self) -> dict[str, Any]:
        """ConferenceShort, the answer to create: live_stream only for broadcasts [S1]."""
        body: dict[str, Any] = {"id": self.id, "join_url": self.join_url}
        if self.live_stream:
            body["live_stream"] = {"watch_url": self.live_stream.watch_url}
        return body

    def full(self) -> dict[str, Any]:
        """The GET body [D7]; cohosts are not in it. The SIP formats follow the spec's examples [C1]."""
        body = dict(self.short(), access_level=self.access_level, waiting_room_level=self.waiting_room_level,
                    is_auto_summarization_enabled=self.is_auto_summarization_enabled,
                    should_create_public_chat_if_not_exists=self.should_create_public_chat_if_not_exists,
                    sip_uri_meeting=f"{self.sip_id}@sip.t.ya.ru", sip_uri_telemost=SIP_URI_TELEMOST,
                    sip_id=self.sip_id)
        if self.live_stream:
            body["live_stream"] = self.live_stream.as_json()
        return body

    def snapshot(self) -> dict[str, Any]:
        return {"id": self.id, "join_url": self.join_url,
                "watch_url": self.live_stream.watch_url if self.live_stream else None,
                "waiting_room_level": self.waiting_room_level, "access_level": self.access_level,
                "live_stream": self.live_stream.as_json() if self.live_stream else None,
                "cohosts": list(self.cohosts), "is_auto_summarization_enabled": self.is_auto_summarization_enabled,
                "owner_token": self.owner.name, "created_at": self.created_at, "updated_at": self.updated_at}


class TelemostState:
    def __init__(self, account_domains: Iterable[str] = DEFAULT_ACCOUNT_DOMAINS,
                 public_url: str = DEFAULT_PUBLIC_URL, foreign_room_status: int = 404) -> None:
        self._lock = threading.Lock()
        self._account_domains = frozenset(domain.lower() for domain in account_domains)
        self._public_url = public_url.rstrip("/")
        self._default_foreign_room_status = _foreign_room_status(foreign_room_status)
        self.foreign_room_status = self._default_foreign_room_status
        self._tokens: dict[str, Token] = {}
        self._extra_accounts: dict[str, None] = {}  # a dict keeps the order they were added in
        self._conferences: dict[str, Conference] = {}
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._tokens = {token.name: token for token in initial_tokens()}
            self._extra_accounts = {}
            self._conferences = {}
            self.foreign_room_status = self._default_foreign_room_status

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"conferences": [conference.snapshot() for conference in self._conferences.values()],
                    "tokens": list(self._tokens), "accounts": list(self._extra_accounts),
                    "foreign_room_status": self.foreign_room_status}

    # --- sandbox control -------------------------------------------------------------------------

    def token(self, name: str) -> Token | None:
        with self._lock:
            return self._tokens.get(name)

    def add_token(self, token: Token) -> None:
        with self._lock:
            self._tokens[token.name] = token

    def set_foreign_room_status(self, status: int) -> None:
        with self._lock:
            self.foreign_room_status = _foreign_room_status(status)

    def add_accounts(self, emails: Iterable[str]) -> list[str]:
        with self._lock:
            self._extra_accounts.update(dict.fromkeys(email.lower() for email in emails))
            return list(self._extra_accounts)

    # --- the emulated API ------------------------------------------------------------------------

    def create_conference(self, caller: Token, changes: ConferenceChanges) -> dict[str, Any]:
        with self._lock:
            # A refused create makes no room here. Whether Telemost makes one anyway when only the cohosts
            # are refused (NoSuchUserPrincipalsFound) is UNVERIFIED: the app never sends cohosts with a
            # create (it adds them after), so it is safe either way.
            self._check_changes(caller, changes)
            conference_id, now = self._new_conference_id(), _now()
            conference = Conference(id=conference_id, join_url=f"{self._public_url}/j/{conference_id}",
                                    sip_id=random_digits(20), owner=caller, created_at=now, updated_at=now)
            self._apply(conference, changes)
            self._conferences[conference.id] = conference
            return conference.short()

    def get_conference(self, caller: Token, conference_id: str) -> dict[str, Any]:
        with self._lock:
            return self._owned(caller, conference_id).full()

    def update_conference(self, caller: Token, conference_id: str, changes: ConferenceChanges) -> dict[str, Any]:
        with self._lock:
            conference = self._owned(caller, conference_id)
            self._check_changes(caller, changes)
            self._apply(conference, changes)
            return conference.full()

    def list_cohosts(self, caller: Token, conference_id: str, offset: int, limit: int) -> list[str]:
        with self._lock:
            return self._owned(caller, conference_id).cohosts[offset:offset + limit]

    def replace_cohosts(self, caller: Token, conference_id: str, emails: tuple[str, ...]) -> None:
        with self._lock:
            conference = self._owned(caller, conference_id)
            self._check_accounts(emails)
            self._set_cohosts(conference, emails)

    def add_cohosts(self, caller: Token, conference_id: str, emails: tuple[str, ...]) -> None:
        with self._lock:
            conference = self._owned(caller, conference_id)
            self._check_accounts(emails)
            self._set_cohosts(conference, (*conference.cohosts, *emails))

    def remove_cohosts(self, caller: Token, conference_id: str, emails: tuple[str, ...]) -> None:
        """Addresses that are not cohosts are skipped (an idempotent delete); the organizer is refused [D4]."""
        with self._lock:
            conference = self._owned(caller, conference_id)
            if conference.owner.organizer_email.lower() in emails:
                raise errors.organizer_cannot_be_removed(conference.owner.organizer_email)
            self._set_cohosts(conference, [email for email in conference.cohosts if email not in emails])

    # --- rules -----------------------------------------------------------------------------------

    def _owned(self, caller: Token, conference_id: str) -> Conference:
        """The room, if `caller` is its organiser: only the organiser changes (or reads) a room."""
        conference = self._conferences.get(conference_id)
        if conference is None:
            raise errors.conference_not_found()
        if conference.owner.name != caller.name:
            raise errors.not_the_organizer() if self.foreign_room_status == 403 else errors.conference_not_found()
        return conference

    def _check_changes(self, caller: Token, changes: ConferenceChanges) -> None:
        if not caller.organization and (changes.live_stream is not None
                                        or changes.waiting_room_level not in (None, "PUBLIC")):
            # "Обычную публичную встречу может создать и пользователь с личным Яндекс ID. Возможности
            # трансляции и доступа только для организации зависят от прав пользователя" [D5]: a personal
            # account makes public meetings only. Which code refuses the rest is UNVERIFIED; the
            # documented one for "not an organisation" is used. ADMINS is refused too (strict: the docs'
            # text on it was cut off, and it is not an ordinary public meeting).
            raise errors.restricted_to_organizations()
        if changes.live_stream is not None and not caller.live_streams:
            raise errors.live_streams_need_payment()
        if changes.cohosts:
            self._check_accounts(changes.cohosts)

    def _check_accounts(self, emails: Iterable[str]) -> None:
        """Only people with a Yandex account can be cohosts [D11]; the unknown ones go in details [D13]."""
        unknown = [email for email in emails if not self._has_account(email)]
        if unknown:
            raise errors.no_such_users(unknown)

    def _has_account(self, email: str) -> bool:
        email = email.lower()
        _, at, domain = email.rpartition("@")
        return email in self._extra_accounts or (bool(at) and domain in self._account_domains)

    def _apply(self, conference: Conference, changes: ConferenceChanges) -> None:
        """Sets what `changes` gives. PATCH replaces the cohosts list (merge or replace is UNVERIFIED)."""
        for name in ("waiting_room_level", "access_level", "is_auto_summarization_enabled",
                     "should_create_public_chat_if_not_exists"):
            if (value := getattr(changes, name)) is not None:
                setattr(conference, name, value)
        if changes.live_stream is not None:
            if conference.live_stream is None:
                conference.live_stream = LiveStream(watch_url=f"{self._public_url}/live/{secrets.token_hex(16)}")
            conference.live_stream.apply(changes.live_stream)
        if changes.cohosts is not None:
            conference.cohosts = list(changes.cohosts)
        conference.updated_at = _now()

    @staticmethod
    def _set_cohosts(conference: Conference, emails: Iterable[str]) -> None:
        conference.cohosts = list(dict.fromkeys(emails))
        conference.updated_at = _now()

    def _new_conference_id(self) -> str:
        while (conference_id := random_digits(14)) in self._conferences:
            pass
        return conference_id


def _foreign_room_status(status: int) -> int:
    if status not in FOREIGN_ROOM_STATUSES:
        raise ValueError(f"foreign_room_status must be one of {', '.join(map(str, FOREIGN_ROOM_STATUSES))}")
    return status


def random_digits(count: int) -> str:
    """A numeric id with no leading zero, like the spec's example "12345678901234"."""
    return str(10 ** (count - 1) + secrets.randbelow(9 * 10 ** (count - 1)))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
