"""The web process: a Flask application factory (DESIGN §2-3)."""

from __future__ import annotations

from typing import cast

import requests
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, ValidationError

from shared.config import Settings, load_settings
from shared.crypto import TokenBox
from shared.db import Database
from shared.logs import configure_logging
from shared.portal.access import BitrixAccess
from shared.portal.identity import Identity
from shared.portal.install import Portals
from shared.yandex.accounts import YandexAccounts
from web.errors import register_error_handlers
from web.prefix import PrefixMiddleware
from web.queue import Queue

MAX_BODY_BYTES = 64 * 1024  # the largest valid conference is well under this


class RowIdConverter(IntegerConverter):
    """A database id: positive and within a 32-bit integer, so a huge number is a 404, not an overflow."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**31 - 1)

    def to_python(self, value: str) -> int:
        try:
            return super().to_python(value)
        except ValidationError:
            # Werkzeug would answer a 405 when a rule for another method on this path came first.
            raise NotFound() from None


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    configure_logging(settings.logging_level, settings.json_logs)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        BASE_PATH=settings.base_path,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        TESTING=settings.flask_env == "testing",
    )
    cast(DefaultJSONProvider, app.json).sort_keys = False  # Flask(...) above made the default provider
    app.url_map.converters["id"] = RowIdConverter
    db, http, box = Database(settings.database_url), requests.Session(), TokenBox(settings.secret_key)
    queue = Queue(settings)
    # The web never sleeps for the portal's budget: a full bucket is a 503 at once (DESIGN §5).
    bitrix = BitrixAccess(settings, db, box, queue.redis, http, max_wait_seconds=0)
    identity = Identity(settings, db, http, limiter=bitrix.limiter)
    app.extensions.update(
        db=db,
        queue=queue,
        http=http,
        box=box,
        identity=identity,
        portals=Portals(identity, box),
        bitrix=bitrix,
        yandex=YandexAccounts(settings, db, box, queue.redis, http),
    )

    from web import bitrix_events, health, launch, openapi, robot, security_headers, yandex
    from web.api import bitrix_users, chats, conferences, crm, export, session
    from web.api import settings as settings_api

    for blueprint in (
        conferences.bp,
        session.bp,
        bitrix_users.bp,
        chats.bp,
        crm.bp,
        yandex.bp,
        health.bp,
        openapi.bp,
        launch.bp,
        bitrix_events.bp,
        robot.bp,
        settings_api.bp,
        export.bp,
    ):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    health.time_requests(app)
    security_headers.register(app)
    app.wsgi_app = PrefixMiddleware(app.wsgi_app, settings.base_path)  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
    return app
