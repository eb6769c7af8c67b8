"""The shapes of the settings page's API (GET/PUT /api/settings): what an administrator may set."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from shared.schemas import StrictModel, WaitingRoomLevel

Broadcasts = Literal["everyone", "admins"]


class DefaultsIn(StrictModel):
    """What a new meeting gets when whoever makes it (the form, the API, a chat, a robot) does not say."""

    waiting_room_level: WaitingRoomLevel = "PUBLIC"
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)] = 60
    reminder_minutes: Annotated[StrictInt, Field(ge=0, le=24 * 60)] = 15
    auto_summary: StrictBool = False


class ServiceAppIn(StrictModel):
    """The organisation's Yandex 360 service application: with it every employee is the organiser of their
    own rooms (token exchange). The secret is write-only: left out, the stored one stays."""

    client_id: Annotated[StrictStr, Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]
    client_secret: (
        Annotated[StrictStr, Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")] | None
    ) = None


class YandexSettingsIn(StrictModel):
    service_app: ServiceAppIn | None = Field(None, description="null: no service application")


class SettingsIn(StrictModel):
    defaults: DefaultsIn = DefaultsIn()
    broadcasts: Broadcasts = Field(
        "everyone", description="admins: only portal administrators make broadcasts"
    )
    yandex: YandexSettingsIn = YandexSettingsIn(service_app=None)


class OrganisationOut(BaseModel):
    connected: bool
    email: str | None
    needs_reconnect: bool
    connected_at: datetime | None


class ServiceAppOut(BaseModel):
    client_id: str
    secret_set: bool


class YandexSettingsOut(BaseModel):
    organisation: OrganisationOut = Field(description="The portal's Yandex 360 organisation, if connected")
    service_app: ServiceAppOut | None
    deployment_token: bool = Field(
        description="Whether the deployment's YANDEX_OAUTH_TOKEN is set: the fallback when no "
        "organisation is connected"
    )
    can_connect: bool = Field(
        description="Whether connecting an organisation is set up here (YANDEX_CLIENT_ID)"
    )
    rooms_made_with: Literal["organisation", "deployment_token", "nothing"] = Field(
        description="Whose token makes the rooms of someone who has no Yandex account of their own"
    )


class Editor(BaseModel):
    id: int
    name: str


class SettingsOut(BaseModel):
    defaults: DefaultsIn
    broadcasts: Broadcasts
    yandex: YandexSettingsOut
    updated_at: datetime | None
    updated_by: Editor | None


class PortalDefaultsOut(BaseModel):
    defaults: DefaultsIn
    broadcasts: Broadcasts


class SettingsChangeOut(BaseModel):
    at: datetime
    user: Editor
    changes: dict[str, dict] = Field(description='{"<setting>": {"from": ..., "to": ...}}')


class SettingsChangePage(BaseModel):
    items: list[SettingsChangeOut]
    total: int
    page: int
    per_page: int
