"""Control routes for the app's life on the portal (DESIGN §6):

POST /_sandbox/install {"user_id", "install_event_url"?}   an admin finished the installer: installed,
                                       ONAPPINSTALL delivered to the handlers bound for it and to the
                                       card's installation event URL, if any (none: nothing is sent)
POST /_sandbox/uninstall {"clean"?}    tokens revoked, bindings dropped, ONAPPUNINSTALL delivered
POST /_sandbox/events {"event", "data"?, "user_id"?}   any other event, to the handlers bound with event.bind

POST /_sandbox/echoes {"delay_seconds"}   how long the calendar events of REST writes wait in the
                                       portal's queue before they are sent (sandbox/bitrix24/calendar_echoes.py)

Each answers what the app answered ("delivered"); a delivery that failed is reported, never raised.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, jsonify

from . import app_install
from .integrations import KNOWN_EVENTS
from .portal import Portal
from .sandbox_routes import active_user, json_body, json_error


def install_blueprint(portal: Portal) -> Blueprint:
    bp = Blueprint("bitrix24_install", __name__, url_prefix="/_sandbox")

    @bp.post("/install")
    def install() -> Any:
        user = active_user(portal, json_body().get("user_id"))
        if not user.is_admin:  # the portal shows the installer to administrators only
            return json_error(403, f"user {user.id} is not an administrator; only an administrator installs the app")
        url = json_body().get("install_event_url")
        if url is not None and (not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https")):
            return json_error(400, "install_event_url must be an http(s) URL")
        return jsonify(app_install.install(portal, user, url))

    @bp.post("/uninstall")
    def uninstall() -> Any:
        clean = json_body().get("clean", 0)
        if clean not in (0, 1) or isinstance(clean, bool):
            return json_error(400, "clean must be 0 or 1")
        return jsonify(app_install.uninstall(portal, clean))

    @bp.post("/events")
    def events() -> Any:
        body = json_body()
        event = str(body.get("event") or "").upper()
        data = body.get("data", {})
        if event not in KNOWN_EVENTS or event in ("ONAPPINSTALL", "ONAPPUNINSTALL"):
            return json_error(400, "event must be a known event; ONAPPINSTALL/ONAPPUNINSTALL come with install/uninstall")
        if not isinstance(data, dict):
            return json_error(400, "data must be a JSON object")
        if not portal.installed:  # a portal sends no events to an app that is not installed (reference §1.3)
            return json_error(409, "the app is not installed")
        user = active_user(portal, body.get("user_id", portal.settings.webhook_user_id))
        return jsonify({"event": event, "delivered": app_install.send_event(portal, event, data, user)})

    @bp.post("/echoes")
    def echoes() -> Any:
        delay = json_body().get("delay_seconds")
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 60:
            return json_error(400, "delay_seconds must be a number from 0 to 60")
        portal.echoes.delay_seconds = float(delay)
        return jsonify({"delay_seconds": portal.echoes.delay_seconds})

    return bp
