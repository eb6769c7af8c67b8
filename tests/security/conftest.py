import pytest


@pytest.fixture(autouse=True)
def _fresh_sandbox(clean_sandbox):
    yield
