"""The shapes of the public API (CONTRACT §4): what is accepted, what is returned.

The same models validate requests and generate the OpenAPI document, so the two cannot drift apart.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StrictBool, StrictInt,
                      StrictStr, ValidationError, model_validator)

START_AT_GRACE = timedelta(minutes=5)
WaitingRoomLevel = Literal["PUBLIC", "ORGANIZATION", "ADMINS"]
ConferenceTypeName = Literal["conference", "broadcast"]
StatusName = Literal["pending", "provisioning", "ready", "partially_failed", "failed", "syncing", "cancelling",
                     "cancelled"]


def _strip(value: str) -> str:
    return value.strip()


def _iso_text(value):
    # Times travel as ISO 8601 text only: a bare number could be seconds or milliseconds.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with an offset, such as 2026-12-01T10:00:00+03:00")
    return value


def _timezone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/Moscow") from None
    return value


Name = Annotated[StrictStr, AfterValidator(_strip), Field(min_length=1, max_length=255)]
Email = Annotated[EmailStr, AfterValidator(str.lower)]
UserId = Annotated[StrictInt, Field(gt=0)]
TimeZoneName = Annotated[StrictStr, AfterValidator(_timezone_name)]
StartAt = Annotated[datetime, BeforeValidator(_iso_text)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LiveStreamIn(StrictModel):
    title: Annotated[StrictStr, Field(max_length=1024)] | None = None
    description: Annotated[StrictStr, Field(max_length=2048)] | None = None
    access_level: Literal["PUBLIC", "ORGANIZATION"] = "PUBLIC"


class ConferenceIn(StrictModel):
    """A conference as the caller asks for it; defaults are what a person would expect."""

    type: ConferenceTypeName = "conference"
    name: Name
    description: Annotated[StrictStr, Field(max_length=4000)] | None = None
    start_at: StartAt | None = None
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)] = 60
    timezone: TimeZoneName = "Europe/Moscow"
    waiting_room_level: WaitingRoomLevel = "PUBLIC"
    live_stream: LiveStreamIn | None = None
    cohosts: Annotated[list[Email], Field(max_length=30)] = []
    invitees: Annotated[list[UserId], Field(max_length=100)] = []
    create_calendar_event: StrictBool | None = Field(None, description="Default: true when start_at is given")
    invite_users: StrictBool | None = Field(None, description="Default: true when there are invitees")

    @model_validator(mode="after")
    def _rules(self) -> "ConferenceIn":
        problems: dict[str, str] = {}
        if self.start_at is not None:
            if self.start_at.tzinfo is None:
                problems["start_at"] = "must carry an offset, such as 2026-12-01T10:00:00+03:00"
            elif self.start_at < datetime.now(timezone.utc) - START_AT_GRACE:
                problems["start_at"] = "may not be more than 5 minutes in the past"
        if self.type == "broadcast" and self.live_stream is None:
            problems["live_stream"] = "is required for a broadcast"
        if self.type == "conference" and self.live_stream is not None:
            problems["live_stream"] = "must be null for a conference; use type broadcast"
        if self.create_calendar_event is None:
            self.create_calendar_event = self.start_at is not None
        elif self.create_calendar_event and self.start_at is None:
            problems["start_at"] = "is required to create a calendar event"
        if self.invite_users is None:
            self.invite_users = bool(self.invitees)
        if len(set(self.cohosts)) != len(self.cohosts):
            problems["cohosts"] = "must not repeat an address"
        if len(set(self.invitees)) != len(self.invitees):
            problems["invitees"] = "must not repeat a user"
        if problems:
            raise RuleViolations(problems)
        return self


class RuleViolations(ValueError):
    """Several cross-field rules broken at once, each under its field."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k} {v}" for k, v in fields.items()))
        self.fields = fields


class ListQuery(StrictModel):
    type: ConferenceTypeName | None = None
    status: StatusName | None = None
    q: Annotated[str, Field(max_length=255)] | None = None
    page: Annotated[int, Field(ge=1, le=100000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 20


class SessionIn(StrictModel):
    auth_id: Annotated[StrictStr, Field(min_length=1, max_length=512)]
    domain: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    member_id: Annotated[StrictStr, Field(min_length=1, max_length=128)]


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
    name: Literal["create_room", "sync_cohosts", "calendar_event", "notify_invitees"]
    state: Literal["pending", "running", "done", "failed", "skipped"]
    attempts: int
    error: str | None
    updated_at: datetime


class LiveStreamOut(BaseModel):
    title: str | None
    description: str | None
    access_level: Literal["PUBLIC", "ORGANIZATION"]


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
    owner: OwnerOut
    status: StatusName
    steps: list[StepOut]
    join_url: str | None
    watch_url: str | None
    telemost_id: str | None
    calendar_event_id: int | None
    created_at: datetime
    updated_at: datetime


class ConferencePage(BaseModel):
    items: list[ConferenceOut]
    total: int
    page: int
    per_page: int


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorOut(BaseModel):
    error: ErrorBody


class HealthOut(BaseModel):
    status: Literal["healthy", "unhealthy"]
    service: str
    base_path: str
    checks: dict[str, str]


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Every offending field, keyed by its dotted path ('cohosts.3'), with a message a person can read."""
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
        fields.setdefault(path or "body", message)
    return fields
