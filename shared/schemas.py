"""The shapes of the public API (CONTRACT §4): what is accepted, what is returned.

Requests are validated by these models and the OpenAPI document is generated from them; responses
are built by `conferences.service.to_dict` and checked against `ConferenceOut` in the tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from shared.problems import Problem, Rule, from_pydantic

START_AT_GRACE = timedelta(minutes=5)
START_AT_HORIZON = timedelta(days=5 * 366)  # far enough for any plan, near enough for every calendar
WaitingRoomLevel = Literal["PUBLIC", "ORGANIZATION", "ADMINS"]
ConferenceTypeName = Literal["conference", "broadcast"]
StatusName = Literal[
    "pending", "provisioning", "ready", "partially_failed", "failed", "syncing", "cancelling", "cancelled"
]
# Control characters have no place in names and break PostgreSQL text (NUL); line breaks are fine in prose.
# C1 too (U+0080-U+009F): U+009B opens a terminal escape sequence, as ESC does.
_CONTROL = {chr(c) for c in range(32)} | {chr(c) for c in range(0x7F, 0xA0)}
_PROSE_CONTROL = _CONTROL - {"\n", "\r", "\t"}


def _no_control(value: str, allowed_breaks: bool = False) -> str:
    if any(c in (_PROSE_CONTROL if allowed_breaks else _CONTROL) for c in value):
        raise Rule("control_characters", "must not contain control characters")
    return value


def _line(value: str) -> str:
    value = _no_control(value).strip()
    if not value:
        raise Rule("blank", "must not be blank")
    return value


def _prose(value: str) -> str:
    return _no_control(value, allowed_breaks=True)


def _start_at(value: Any) -> datetime:
    # ISO 8601 text only: a bare number could be seconds or milliseconds, and pydantic would take it.
    if not isinstance(value, str):
        raise Rule("not_a_datetime", "must be an ISO 8601 date-time such as 2026-12-01T10:00:00+03:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Rule(
            "not_a_datetime", "must be an ISO 8601 date-time such as 2026-12-01T10:00:00+03:00"
        ) from None
    if moment.tzinfo is None:
        raise Rule("no_offset", "must carry an offset, such as 2026-12-01T10:00:00+03:00")
    now = datetime.now(UTC)
    if moment < now - START_AT_GRACE:
        raise Rule("in_the_past", "may not be more than 5 minutes in the past", minutes=5)
    if moment > now + START_AT_HORIZON:
        raise Rule("too_far_ahead", "may not be more than 5 years ahead", years=5)
    return moment


def _iso_date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Rule("not_a_date", "must be a date such as 2027-03-31")


def _timezone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Rule("not_a_timezone", "must be an IANA time zone such as Europe/Moscow") from None
    return value


def _distinct(values: list) -> list:
    if len(set(values)) != len(values):
        raise Rule("duplicate", "must not name anyone twice")
    return values


Name = Annotated[StrictStr, Field(max_length=255), AfterValidator(_line)]
Email = Annotated[EmailStr, AfterValidator(str.lower)]
UserId = Annotated[StrictInt, Field(gt=0, lt=2**31)]
TimeZoneName = Annotated[StrictStr, Field(max_length=64), AfterValidator(_timezone_name)]
StartAt = Annotated[datetime, BeforeValidator(_start_at)]


# Prose of at most n characters; one alias per limit, as a type checker takes only a written type.
Prose1024 = Annotated[StrictStr, Field(max_length=1024), AfterValidator(_prose)]
Prose2048 = Annotated[StrictStr, Field(max_length=2048), AfterValidator(_prose)]
Prose4000 = Annotated[StrictStr, Field(max_length=4000), AfterValidator(_prose)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LiveStreamIn(StrictModel):
    title: Prose1024 | None = None
    description: Prose2048 | None = None
    access_level: Literal["PUBLIC", "ORGANIZATION"] = "PUBLIC"


DIALOG_ID = re.compile(r"(chat|sg)?[1-9][0-9]{0,9}")


def _dialog_id(value: str) -> str:
    if not DIALOG_ID.fullmatch(value):
        raise Rule("not_a_dialog", "must name a chat: chat42, sg7, or a user's id for a personal dialog")
    return value


class ChatIn(StrictModel):
    """The chat to post the meeting to (b24restdocs im-message-add.md: chatXXX a chat, sgXXX a group's or
    project's chat, XXX a personal dialog with that user). The caller must be a member: the API asks the
    portal with the caller's own rights (web/api/chats.py)."""

    dialog_id: Annotated[StrictStr, AfterValidator(_dialog_id)]


# b24restdocs api-reference/crm/data-types.md, "CRM object types": the entityTypeId of each record a meeting
# can be linked to, and the prefix calendar.event.add's crm_fields names it with (D_5, L_11, C_3, CO_2).
CRM_TYPES: dict[str, tuple[int, str]] = {
    "lead": (1, "L"),
    "deal": (2, "D"),
    "contact": (3, "C"),
    "company": (4, "CO"),
}


class CrmIn(StrictModel):
    """The CRM record a meeting is about: its calendar event is linked to it and it gets a to-do in the
    record's timeline. The caller must be allowed to see it: the API asks the portal with their rights
    (web/api/crm.py)."""

    entity_type: Literal["deal", "lead", "contact", "company"]
    entity_id: Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_OCCURRENCES = 730  # two years of a daily meeting; a longer series is a new one


class RecurrenceIn(StrictModel):
    """How a meeting repeats, as RFC 5545 says it (FREQ, INTERVAL, BYDAY, COUNT or UNTIL): the calendar event
    carries the same rule (calendar.event.add's rrule), and one room serves every occurrence."""

    freq: Literal["DAILY", "WEEKLY", "MONTHLY"]
    interval: Annotated[StrictInt, Field(ge=1, le=99)] = 1
    byday: Annotated[
        list[Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]],
        Field(max_length=7),
        AfterValidator(_distinct),
    ] = Field([], description="WEEKLY only: the days of the week; empty means the start's own day")
    count: Annotated[StrictInt, Field(ge=2, le=MAX_OCCURRENCES)] | None = Field(
        None, description="How many times in all; or give until (not both)"
    )
    until: Annotated[date, BeforeValidator(_iso_date)] | None = Field(
        None, description="The last day it may happen on (YYYY-MM-DD, in the meeting's time zone)"
    )

    @model_validator(mode="after")
    def _rules(self) -> RecurrenceIn:
        problems: dict[str, str] = {}
        if self.count is not None and self.until is not None:
            problems["recurrence.until"] = Problem("give count or until, not both", "count_or_until")
        if self.byday and self.freq != "WEEKLY":
            problems["recurrence.byday"] = Problem("is for a weekly series only", "only_for_weekly")
        if problems:
            raise RuleViolations(problems)
        return self


def conference_rules(data: Mapping[str, Any]) -> dict[str, str]:
    """The rules that join several fields, checked on raw input too, so a 422 names every field at once."""
    problems: dict[str, str] = {}
    kind = data.get("type", "conference")
    if kind == "broadcast" and data.get("live_stream") is None:
        problems["live_stream"] = Problem("is required for a broadcast", "required_for_broadcast")
    if kind == "conference" and data.get("live_stream") is not None:
        problems["live_stream"] = Problem(
            "must be null for a conference; use type broadcast", "only_for_broadcast"
        )
    if data.get("create_calendar_event") is True and data.get("start_at") is None:
        problems["start_at"] = Problem("is required to create a calendar event", "required_for_calendar")
    if data.get("recurrence") is not None and data.get("start_at") is None:
        problems["start_at"] = Problem("is required for a repeating meeting", "required_for_recurrence")
    return problems


class ConferenceIn(StrictModel):
    """A conference as the caller asks for it; defaults are what a person would expect."""

    cross_field_rules: ClassVar = staticmethod(conference_rules)

    type: ConferenceTypeName = "conference"
    name: Name
    description: Prose4000 | None = None
    start_at: StartAt | None = None
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)] = 60
    timezone: TimeZoneName = "Europe/Moscow"
    waiting_room_level: WaitingRoomLevel = "PUBLIC"
    live_stream: LiveStreamIn | None = None
    cohosts: Annotated[list[Email], Field(max_length=30), AfterValidator(_distinct)] = []
    invitees: Annotated[list[UserId], Field(max_length=100), AfterValidator(_distinct)] = []
    create_calendar_event: StrictBool | None = Field(None, description="Default: true when start_at is given")
    invite_users: StrictBool | None = Field(None, description="Default: true when there are invitees")
    chat: ChatIn | None = Field(
        None,
        description="Post the meeting into this chat (the caller must be a member); its members "
        "who are invitees learn of it there rather than by a separate notification",
    )
    crm: CrmIn | None = Field(
        None,
        description="Link the meeting to this CRM record (the caller must be allowed to see it): its "
        "calendar event is bound to it and a to-do with the link appears in its timeline",
    )
    recurrence: RecurrenceIn | None = Field(
        None, description="How the meeting repeats (one room for the whole series), or null for once"
    )
    auto_summary: StrictBool = Field(
        False, description="Telemost's meeting notes; default: the portal's setting"
    )
    reminder_minutes: Annotated[StrictInt, Field(ge=0, le=24 * 60)] = Field(
        15, description="How long before each start invitees are reminded, 0 for never; default: the portal's"
    )

    # Fields whose default, when the caller leaves them out, is the portal's (GET /api/settings).
    PORTAL_DEFAULTS: ClassVar = ("waiting_room_level", "duration_minutes", "reminder_minutes", "auto_summary")

    @model_validator(mode="after")
    def _rules(self) -> ConferenceIn:
        problems = conference_rules(
            {
                "type": self.type,
                "live_stream": self.live_stream,
                "start_at": self.start_at,
                "create_calendar_event": self.create_calendar_event,
                "recurrence": self.recurrence,
            }
        )
        if problems:
            raise RuleViolations(problems)
        if self.create_calendar_event is None:
            self.create_calendar_event = self.start_at is not None
        if self.invite_users is None:
            self.invite_users = bool(self.invitees)
        return self


class RuleViolations(ValueError):
    """Several cross-field rules broken at once, each under its field."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k} {v}" for k, v in fields.items()))
        self.fields = fields


class ListQuery(StrictModel):
    scope: Literal["mine", "all"] = Field(
        "mine", description="all: every conference of the portal (administrators)"
    )
    type: ConferenceTypeName | None = None
    status: StatusName | None = None
    q: Annotated[str, Field(max_length=255), AfterValidator(_no_control)] | None = None
    page: Annotated[int, Field(ge=1, le=100000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 20


class SessionIn(StrictModel):
    auth_id: Annotated[StrictStr, Field(min_length=1, max_length=512)]
    domain: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    member_id: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    # BX24.getAuth()'s refresh_token: kept (once the OAuth server says it is this user's) so that work done
    # for the user is done with their own authorisation.
    refresh_id: Annotated[StrictStr, Field(min_length=1, max_length=512)] | None = None


class UserOut(BaseModel):
    id: int
    name: str
    email: str | None = None
    is_admin: bool = False


class SessionOut(BaseModel):
    token: str
    expires_in: int
    user: UserOut


class StepOut(BaseModel):
    name: str = Field(
        description="The step's name in the pipeline's registry (shared/pipeline/registry.py), "
        "in the order they run: create_room, sync_cohosts, calendar_event, "
        "notify_invitees"
    )
    state: Literal["pending", "running", "done", "failed", "skipped"]
    attempts: int
    error: str | None
    error_code: str | None = Field(
        description="A stable code to act on: bitrix_reauth means the user must "
        "renew their Bitrix24 authorisation (open the app again); "
        "yandex_reconnect that the Yandex account which made the room "
        "must be connected again; yandex_app_refused that Yandex refused "
        "to renew its token for a reason that is not the user's to fix "
        "(the account stays connected)"
    )
    waits_for: str | None = Field(
        default=None,
        description="The step that must be settled before this one runs (create_room for the "
        "cohosts and the invitations), or null",
    )
    done_count: int | None = Field(
        default=None,
        description="How many of the step's things are in place now: cohosts added to the room, "
        "invitees told; null for a step of one thing",
    )
    note: str | None = Field(
        default=None,
        description="What to know of how a step that did not fail went: e.g. that the room was made with "
        "the organisation's token because the owner has no account in the organisation",
    )
    updated_at: datetime


class LiveStreamOut(BaseModel):
    title: str | None
    description: str | None
    access_level: Literal["PUBLIC", "ORGANIZATION"]


class ChatOut(BaseModel):
    dialog_id: str
    title: str | None


class CrmOut(BaseModel):
    entity_type: Literal["deal", "lead", "contact", "company"]
    entity_id: int
    title: str | None


class RecurrenceOut(BaseModel):
    freq: Literal["DAILY", "WEEKLY", "MONTHLY"]
    interval: int
    byday: list[str]
    count: int | None
    until: date | None


class RobotOut(BaseModel):
    code: str


class OwnerOut(BaseModel):
    id: int
    name: str


class ConferenceOut(BaseModel):
    id: int
    type: ConferenceTypeName
    name: str
    description: str | None
    start_at: datetime | None
    duration_minutes: int
    timezone: str
    waiting_room_level: WaitingRoomLevel
    live_stream: LiveStreamOut | None
    cohosts: list[str]
    invitees: list[int]
    create_calendar_event: bool
    invite_users: bool
    version: int
    owner: OwnerOut
    status: StatusName
    steps: list[StepOut]
    join_url: str | None
    watch_url: str | None
    telemost_id: str | None
    calendar_event_id: int | None
    chat: ChatOut | None
    crm: CrmOut | None
    robot: RobotOut | None = Field(description="The automation rule that asked for it, or null")
    recurrence: RecurrenceOut | None
    auto_summary: bool
    reminder_minutes: int
    created_at: datetime
    updated_at: datetime


class ConferencePage(BaseModel):
    items: list[ConferenceOut]
    total: int
    page: int
    per_page: int


class ErrorBody(BaseModel):
    code: str
    reason: str = Field(
        description="The finer cause, a stable code (the code itself when there is none finer)"
    )
    message: str
    fields: dict[str, str] = {}
    field_codes: dict[str, dict[str, Any]] = Field(
        {}, description="Each field's problem as {code, ...figures}, for a page to say in its own language"
    )


class ErrorOut(BaseModel):
    error: ErrorBody


class HealthOut(BaseModel):
    status: Literal["healthy", "unhealthy"]
    service: str
    base_path: str
    checks: dict[str, str]
    worker_heartbeat_age_seconds: float | None = None


def field_errors(exc: ValidationError, data: Any = None, rules=None) -> dict[str, str]:
    """Every offending field, keyed by its dotted path ('cohosts.3'), with a message a person can read.

    `rules(data)` adds the cross-field rules, which pydantic runs only once every field is valid.
    """
    fields: dict[str, str] = {}
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, RuleViolations):
            fields.update(cause.fields)
            continue
        path = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a known field"
        elif error["type"] == "missing":
            message = "is required"
        fields.setdefault(path or "body", from_pydantic(error, message))
    if rules is not None and isinstance(data, Mapping):
        for field, message in rules(data).items():
            fields.setdefault(field, message)
    return fields
