"""The web process: a Flask application factory (DESIGN §2-3)."""
from __future__ import annotations

import logging

import requests
from flask import Flask
from werkzeug.routing import IntegerConverter

from shared.config import Settings, load_settings
from shared.db import Database

from .errors import register_error_handlers
from .prefix import PrefixMiddleware
from .queue import Queue

MAX_BODY_BYTES = 64 * 1024  # the largest valid conference is well under this


class RowIdConverter(IntegerConverter):
    """A database id: positive and within a 32-bit integer, so a huge number is a 404, not an overflow."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**31 - 1)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    logging.basicConfig(level=settings.logging_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, SETTINGS=settings, BASE_PATH=settings.base_path,
                      MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
                      TESTING=settings.flask_env == "testing")
    app.json.sort_keys = False
    app.url_map.converters["id"] = RowIdConverter
    app.extensions["db"] = Database(settings.database_url)
    app.extensions["queue"] = Queue(settings)
    app.extensions["http"] = requests.Session()

    from .api import conferences, session
    from . import health, openapi

    for blueprint in (conferences.bp, session.bp, health.bp, openapi.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.wsgi_app = PrefixMiddleware(app.wsgi_app, settings.base_path)
    return app
