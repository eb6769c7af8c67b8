"""/health names the schema: "ok" at the newest migration, else 503 saying where the database is (issue 13,
start-up: an app on a database `make migrate` never touched answered 500 to everything while /health said
healthy)."""
from __future__ import annotations

import logging

import pytest
import requests
from alembic import command
from alembic.config import Config

from shared.config import load_settings
from tests.support.processes import ROOT
from web import create_app
from web.health import migration_heads


def _migrate(database_url: str, revision: str) -> None:
    config = Config(str(ROOT / "alembic.ini"), attributes={"database_url": database_url, "configure_logger": False})
    command.upgrade(config, revision)


@pytest.fixture
def web_on(stack, tmp_path):
    """The app in this process on a database of its own (the stack's Redis), for a test client."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # create_app configures logging for a whole process
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    app = create_app(load_settings({**stack.env, "DATABASE_URL": url}, env_file=None))
    yield url, app.test_client()
    app.extensions["db"].dispose()
    root.handlers, root.level = handlers, level


def test_the_stack_at_the_newest_migration_is_healthy(stack):
    response = requests.get(f"{stack.web_url}/health", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["schema"] == "ok"


def test_a_database_behind_the_code_is_503_naming_the_schema(web_on):
    url, client = web_on
    head = ", ".join(sorted(migration_heads()))
    assert head == "0012"  # the newest migration; a new one changes the messages below too

    never_migrated = client.get("/health")
    assert never_migrated.status_code == 503
    assert never_migrated.json["checks"]["schema"] == (
        f"not migrated, code expects {head}: run `alembic upgrade head` (make migrate)")

    _migrate(url, "0005")
    behind = client.get("/health")
    assert behind.status_code == 503 and behind.json["status"] == "unhealthy"
    assert behind.json["checks"] == {
        "database": "ok", "redis": "ok", "schema": f"at 0005, code expects {head}: run `alembic upgrade head` (make migrate)"}

    _migrate(url, "head")
    upgraded = client.get("/health")
    assert upgraded.status_code == 200 and upgraded.json["checks"]["schema"] == "ok"
