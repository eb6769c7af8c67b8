"""The settings page's API: portal administrators only (everyone else 403, before the body is looked at)."""

from __future__ import annotations

from functools import wraps
from typing import Annotated

from flask import Blueprint, current_app, g, jsonify
from pydantic import Field

from shared.portal import settings as portal_settings
from shared.schemas import ErrorOut, StrictModel
from shared.settings_schemas import PortalDefaultsOut, SettingsChangePage, SettingsIn, SettingsOut
from shared.yandex.accounts import ORGANISATION
from web.api import db, parse_body, parse_query
from web.auth import login_required
from web.errors import ApiError
from web.openapi import documented

bp = Blueprint("settings", __name__, url_prefix="/api/settings")


class ChangesQuery(StrictModel):
    page: Annotated[int, Field(ge=1, le=100000)] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 20


def admin_only(view):
    @wraps(view)
    def checked(*args, **kwargs):
        if not g.caller.is_admin:
            raise ApiError(
                403,
                "Only a portal administrator can see and change the app's settings",
                reason="settings_admin_only",
            )
        return view(*args, **kwargs)

    return checked


def _answer():
    yandex = current_app.extensions["yandex"]
    with db().read() as session:
        effective = portal_settings.current(session, g.caller.portal)
    organisation = yandex.organisation_status(g.caller.portal)
    deployment_token = bool(yandex.settings.yandex_oauth_token)
    row = effective.row
    return jsonify(
        {
            "defaults": effective.defaults.model_dump(),
            "broadcasts": effective.broadcasts,
            "yandex": {
                "organisation": organisation,
                "service_app": {
                    "client_id": effective.service_app_client_id,
                    "secret_set": bool(effective.service_app_secret),
                }
                if effective.service_app_client_id
                else None,
                "deployment_token": deployment_token,
                "can_connect": yandex.oauth is not None,
                "rooms_made_with": "organisation"
                if organisation["connected"] and not organisation["needs_reconnect"]
                else "deployment_token"
                if deployment_token
                else "nothing",
            },
            "updated_at": row.updated_at.isoformat() if row else None,
            "updated_by": {"id": row.updated_by_id, "name": row.updated_by_name}
            if row and row.updated_by_id is not None
            else None,
        }
    )


@bp.get("/defaults")
@login_required
@documented(
    "What a new meeting gets when it does not say (anyone signed in: the form starts from it)",
    responses={200: PortalDefaultsOut},
)
def read_defaults():
    with db().read() as session:
        effective = portal_settings.current(session, g.caller.portal)
    return jsonify({"defaults": effective.defaults.model_dump(), "broadcasts": effective.broadcasts})


@bp.get("")
@login_required
@admin_only
@documented("The portal's settings (administrators)", responses={200: SettingsOut, 403: ErrorOut})
def read_settings():
    return _answer()


@bp.put("")
@login_required
@admin_only
@documented(
    "Replace the portal's settings (administrators); every change is recorded",
    body=SettingsIn,
    responses={200: SettingsOut, 400: ErrorOut, 403: ErrorOut, 422: ErrorOut},
)
def replace_settings():
    wanted = parse_body(SettingsIn)
    app = wanted.yandex.service_app
    if app is not None and app.client_secret is None:
        with db().read() as session:
            stored = portal_settings.current(session, g.caller.portal)
        if not stored.service_app_secret:
            raise ApiError(
                422,
                "Some fields are not valid",
                {"yandex.service_app.client_secret": "is required the first time"},
            )
    portal_settings.save(db(), current_app.extensions["box"], g.caller, wanted)
    return _answer()


@bp.delete("/yandex/organisation")
@login_required
@admin_only
@documented(
    "Disconnect the portal's Yandex 360 organisation (administrators); recorded as a change",
    responses={204: None, 403: ErrorOut},
)
def disconnect_organisation():
    yandex = current_app.extensions["yandex"]
    before = yandex.organisation_status(g.caller.portal)
    if before["connected"]:
        yandex.disconnect(g.caller.portal, ORGANISATION)
        portal_settings.record(db(), g.caller, {"yandex.organisation": {"from": before["email"], "to": None}})
    return "", 204


@bp.get("/changes")
@login_required
@admin_only
@documented(
    "Who changed which setting, newest first (administrators)",
    query=ChangesQuery,
    responses={200: SettingsChangePage, 403: ErrorOut, 422: ErrorOut},
)
def list_changes():
    query = parse_query(ChangesQuery)
    with db().read() as session:
        rows, total = portal_settings.changes_page(session, g.caller.portal, query.page, query.per_page)
        items = [
            {
                "at": row.at.isoformat(),
                "user": {"id": row.user_id, "name": row.user_name},
                "changes": row.changes,
            }
            for row in rows
        ]
    return jsonify({"items": items, "total": total, "page": query.page, "per_page": query.per_page})
