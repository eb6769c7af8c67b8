"""Application factory of the Telemost emulator (DESIGN.md §6, CONTRACT.md §5).

Settings, each also read from an environment variable prefixed SANDBOX_TELEMOST_ (values are parsed
as JSON when they can be):
- ACCOUNT_DOMAINS: domains whose every address has a Yandex account (a list, or "a.com,b.ru");
- PUBLIC_URL: where join and watch links point, https://telemost.yandex.ru by default;
- OAUTH_ACCESS_TTL: seconds an access token from the sandbox Yandex OAuth server lives (3600);
- FOREIGN_ROOM_STATUS: what another account than a room's organiser gets for it, 404 (the default)
  or 403 (which one Telemost answers is unverified; POST /_sandbox/foreign-rooms changes it at run time).
Tests may also pass CLOCK, a () -> unix seconds callable, to move the OAuth server's time.

The same app is the sandbox's Yandex OAuth server (/oauth) and Yandex ID (/login): see oauth_routes.py.
"""
from __future__ import annotations

import time
from typing import Any

from flask import Flask

from sandbox.control import Faults, RequestLog, control_blueprint, json_errors_everywhere
from sandbox.request_capture import capture_requests

from .control_routes import oauth_control_blueprint, telemost_control_blueprint
from .errors import ApiError, generic_error
from .oauth import DEFAULT_ACCESS_TTL_S, YandexOAuthServer
from .oauth_routes import register_yandex_oauth
from .routes import register_api
from .state import DEFAULT_ACCOUNT_DOMAINS, DEFAULT_PUBLIC_URL, TelemostState, Token

_DEFAULTS: dict[str, Any] = {
    "ACCOUNT_DOMAINS": list(DEFAULT_ACCOUNT_DOMAINS),
    "PUBLIC_URL": DEFAULT_PUBLIC_URL,
    "OAUTH_ACCESS_TTL": DEFAULT_ACCESS_TTL_S,
    "FOREIGN_ROOM_STATUS": 404,
    "MAX_CONTENT_LENGTH": 1024 * 1024,  # a real create body is a few hundred bytes
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.json.ensure_ascii = False  # the real service sends its Russian messages as UTF-8 text
    app.config.update(_DEFAULTS)
    app.config.from_prefixed_env("SANDBOX_TELEMOST")
    app.config.update(config or {})

    store = TelemostState(_domains(app.config["ACCOUNT_DOMAINS"]), app.config["PUBLIC_URL"],
                          int(app.config["FOREIGN_ROOM_STATUS"]))
    oauth = YandexOAuthServer(app.config["OAUTH_ACCESS_TTL"], app.config.get("CLOCK", time.time))
    faults = Faults()
    request_log = RequestLog()
    capture_requests(app, ("/v1/telemost-api", "/oauth", "/login"))  # before the fault hooks: tests/conformance/

    def find_token(value: str) -> Token | None:
        return store.token(value) or oauth.telemost_token(value)

    def state() -> dict[str, Any]:
        return dict(store.snapshot(), oauth=oauth.snapshot(), requests=request_log.snapshot())

    def reset() -> None:
        store.reset()
        oauth.reset()
        request_log.clear()

    app.register_blueprint(control_blueprint(state, reset, faults))
    app.register_blueprint(telemost_control_blueprint(store))
    app.register_blueprint(oauth_control_blueprint(oauth))
    register_api(app, store, find_token, faults, request_log)
    register_yandex_oauth(app, oauth, faults, request_log)
    app.register_error_handler(ApiError, ApiError.response)
    json_errors_everywhere(app, lambda status, description: generic_error(status, description).response())

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def _domains(value: str | list[str]) -> list[str]:
    if isinstance(value, str):
        return [domain.strip() for domain in value.split(",") if domain.strip()]
    return list(value)
