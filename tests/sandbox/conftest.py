import pytest


class FakeClock:
    """A clock the emulators' tests move by hand, so that expiry and rate limits need no sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:  # 2027-01-15
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
