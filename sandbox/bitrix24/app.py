"""The Bitrix24 portal emulator as a Flask app: REST API, OAuth server, /_sandbox/ control routes, and the
portal page (GET /) that opens the app in an iframe with the BX24 shim."""
from __future__ import annotations

import time
from typing import Any, Callable

from flask import Flask

from ..control import Faults, RequestLog, control_blueprint, json_errors_everywhere
from .cors import allow_app_origin
from .envelope import render_http_error
from .install_routes import install_blueprint
from .oauth_server import oauth_blueprint
from .portal import Portal
from .portal_page import portal_page_blueprint
from .request_capture import capture_portal_requests
from .rest_routes import rest_blueprint
from .sandbox_routes import sandbox_blueprint
from .settings import load_settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """config: any field of Settings, plus "clock" (a () -> unix seconds callable; tests pass a fake one)."""
    config = dict(config or {})
    clock: Callable[[], float] = config.pop("clock", time.time)
    settings = load_settings(config)
    faults = Faults()
    portal = Portal(settings, clock, faults, RequestLog())

    app = Flask(__name__)
    app.json.sort_keys = False  # keep Bitrix24's field order (result before time, ...)
    app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024
    app.extensions["bitrix24_portal"] = portal
    capture_portal_requests(app)  # GET /_sandbox/requests: what the app sent (tests/conformance/)
    app.register_blueprint(rest_blueprint(portal))
    app.register_blueprint(oauth_blueprint(portal))
    app.register_blueprint(control_blueprint(portal.state, portal.reset, faults))
    app.register_blueprint(sandbox_blueprint(portal))
    app.register_blueprint(install_blueprint(portal))
    app.register_blueprint(portal_page_blueprint(portal))
    allow_app_origin(app, settings)
    json_errors_everywhere(app, render_http_error)
    return app
