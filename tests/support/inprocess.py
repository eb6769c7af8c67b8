"""The web app and the pipeline in the test's own process: Flask's test client for the API, the Runner for
what a worker would do. No gunicorn, no Celery: for tests whose point is a decision of the app, not the
processes (those are tests/integration/stack.py's). Outside services are still the emulators over HTTP
when a test gives their URLs; with none, a test must make no outside call (the clients point nowhere)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from shared.config import Settings, load_settings
from shared.db import Database
from shared.models import Base
from shared.pipeline.runner import Runner
from shared.pipeline.step import OutsideClients
from shared.portal.identity import PortalAccess
from tests.support.processes import free_port
from web import create_app
from web.auth import issue_token

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers there


@dataclass
class InProcess:
    app: Flask
    settings: Settings
    db: Database

    def client(self, user_id: int = 2, name: str = "Anna Smirnova", is_admin: bool = False,
               portal: str | None = None) -> FlaskClient:
        """A test client signed in as a user of the configured portal (an app token, as /api/session issues)."""
        key = portal or self.settings.portal_domain or "portal.example"
        with self.app.app_context():
            token = issue_token(PortalAccess(key=key, domain=key, rest_url="", portal_id=None, secure=False),
                                {"id": user_id, "name": name, "is_admin": is_admin})
        client = self.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    def api(self, user_id: int = 2, name: str = "Anna Smirnova", is_admin: bool = False) -> "InProcessApi":
        """The same user as tests/integration/stack.py's ApiClient speaks to the API, in this process."""
        return InProcessApi(self.client(user_id, name, is_admin))

    def runner(self) -> Runner:
        """What the workers run, with the clients worker/context.py builds."""
        extensions = self.app.extensions
        clients = OutsideClients(
            telemost_for=extensions["yandex"].telemost_for,
            bitrix_for=lambda conference: extensions["bitrix"].client(conference.portal, conference.owner_id),
            notify_client_id="telemost-bitrix-app")
        return Runner(self.db, clients, timedelta(seconds=self.settings.stale_running_after_seconds))

    def close(self) -> None:
        self.db.dispose()
        self.app.extensions["db"].dispose()


def in_process(tmp: Path, telemost_url: str = NOWHERE, bitrix_url: str = NOWHERE, **env: str) -> InProcess:
    """The app on a fresh SQLite database, in webhook mode against `bitrix_url` (the emulator's webhook of
    user 1) and the organisation token against `telemost_url`. Redis is a port nobody listens on: the
    queue and the limits then do what they do with Redis down (the create is saved; limits pass)."""
    # PostgreSQL when the run asks for it (make test's second pass), else a file of the test's own.
    database_url = os.environ.get("TEST_DATABASE_URL", "").replace("postgresql://", "postgresql+psycopg://", 1) \
        or f"sqlite:///{tmp / 'app.db'}"
    settings = load_settings({
        "SECRET_KEY": "in-process-test-secret-key", "FLASK_ENV": "testing", "SANDBOX": "off",
        "DATABASE_URL": database_url, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "BITRIX24_WEBHOOK_URL": f"{bitrix_url}/rest/1/sandboxwebhook/",
        "YANDEX_OAUTH_TOKEN": "sandbox-org-token", "TELEMOST_API_URL": f"{telemost_url}/v1/telemost-api",
        "LOGGING_LEVEL": "WARNING", **env}, env_file=None)
    db = Database(database_url)
    Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)
    return InProcess(create_app(settings), settings, db)


class Answer:
    """What a requests.Response offers the tests, for an answer of the test client."""

    def __init__(self, response: Any) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = response.get_data()
        self.text = self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class InProcessApi:
    """tests/integration/stack.py's ApiClient (request, create, get) over Flask's test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        return Answer(self.client.open(path, method=method, **kwargs))

    def create(self, body: dict, **kwargs: Any) -> dict:
        response = self.request("POST", "/api/conferences", json=body, **kwargs)
        assert response.status_code == 202, response.text
        return response.json()

    def get(self, conference_id: int) -> dict:
        response = self.request("GET", f"/api/conferences/{conference_id}")
        assert response.status_code == 200, response.text
        return response.json()
