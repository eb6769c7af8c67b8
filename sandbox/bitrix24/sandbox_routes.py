"""Bitrix24-only control routes (CONTRACT §5), besides state/reset/faults of sandbox.control:

POST /_sandbox/launch {"user_id"}        what the portal POSTs to open the app as that user (reference §1.1)
POST /_sandbox/tokens {"user_id", "ttl"?, "scope"?, "client_id"?}   a fresh token pair, for tests (client_id:
                                                     of another application installed on the portal)
POST /_sandbox/oauth_code {"user_id", "scope"?}       a code for grant_type=authorization_code (lives 30 s)
GET|POST /_sandbox/config {"token_ttl", "bucket_size", "drain_per_second"}
POST /_sandbox/users {"name", "last_name", "email", "position", ...}   one more portal user
POST /_sandbox/rename {"domain"}      the portal moves to a new host[:port]; the old one answers REST with 302
POST /_sandbox/delete_portal          the portal is deleted: REST answers 500 PORTAL_DELETED
POST /_sandbox/robot {"code", "user_id", "properties", "document"?, "event_token"?}   the portal runs the app's
                                     robot as a workflow would: POSTs to its HANDLER (sandbox/bitrix24/robot_runs.py)
GET /healthz
The app's install/uninstall and events are in install_routes.py; the portal page and BX24 shim in portal_page.py.
"""
from __future__ import annotations

import dataclasses
import json
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, request

from . import robot_runs
from .calendar_dates import DateValueError, zone
from .portal import Portal
from .users import User


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def json_error(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def active_user(portal: Portal, user_id: Any) -> User:
    """The active portal user with that id; aborts with a 404 JSON answer when there is none."""
    user = portal.users.get(user_id)
    if user is None or not user.active:
        response, status = json_error(404, f"no active portal user with id {user_id!r}")
        response.status_code = status
        abort(response)
    return user


def sandbox_blueprint(portal: Portal) -> Blueprint:
    bp = Blueprint("bitrix24_sandbox", __name__)

    @bp.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @bp.post("/_sandbox/launch")
    def launch() -> Any:
        body = json_body()
        user = active_user(portal, body.get("user_id"))
        return jsonify(launch_request(portal, user, body))

    @bp.post("/_sandbox/placement")
    def placement() -> Any:
        """What the portal POSTs when a user opens one of the app's placements (CONTRACT §5): the launch's
        fields to the bound handler, with PLACEMENT and PLACEMENT_OPTIONS (b24restdocs api-reference/
        widgets/im/textarea.md, "What the Handler Receives"). 409 when the app has not bound it."""
        body = json_body()
        user = active_user(portal, body.get("user_id"))
        code = str(body.get("placement") or "").upper()
        options = body.get("options") or {}
        if not isinstance(options, dict):
            return json_error(400, "options must be an object")
        with portal.lock:
            bound = next((p for p in portal.placements if p.placement == code), None)
        if bound is None:
            return json_error(409, f"the app has not bound the placement {code or '(none)'}")
        return jsonify(launch_request(portal, user, {**body, "placement": code, "placement_options": options},
                                      handler_url=bound.handler))

    @bp.post("/_sandbox/robot")
    def robot() -> Any:
        """{"event_token", "status", "body", "delivered"} (what the handler was sent and answered; "error" when
        nothing answered), never the tokens; 404 for an unknown code, 409 when the app is not installed, 400 for
        bad input. "document" is
        "deal:1" by default; "event_token", one sent before, stands for the portal sending the same call again."""
        body = json_body()
        user = active_user(portal, body.get("user_id"))
        try:
            return jsonify(robot_runs.run(portal, user, body))
        except robot_runs.UnknownRobot as exc:
            return json_error(404, str(exc))
        except PermissionError as exc:
            return json_error(409, str(exc))
        except ValueError as exc:
            return json_error(400, str(exc))

    @bp.post("/_sandbox/tokens")
    def tokens() -> Any:
        body = json_body()
        user = active_user(portal, body.get("user_id"))
        ttl = body.get("ttl")
        if ttl is not None and (not isinstance(ttl, (int, float)) or isinstance(ttl, bool) or ttl <= 0):
            return json_error(400, "ttl must be a number of seconds > 0")
        client_id = body.get("client_id")
        if client_id is not None and (not isinstance(client_id, str) or not client_id.strip()):
            return json_error(400, "client_id must be a non-empty string")
        pair = portal.issue_tokens(user.id, ttl, body.get("scope"), client_id)
        return jsonify({"access_token": pair.access.value, "refresh_token": pair.refresh.value,
                        "expires_in": round(pair.access.expires_at - portal.now()), "user_id": user.id,
                        "scope": pair.access.scope})

    @bp.post("/_sandbox/oauth_code")
    def oauth_code() -> Any:
        body = json_body()
        user = active_user(portal, body.get("user_id"))
        with portal.lock:
            code = portal.tokens.issue_code(user.id, body.get("scope") or portal.settings.token_scope,
                                            portal.settings.auth_code_ttl)
        return jsonify({"code": code.value, "expires_in": portal.settings.auth_code_ttl})

    @bp.route("/_sandbox/config", methods=["GET", "POST"])
    def config() -> Any:
        if request.method == "GET":
            return jsonify(dict(portal.config))
        try:
            return jsonify(portal.configure(json_body()))
        except ValueError as exc:
            return json_error(400, str(exc))

    @bp.post("/_sandbox/users")
    def add_user() -> Any:
        try:
            fields = new_user_fields(json_body())
        except ValueError as exc:
            return json_error(400, str(exc))
        with portal.lock:
            user = portal.users.add(**fields)
        return jsonify(user.as_state()), 201

    @bp.post("/_sandbox/rename")
    def rename() -> Any:
        domain = json_body().get("domain")
        domain = domain.strip().lower() if isinstance(domain, str) else ""
        if not HOST.fullmatch(domain):
            return json_error(400, "domain must be a host[:port], e.g. localhost:8082")
        with portal.lock:
            old = portal.settings
            if domain == old.domain:
                return json_error(400, "that is the portal's domain already")
            scheme = "https" if old.public_url.startswith("https") else "http"
            portal.former_domains.append(old.domain)
            portal.settings = dataclasses.replace(old, domain=domain, public_url=f"{scheme}://{domain}",
                                                  oauth_root=old.oauth_root or old.public_url)
        return jsonify({"domain": domain, "former_domains": list(portal.former_domains)})

    @bp.post("/_sandbox/delete_portal")
    def delete_portal() -> Any:
        with portal.lock:
            portal.deleted = True
        return jsonify({"deleted": True})

    return bp


HOST = re.compile(r"[a-z0-9]([a-z0-9.-]{0,250}[a-z0-9])?(:[0-9]{1,5})?")


def launch_request(portal: Portal, user: User, body: dict[str, Any], handler_url: str | None = None) -> dict[str, Any]:
    """DOMAIN, PROTOCOL, LANG, APP_SID go in the query string; the rest is the form body (reference §1.1).

    handler_url: where the POST goes, app_url by default (the installer is app_url + "install").
    """
    settings = portal.settings
    handler_url = handler_url or settings.app_url
    pair = portal.issue_tokens(user.id)
    query = {"DOMAIN": settings.domain, "PROTOCOL": str(settings.protocol),
             "LANG": str(body.get("lang") or settings.lang),
             "APP_SID": secrets.token_hex(16)}
    form = {
        "AUTH_ID": pair.access.value,
        "AUTH_EXPIRES": str(round(pair.access.expires_at - portal.now())),
        "REFRESH_ID": pair.refresh.value,
        "SERVER_ENDPOINT": settings.server_endpoint,
        "APPLICATION_TOKEN": settings.application_token,
        "APPLICATION_SCOPE": pair.access.scope,
        "member_id": settings.member_id,
        "status": "L",
        "PLACEMENT": str(body.get("placement") or "DEFAULT"),
        "PLACEMENT_OPTIONS": json.dumps(body.get("placement_options") or {}),
    }
    separator = "&" if "?" in handler_url else "?"
    return {"url": f"{handler_url}{separator}{urlencode(query)}", "query": query, "form": form}


def new_user_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in ("name", "last_name", "email", "position"):
        value = body.get(name, "" if name == "position" else None)
        if not isinstance(value, str) or (name != "position" and not value.strip()):
            raise ValueError(f"{name} is required (a string)")
        fields[name] = value.strip()
    time_zone = body.get("time_zone", "Europe/Moscow")
    try:
        zone(time_zone)
    except DateValueError:
        raise ValueError(f"time_zone {time_zone!r} is not an IANA time zone") from None
    fields["time_zone"] = time_zone
    for flag in ("is_admin", "active"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise ValueError(f"{flag} must be true or false")
            fields[flag] = body[flag]
    return fields
