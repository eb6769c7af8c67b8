"""The database is the source of truth: a conference and the steps that provision it."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no offset, and comparisons must not mix the two."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class ConferenceType(enum.StrEnum):
    CONFERENCE = "conference"
    BROADCAST = "broadcast"


class ConferenceStatus(enum.StrEnum):
    PENDING = "pending"
    PROVISIONING = "provisioning"
    READY = "ready"
    PARTIALLY_FAILED = "partially_failed"
    FAILED = "failed"
    SYNCING = "syncing"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"


class StepState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


def stored_as_text(enum_type: type[enum.StrEnum], length: int) -> Enum:
    """An enum column kept as its plain value in a VARCHAR, as the migrations made it (no CHECK, no native
    type): rows read back as the enum, and a value the code does not know fails loudly."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Conference(Base):
    __tablename__ = "conferences"
    __table_args__ = (
        UniqueConstraint("portal", "owner_id", "idempotency_key", name="uq_conferences_idempotency"),
        # Covers the history list: its filters, name search, order and count read the index only (migration 0004).
        Index("ix_conferences_history", "portal", "owner_id", "created_at", "id", "status", "type", "name"),
        Index("ix_conferences_enqueued", "status", "enqueued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Written into the calendar event so a crashed step can find the event it may have made.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    portal: Mapped[str] = mapped_column(String(255))
    owner_id: Mapped[int] = mapped_column(Integer)
    owner_name: Mapped[str] = mapped_column(String(255))
    # The owner's address as the portal gave it when the meeting was made: with the organisation's service
    # application, the Yandex 360 account whose own token makes the room (yandex/accounts.py).
    owner_email: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[ConferenceType] = mapped_column(stored_as_text(ConferenceType, 16))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    timezone: Mapped[str] = mapped_column(String(64))
    waiting_room_level: Mapped[str] = mapped_column(String(16))
    live_stream: Mapped[dict | None] = mapped_column(JSON)
    cohosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    invitees: Mapped[list[int]] = mapped_column(JSON, default=list)
    create_calendar_event: Mapped[bool] = mapped_column(default=False)
    invite_users: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ConferenceStatus] = mapped_column(
        stored_as_text(ConferenceStatus, 24), default=ConferenceStatus.PENDING
    )
    join_url: Mapped[str | None] = mapped_column(String(512))
    watch_url: Mapped[str | None] = mapped_column(String(512))
    telemost_id: Mapped[str | None] = mapped_column(String(64))
    calendar_event_id: Mapped[int | None] = mapped_column(Integer)
    # Where the meeting was started from and is posted to: {"dialog_id", "title", "members"} as the portal
    # answered the caller when it was set (the members are not sent a separate invitation), or NULL.
    chat: Mapped[dict | None] = mapped_column(JSON)
    # The CRM record the meeting is about: {"entity_type", "entity_id", "title", "responsible_id"} as the
    # portal answered the caller when it was set, or NULL. Its calendar event is linked to it and a to-do in
    # its timeline carries the link (pipeline/steps/crm_link.py).
    crm: Mapped[dict | None] = mapped_column(JSON)
    # The automation rule that asked for it: {"event_token", "code", "document_id"} from the portal's call of
    # the robot's handler (web/robot.py), to answer the workflow with (pipeline/steps/robot_result.py), or NULL.
    robot: Mapped[dict | None] = mapped_column(JSON)
    # Whose Yandex token made the room, the only one that may change it (Telemost: changes are made on
    # behalf of the organiser): yandex.room_organiser says how it is written. NULL: not known.
    room_organiser: Mapped[str | None] = mapped_column(String(255))
    # How it repeats: {"freq", "interval", "byday", "count", "until"} (schemas.RecurrenceIn), or NULL for once.
    # One room serves the whole series: a Telemost link is permanent.
    recurrence: Mapped[dict | None] = mapped_column(JSON)
    # Telemost's meeting notes (is_auto_summarization_enabled), from the portal's default when not asked.
    auto_summary: Mapped[bool] = mapped_column(default=False)
    # How long before it starts invitees are reminded (0: not at all); from the portal's default.
    reminder_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # When the next reminder is due (the next occurrence's start less reminder_minutes), or NULL: none is.
    # Kept beside the conference so beat's query is one indexed range however each one is planned.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # Every edit or cancel raises the version of the desired state above; a step that finishes work
    # for an older version runs again, so two quick edits end in the last one, never in a mix.
    version: Mapped[int] = mapped_column(Integer, default=1)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    # What the outside world was last brought to (room settings, cohosts, who was told what), so
    # that an edit sends only the difference.
    applied: Mapped[dict] = mapped_column(JSON, default=dict)
    # The start last reminded of (the latest occurrence's, for a series): never reminded of twice.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the beat job last read the calendar event back (conferences.calendar_sync.reconcile): it reads the
    # longest unread first, so every linked event is read in turn however many there are.
    calendar_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a provisioning task was last sent; the sweeper re-sends only what has waited a while.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    steps: Mapped[list[Step]] = relationship(
        back_populates="conference", cascade="all, delete-orphan", order_by="Step.id", lazy="selectin"
    )

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


class Step(Base):
    __tablename__ = "conference_steps"
    __table_args__ = (
        UniqueConstraint("conference_id", "name", name="uq_steps_conference_name"),
        Index("ix_steps_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    state: Mapped[StepState] = mapped_column(stored_as_text(StepState, 16), default=StepState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # `attempts` when the user last asked for a retry: the count of tries stays honest, and the
    # retry still gets a full allowance of automatic attempts.
    attempts_at_retry: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # A stable code for the front end to act on (e.g. bitrix_reauth: renew the user's authorisation).
    error_code: Mapped[str | None] = mapped_column(String(64))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    conference: Mapped[Conference] = relationship(back_populates="steps")


class Portal(Base):
    """A Bitrix24 portal the app is installed on (from the install page or ONAPPINSTALL)."""

    __tablename__ = "portals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), unique=True)
    domain: Mapped[str] = mapped_column(String(255))
    # Where its REST API answers: taken from the install, never from a later request.
    client_endpoint: Mapped[str] = mapped_column(String(512))
    application_token_digest: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str | None] = mapped_column(String(512))
    installed: Mapped[bool] = mapped_column(default=True)
    # Counts installs after an uninstall: app tokens name the one they were issued under (DESIGN §5).
    install_generation: Mapped[int] = mapped_column(Integer, default=1)
    # The last install or uninstall event accepted: an older one, or the same one again, is a replay.
    last_event_ts: Mapped[int] = mapped_column(Integer, default=0)
    last_event: Mapped[str | None] = mapped_column(String(32))
    # The regional OAuth server that issued its tokens (a known one only: shared/clients/bitrix24.py OAuthServers);
    # None until one was heard (portals installed before it was kept).
    oauth_server: Mapped[str | None] = mapped_column(String(255))
    # When the portal answered PORTAL_DELETED: gone for good, never called again.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BitrixCredential(Base):
    """An OAuth token pair for a portal: user_id 0 is the installing administrator's, others a user's own."""

    __tablename__ = "bitrix_credentials"
    __table_args__ = (UniqueConstraint("portal_id", "user_id", name="uq_bitrix_credentials_portal_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer)
    access_token: Mapped[str] = mapped_column(Text)  # sealed by shared.crypto.TokenBox
    refresh_token: Mapped[str] = mapped_column(Text)  # sealed
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class YandexAccount(Base):
    """A user's own Yandex account, connected so that their rooms are created in their name; user_id 0 is the
    portal's Yandex 360 organisation, connected by its administrator (yandex.accounts.ORGANISATION)."""

    __tablename__ = "yandex_accounts"
    __table_args__ = (UniqueConstraint("portal", "user_id", name="uq_yandex_accounts_portal_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(Integer)
    email: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[str] = mapped_column(Text)  # sealed
    refresh_token: Mapped[str | None] = mapped_column(Text)  # sealed
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # False once Yandex refused the account (revoked or expired): the user must connect it again.
    usable: Mapped[bool] = mapped_column(default=True)
    # When the stored pair was issued: it is refreshed well before it dies (yandex.accounts).
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboundEvent(Base):
    """A Bitrix24 event, stored before it is answered: the portal never sends one again ("No retries",
    b24restdocs api-reference/events/index.md), so it waits here until a worker has processed it
    (conferences.portal_events). One waiting row per subject: a flood of the same hint is one check."""

    __tablename__ = "inbound_bitrix_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal: Mapped[str] = mapped_column(String(64))  # member_id
    # What is to be checked: "calendar:<event id>" or "uninstall"; the event's own name is kept for the logs.
    subject: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    ts: Mapped[int] = mapped_column(Integer)  # the newest `ts` of the events it stands for
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when a task was last sent for it
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker is on it since then
    attempts: Mapped[int] = mapped_column(Integer, default=0)


# Waiting (not yet taken) rows are unique per subject: what arrives before a worker takes the row joins it;
# what arrives after makes a new one, so a change after the read is read again.
Index(
    "ix_inbound_events_waiting",
    InboundEvent.portal,
    InboundEvent.subject,
    unique=True,
    sqlite_where=InboundEvent.taken_at.is_(None),
    postgresql_where=InboundEvent.taken_at.is_(None),
)
Index("ix_inbound_events_due", InboundEvent.taken_at, InboundEvent.sent_at)


class BitrixRestCall(Base):
    """A request to a portal's REST API and its answer, kept for REST_LOG_DAYS: Bitrix24 Market asks that a
    server-side app keep "logs of API requests and responses for at least the last 3 days" (b24restdocs
    market/preparing-to-publish/common-requirements.md). Tokens are never kept (portal.rest_log)."""

    __tablename__ = "bitrix_rest_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    host: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(100))
    status: Mapped[int | None] = mapped_column(Integer)  # NULL: no answer came
    milliseconds: Mapped[int] = mapped_column(Integer)
    request: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)


class PortalSettings(Base):
    """What a portal's administrator decided (GET/PUT /api/settings); a portal without a row has the defaults
    of portal.settings.DEFAULTS."""

    __tablename__ = "portal_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal: Mapped[str] = mapped_column(String(64), unique=True)  # member_id
    waiting_room_level: Mapped[str] = mapped_column(String(16))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    reminder_minutes: Mapped[int] = mapped_column(Integer)
    auto_summary: Mapped[bool] = mapped_column(default=False)
    broadcasts: Mapped[str] = mapped_column(String(16))  # everyone | admins
    # The organisation's Yandex 360 service application: each employee's own token by token exchange.
    service_app_client_id: Mapped[str | None] = mapped_column(String(255))
    service_app_secret: Mapped[str | None] = mapped_column(Text)  # sealed
    updated_by_id: Mapped[int | None] = mapped_column(Integer)
    updated_by_name: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SettingsChange(Base):
    """Who changed which setting of a portal, when, from what to what (the settings page's audit)."""

    __tablename__ = "settings_changes"
    __table_args__ = (Index("ix_settings_changes_portal_at", "portal", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(Integer)
    user_name: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # {"<setting>": {"from": old, "to": new}}; a secret is recorded as changed, never its value.
    changes: Mapped[dict] = mapped_column(JSON)
