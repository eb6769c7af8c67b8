"""Telemost-only /_sandbox/ routes: tokens and Yandex accounts a test can add at run time.

They answer errors in the same four-key shape as the emulated API.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from .errors import bad_request
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

    return bp


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
