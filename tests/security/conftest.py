import pytest


@pytest.fixture(autouse=True)
def _fresh_sandbox(clean_sandbox):
    yield


@pytest.fixture
def anna(stack):
    """Anna Smirnova (user 2 of the sandbox portal), signed in."""
    return stack.login(2)


@pytest.fixture
def ivan(stack):
    """Ivan Petrov (user 1), the portal's administrator, signed in."""
    return stack.login(1)
