"""The API in this process with Flask's test client: no gunicorn, no workers, no emulators. For what the
web tier decides by itself (validation, scoping, listing, documents); what needs the pipeline or the
portal stays in tests/integration."""
from __future__ import annotations

import pytest

from tests.support.inprocess import in_process


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    made = in_process(tmp_path_factory.mktemp("api"))
    yield made
    made.close()


@pytest.fixture
def anna(app):
    return app.api(2, "Anna Smirnova")


@pytest.fixture
def ivan(app):
    return app.api(1, "Ivan Petrov", is_admin=True)


@pytest.fixture
def anonymous(app):
    return app.app.test_client()
