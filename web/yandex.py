"""Connecting a user's own Yandex account (OAuth code flow), so that their rooms are made in their name.

The popup opens /auth/yandex/login on the app's own origin, so the cookie set there is first-party; it
comes back on Yandex's top-level redirect to the callback (SameSite=Lax) and nowhere else (its Path).
Every refusal is a page that says what to do, and stores nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, make_response, redirect, render_template, request
from pydantic import BaseModel

from shared.clients.errors import OutsideServiceError
from shared.portal import settings as portal_settings
from shared.portal.caller import Caller
from shared.schemas import ErrorOut
from shared.yandex.accounts import CONNECT_TTL_SECONDS, ORGANISATION, ConnectRefused
from web.auth import authenticated, login_required
from web.errors import ApiError
from web.openapi import documented

bp = Blueprint("yandex", __name__)
BROWSER_COOKIE = "telemost_yandex_connect"
MAX_CODE_CHARS = 256
UNINSTALLED = "The app is no longer installed on this portal, so no Yandex account was connected."
ORGANISATION_ADMINS_ONLY = "Only a portal administrator can connect the portal's Yandex 360 organisation."


class YandexAccountOut(BaseModel):
    connected: bool
    email: str | None
    needs_reconnect: bool


def _accounts():
    accounts = current_app.extensions["yandex"]
    if accounts.oauth is None:
        raise ApiError(
            404,
            "Connecting a Yandex account is not set up here (YANDEX_CLIENT_ID)",
            reason="yandex_not_configured",
        )
    return accounts


def _result(ok: bool, message: str, status: int = 200, replace: bool = False):
    page = render_template("yandex_connected.html", ok=ok, message=message, replace=replace)
    response = make_response(page, status)
    _forget_browser(response)
    return response


def _cookie_options() -> dict:
    """Path and Secure follow the callback URL Yandex sends the browser to (YANDEX_REDIRECT_URI)."""
    callback = urlsplit(_accounts().oauth.redirect_uri)
    return {
        "path": callback.path or "/",
        "secure": request.is_secure or callback.scheme == "https",
        "httponly": True,
        "samesite": "Lax",
    }


def _forget_browser(response) -> None:
    if BROWSER_COOKIE in request.cookies:
        response.delete_cookie(BROWSER_COOKIE, **_cookie_options())


@bp.get("/auth/yandex/login")
def login():
    """Opened in a popup with the app token in the query (a popup cannot send the header).

    `replace=1` is the user's consent, asked by the app, to replace a connected account with another.
    `organisation=1`: an administrator connects the portal's Yandex 360 organisation, which then makes the
    rooms of everyone without an account of their own (a new sign-in replaces the one before: it is theirs).
    """
    caller, _ = authenticated(
        request.args.get("token", "")
    )  # refused once the install it was issued under ends
    organisation = request.args.get("organisation") == "1"
    if organisation and not caller.is_admin:
        return _result(False, ORGANISATION_ADMINS_ONLY, 403)
    try:
        url, browser_secret = _accounts().start_connect(
            caller.portal,
            ORGANISATION if organisation else caller.user_id,
            replace=organisation or request.args.get("replace") == "1",
            by=(caller.user_id, caller.name) if organisation else None,
        )
    except ConnectRefused as refused:
        return _result(False, refused.message, refused.status)
    response = redirect(url)
    response.set_cookie(BROWSER_COOKIE, browser_secret, max_age=CONNECT_TTL_SECONDS, **_cookie_options())
    return response


@bp.get("/auth/yandex/callback")
def callback():
    accounts = _accounts()
    try:
        flow = accounts.finish_connect(request.args.get("state", ""), request.cookies.get(BROWSER_COOKIE))
        if not current_app.extensions["portals"].is_installed(flow.portal):
            return _result(False, UNINSTALLED, 400)
        if request.args.get("error") or not request.args.get("code"):
            return _result(False, "Yandex did not connect the account.")
        before = accounts.status(flow.portal, flow.user_id)["email"]
        email = accounts.connect(flow, request.args["code"][:MAX_CODE_CHARS])
    except ConnectRefused as refused:
        return _result(False, refused.message, refused.status, refused.replace)
    except OutsideServiceError as error:
        if error.transient:
            return _result(False, error.message, 502)
        # Yandex refused the code (used, expired, or not this sign-in's: PKCE) or the token it gave.
        return _result(
            False,
            f"Yandex did not accept this sign-in ({error.code or error.status}), so nothing "
            "was connected. Start again from the app.",
            400,
        )
    if flow.user_id == ORGANISATION:
        if flow.by and before != email:
            admin = Caller(flow.portal, flow.by[0], flow.by[1], is_admin=True)
            portal_settings.record(
                current_app.extensions["db"], admin, {"yandex.organisation": {"from": before, "to": email}}
            )
        return _result(
            True,
            f"Connected the Yandex 360 organisation as {email or 'this Yandex account'}. The portal's rooms "
            "are made with it for everyone who has not connected an account of their own.",
        )
    # Only a room's organiser changes it (yandex/room_organiser.py): say so before an edit fails.
    return _result(
        True,
        f"Connected {email or 'your Yandex account'}. Your new rooms are made with it; a room made "
        "before is changed only with the account that made it.",
    )


@bp.get("/api/yandex/account")
@login_required
@documented("The caller's connected Yandex account, if any", responses={200: YandexAccountOut})
def account():
    return jsonify(current_app.extensions["yandex"].status(g.caller.portal, g.caller.user_id))


@bp.delete("/api/yandex/account")
@login_required
@documented("Disconnect the caller's Yandex account", responses={204: None, 404: ErrorOut})
def disconnect():
    current_app.extensions["yandex"].disconnect(g.caller.portal, g.caller.user_id)
    return "", 204
