"""Connecting a user's own Yandex account (OAuth code flow), so that their rooms are made in their name."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from shared.clients.errors import OutsideServiceError
from pydantic import BaseModel

from shared.schemas import ErrorOut

from .auth import login_required, verify_token
from .errors import ApiError
from .openapi import documented

bp = Blueprint("yandex", __name__)
STATE_TTL_SECONDS = 600


class YandexAccountOut(BaseModel):
    connected: bool
    email: str | None
    needs_reconnect: bool


def _states() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="yandex-oauth-state")


def _accounts():
    accounts = current_app.extensions["yandex"]
    if accounts.oauth is None:
        raise ApiError(404, "Connecting a Yandex account is not set up here (YANDEX_CLIENT_ID)")
    return accounts


@bp.get("/auth/yandex/login")
def login():
    """Opened in a popup with the app token in the query (a popup cannot send the header)."""
    claims = verify_token(request.args.get("token", ""))
    state = _states().dumps({"p": claims["p"], "u": claims["u"]})
    return redirect(_accounts().oauth.authorize_url(state))


@bp.get("/auth/yandex/callback")
def callback():
    try:
        who = _states().loads(request.args.get("state", ""), max_age=STATE_TTL_SECONDS)
    except BadSignature:
        return render_template("yandex_connected.html", ok=False,
                               message="The sign-in took too long or did not start here. Try again."), 400
    if request.args.get("error") or not request.args.get("code"):
        return render_template("yandex_connected.html", ok=False, message="Yandex did not connect the account."), 200
    try:
        email = _accounts().connect(who["p"], int(who["u"]), request.args["code"][:256])
    except OutsideServiceError as error:
        return render_template("yandex_connected.html", ok=False, message=error.message), 502
    return render_template("yandex_connected.html", ok=True, message=f"Connected {email or 'your Yandex account'}.")


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
