"""Telemost-only /_sandbox/ routes: tokens and Yandex accounts a test can add at run time, and the
sandbox Yandex OAuth server's settings, its organisations' service apps and what its users do outside
the app (revoking it).

They answer errors in the same four-key shape as the emulated API.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from .errors import bad_request
from .oauth import REGISTERED_SCOPES, ServiceApp, YandexOAuthServer
from .oauth_accounts import SANDBOX_ACCOUNTS, YandexAccount, find_account
from .state import CONFERENCE_SCOPES, TelemostState, Token
from .validation import read_json_object


def telemost_control_blueprint(store: TelemostState) -> Blueprint:
    bp = Blueprint("telemost_sandbox_control", __name__, url_prefix="/_sandbox")

    @bp.post("/tokens")
    def add_token():
        """{"token", "scopes"?, "organization"?, "live_streams"?, "email"?}; a known token is replaced."""
        token = _read_token(read_json_object())
        store.add_token(token)
        return jsonify(token.public()), 201

    @bp.post("/accounts")
    def add_accounts():
        """{"emails": [...]}: these addresses get a Yandex account, so they can be cohosts."""
        emails = read_json_object().get("emails")
        if not (isinstance(emails, list) and all(isinstance(e, str) and "@" in e for e in emails)):
            raise bad_request("emails must be a list of email addresses.", "emails")
        return jsonify({"accounts": store.add_accounts(emails)}), 201

    @bp.post("/foreign-rooms")
    def set_foreign_room_status():
        """{"status": 404 | 403}: what another account than a room's organiser gets for it, until a reset."""
        try:
            store.set_foreign_room_status(read_json_object().get("status"))
        except ValueError as exc:
            raise bad_request(str(exc), "status") from None
        return jsonify({"status": store.foreign_room_status})

    return bp


def oauth_control_blueprint(server: YandexOAuthServer) -> Blueprint:
    bp = Blueprint("yandex_oauth_sandbox_control", __name__, url_prefix="/_sandbox/oauth")

    @bp.get("/config")
    def get_config():
        return jsonify({"access_ttl": server.access_ttl})

    @bp.post("/config")
    def set_config():
        """{"access_ttl": seconds}: the lifetime of access tokens issued from now on."""
        try:
            server.configure(read_json_object().get("access_ttl"))
        except ValueError as exc:
            raise bad_request(str(exc), "access_ttl") from None
        return jsonify({"access_ttl": server.access_ttl})

    @bp.post("/service-apps")
    def add_service_app():
        """{"client_id", "client_secret", "org_id", "scopes"?}: the organisation's owner lists an OAuth
        app as a service app, until a reset. GET /_sandbox/state shows them under oauth.service_apps."""
        try:
            app = _read_service_app(read_json_object())
            server.add_service_app(app)
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        return jsonify(app.public()), 201

    @bp.post("/revoke")
    def revoke():
        """{"email"}: the user revoked the app in their Yandex settings; every token of theirs dies."""
        account = _read_account(read_json_object())
        return jsonify({"email": account.email, "revoked": server.revoke(account)})

    @bp.post("/expire")
    def expire():
        """{"email"}: that account's token pairs reach the end of their lifetime now: the access token
        and its refresh token both die (Yandex: "Время жизни токенов совпадает")."""
        account = _read_account(read_json_object())
        return jsonify({"email": account.email, "expired": server.expire(account)})

    return bp


def _read_account(body: dict[str, Any]) -> YandexAccount:
    email = body.get("email")
    account = find_account(email) if isinstance(email, str) else None
    if account is None:
        raise bad_request(f"email must be one of the sandbox Yandex accounts: {', '.join(SANDBOX_ACCOUNTS)}.", "email")
    return account


def _read_service_app(body: dict[str, Any]) -> ServiceApp:
    values = {key: body.get(key) for key in ("client_id", "client_secret", "org_id")}
    for key, value in values.items():
        if not (isinstance(value, str) and value and not any(char.isspace() for char in value)):
            raise ValueError(f"{key} must be a non-empty string without spaces.")
    scopes = body.get("scopes", sorted(REGISTERED_SCOPES))
    if not (isinstance(scopes, list) and all(isinstance(scope, str) for scope in scopes)):
        raise ValueError("scopes must be a list of strings.")
    return ServiceApp(**values, scopes=frozenset(scopes))


def _read_token(body: dict[str, Any]) -> Token:
    name = body.get("token")
    if not (isinstance(name, str) and name and not any(char.isspace() for char in name)):
        raise bad_request("token must be a non-empty string without spaces.", "token")
    scopes = body.get("scopes", sorted(CONFERENCE_SCOPES))
    if not (isinstance(scopes, list) and all(isinstance(scope, str) for scope in scopes)):
        raise bad_request("scopes must be a list of strings.", "scopes")
    flags = {key: body.get(key, True) for key in ("organization", "live_streams")}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise bad_request(f"{key} must be true or false.", key)
    email = body.get("email", "organizer@example.com")
    if not (isinstance(email, str) and "@" in email):
        raise bad_request("email must be an email address.", "email")
    return Token(name, frozenset(scopes), flags["organization"], flags["live_streams"], email)
