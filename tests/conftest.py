"""Fixtures shared by the integration and browser tests: one running stack per test session."""
import pytest

from shared.db import Database
from tests.integration.stack import build_stack, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Redis, both emulators, web, worker and beat on free ports (started only when a test asks)."""
    stack = build_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield start_stack(stack)
    finally:
        stack.stop_all()


@pytest.fixture
def clean_sandbox(stack):
    """Each test starts with both emulators as new (the app installed), no faults, and no work left over."""
    stack.reset_sandbox()
    forget_yandex_accounts(stack)
    stack.install()
    yield
    stack.clear_faults()
    stack.wait_quiet()


def forget_yandex_accounts(stack) -> None:
    """The Yandex emulator's reset forgot every account's tokens: so does the app, or an account a test
    connected would fail every later room of that user (the app never swaps in the organisation token)."""
    from sqlalchemy import delete

    from shared.models import PortalSettings, SettingsChange, YandexAccount
    db = Database(stack.env["DATABASE_URL"])
    try:
        with db.write() as session:
            session.execute(delete(YandexAccount))
            # A portal's settings too (the organisation is its user 0 above): each test starts from the defaults.
            session.execute(delete(PortalSettings))
            session.execute(delete(SettingsChange))
    finally:
        db.dispose()


@pytest.fixture
def database(stack):
    """The stack's database, for looking at (or back-dating) what the API does not show."""
    db = Database(stack.env["DATABASE_URL"])
    yield db
    db.dispose()


@pytest.fixture
def anna(stack):
    """Anna Smirnova (user 2 of the sandbox portal), signed in."""
    return stack.login(2)


@pytest.fixture
def ivan(stack):
    """Ivan Petrov (user 1), the portal's administrator, signed in."""
    return stack.login(1)
