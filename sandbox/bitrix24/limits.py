"""The per-portal leaky bucket of reference §3 "Rate limits": every request adds 1; the level drains
continuously at drain_per_second; a request that would take it over capacity gets 503
QUERY_LIMIT_EXCEEDED and does not fill it further."""
from __future__ import annotations

from typing import Callable


class LeakyBucket:
    def __init__(self, capacity: int, drain_per_second: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.capacity = capacity
        self.drain_per_second = drain_per_second
        self._level = 0.0
        self._updated_at = clock()

    def try_add(self) -> bool:
        self._drain()
        if self._level + 1 > self.capacity:
            return False
        self._level += 1
        return True

    @property
    def level(self) -> float:
        self._drain()
        return self._level

    def reconfigure(self, capacity: int, drain_per_second: float) -> None:
        self._drain()  # what drained so far drained at the old rate
        self.capacity = capacity
        self.drain_per_second = drain_per_second

    def _drain(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated_at)
        self._level = max(0.0, self._level - elapsed * self.drain_per_second)
        self._updated_at = now
