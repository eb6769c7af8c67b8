"""The sandbox portal page (DESIGN §6): a user switcher and the app in an iframe, opened by a real form POST.

GET /?user_id=N                     the page as user N (default: the first administrator)
GET /_sandbox/portal.js             the page's script: launch, BX24 message handling, user picker
GET /_sandbox/bx24.js               the BX24 shim the app loads instead of //api.bitrix24.com/api/v1/
POST /_sandbox/refresh_auth {"user_id"}   a fresh token pair in BX24.getAuth() shape, for BX24.refreshAuth

Each render is a new launch (new tokens and APP_SID), as each opening of an app is on a real portal.
Not installed: an admin gets the installer (app_url + "install"), anyone else the portal's notice.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, send_from_directory

from .portal import Portal
from .portal_panels import entry, panels, placement_launch
from .sandbox_routes import active_user, json_body, launch_request
from .settings import origin_of
from .users import User

ASSETS = Path(__file__).with_name("assets")
SCRIPTS = ("bx24.js", "portal.js")
SHOWN_DELIVERIES = 5


def bx24_auth(portal: Portal, access_token: str, refresh_token: str, expires_in: int) -> dict[str, Any]:
    """What BX24.getAuth() returns (reference §1.4)."""
    settings = portal.settings
    return {"access_token": access_token, "refresh_token": refresh_token, "expires_in": expires_in,
            "domain": settings.domain, "member_id": settings.member_id}


def portal_page_blueprint(portal: Portal) -> Blueprint:
    bp = Blueprint("bitrix24_portal_page", __name__, template_folder="assets")

    @bp.get("/")
    def page() -> str:
        users = [user for user in portal.users.all() if user.active]
        default = next((user for user in users if user.is_admin), users[0] if users else None)
        user = active_user(portal, request.args.get("user_id", default.id if default else None))
        # ?lang=en opens the app as a user whose interface language is English (LANG in the launch);
        # ?placement=&options= opens it in one of its bound placements (portal_panels.py).
        launch = _launch_for(portal, user, request.args.get("lang", ""), placement_launch(portal, request.args))
        with portal.lock:
            deliveries = portal.deliveries.snapshot()[-SHOWN_DELIVERIES:][::-1]
        return render_template("portal.html", settings=portal.settings, users=users, user=user,
                               installed=portal.installed, launch=launch, deliveries=deliveries,
                               config=_page_config(portal, user, users, launch), lang=request.args.get("lang", ""),
                               panels=panels(portal, user) if portal.installed else None, entry=entry)

    @bp.get("/_sandbox/<any(bx24.js, portal.js):name>")
    def script(name: str) -> Response:
        return send_from_directory(ASSETS, name, mimetype="text/javascript", max_age=0)

    @bp.post("/_sandbox/refresh_auth")
    def refresh_auth() -> Response:
        user = active_user(portal, json_body().get("user_id"))
        pair = portal.issue_tokens(user.id)
        expires_in = round(pair.access.expires_at - portal.now())
        return jsonify(bx24_auth(portal, pair.access.value, pair.refresh.value, expires_in))

    return bp


def _launch_for(portal: Portal, user: User, lang: str = "",
                placement: tuple[str, dict[str, Any]] | None = None) -> dict[str, Any] | None:
    body: dict[str, Any] = {"lang": lang} if lang.isalpha() and len(lang) <= 5 else {}
    if portal.installed and placement:
        handler, where = placement
        return launch_request(portal, user, {**body, **where}, handler_url=handler)
    if portal.installed:
        return launch_request(portal, user, body)
    if user.is_admin:
        return launch_request(portal, user, body, handler_url=portal.settings.install_url)
    return None


def _page_config(portal: Portal, user: User, users: list[User], launch: dict[str, Any] | None) -> dict[str, Any]:
    """What portal.js needs: the launch's secret (APP_SID) and auth, whom to talk to, whom to offer."""
    settings = portal.settings
    form = launch["form"] if launch else {}
    return {
        "portal_origin": origin_of(settings.public_url),
        "app_origin": settings.app_origin,
        "app_sid": launch["query"]["APP_SID"] if launch else None,
        "app_code": settings.client_id,  # BX24.openPath's from_app
        "installing": launch is not None and not portal.installed,
        "auth": bx24_auth(portal, form["AUTH_ID"], form["REFRESH_ID"], int(form["AUTH_EXPIRES"])) if launch else None,
        "client_endpoint": settings.client_endpoint,
        "lang": launch["query"]["LANG"] if launch else settings.lang,
        "placement": form.get("PLACEMENT", "DEFAULT"),
        "placement_options": json.loads(form.get("PLACEMENT_OPTIONS", "{}")),
        "user": {"id": user.id, "name": user.full_name, "is_admin": user.is_admin},
        "users": [{"id": str(u.id), "name": u.full_name, "position": u.position} for u in users],
    }
