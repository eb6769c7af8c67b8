"""Rate limits shared by every process and host, kept in Redis by the generic cell rate algorithm.

A limit is a cell: one timestamp (the theoretical arrival time of the next request) per limited thing,
updated atomically by a Lua script on Redis's own clock, so that processes with different clocks agree.
`CellScript.take` is the non-blocking check (the user and portal limits of shared/limiter/allowances.py);
`RateLimiter` waits its turn under any key (`portal_rate_limiter`: the Bitrix24 budget, DESIGN §4 rule 7).

A portal's REST API is a leaky bucket: 50 requests of burst, draining 2 a second, shared by every
caller (reference/bitrix24-rest.md §3). Each of our requests takes a slot here first, so the portal's
bucket never overflows, however many workers there are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from shared.clients.errors import TransientError

log = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 5.0  # beyond this a step gives its thread back and is tried again later
# A request reaches the portal a little after it took its slot, and not always in order: keep one
# request of burst and 5% of the rate in hand, so that jitter never tips the portal's bucket over.
RATE_MARGIN, BURST_MARGIN = 0.95, 1

# KEYS: the cells, then optionally a mark: a request whose mark is set passes free (it paid once already).
# ARGV[1]: the mark's lifetime in ms; then for each cell its interval between requests and its burst
# tolerance, in µs, and what this request costs it (in requests). Every cell pays, or none does.
# Answers {0, 0} when the request may go now, else {µs to wait, the number of the cell that binds}.
GCRA = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local cells = (#ARGV - 1) / 3
if #KEYS > cells and redis.call('EXISTS', KEYS[cells + 1]) == 1 then return {0, 0} end
local wait, binding, next_tats = 0, 0, {}
for i = 1, cells do
  local interval, tolerance, cost = tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local allowed_at = tat + interval * (cost - 1) - tolerance
  if allowed_at - now > wait then wait, binding = allowed_at - now, i end
  next_tats[i] = tat + interval * cost
end
if wait > 0 then return {wait, binding} end
for i = 1, cells do
  redis.call('SET', KEYS[i], next_tats[i], 'PX', math.ceil((next_tats[i] - now) / 1000) + 1000)
end
if #KEYS > cells then redis.call('SET', KEYS[cells + 1], 1, 'PX', ARGV[1]) end
return {0, 0}
"""


@dataclass(frozen=True)
class Cell:
    """One limit as the script sees it: a request every `interval_us`, `tolerance_us` of it ahead of time."""

    key: str
    interval_us: int
    tolerance_us: int
    cost: int = 1

    @classmethod
    def allowing(cls, key: str, count: int, seconds: float, cost: int = 1) -> Cell:
        """`count` requests in any `seconds`, all of them at once if need be (a burst of `count`)."""
        interval = max(1, int(seconds * 1_000_000 / count))
        return cls(key, interval, interval * (count - 1), cost)


class CellScript:
    """The GCRA script on one Redis; `take` never waits. Raises redis.RedisError when Redis does not answer."""

    def __init__(self, client: redis.Redis) -> None:
        self.script = client.register_script(GCRA)

    def take(
        self, cells: Sequence[Cell], mark: str | None = None, mark_seconds: float = 0
    ) -> tuple[float, int | None]:
        """Takes each cell's cost, or nothing; answers (0, None), or (seconds to wait, index of the cell that binds).

        With `mark`, a request that already paid under that mark (within `mark_seconds`) passes without paying again.
        """
        keys = [cell.key for cell in cells] + ([mark] if mark else [])
        args = [max(1, int(mark_seconds * 1000))]
        for cell in cells:
            args += [cell.interval_us, cell.tolerance_us, cell.cost]
        wait_us, binding = (int(value) for value in self.script(keys=keys, args=args))
        return (wait_us / 1_000_000, binding - 1) if wait_us > 0 else (0.0, None)


class RateLimiter:
    """Paces requests under any key (a portal's outgoing bucket today) at `per_second` with `burst`: `acquire`
    waits for the key's next free slot, and raises rather than wait longer than `max_wait_seconds`. The
    non-blocking check of the same cells is `CellScript.take` (limiter/allowances.py)."""

    def __init__(
        self,
        client: redis.Redis,
        per_second: float,
        burst: int,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        key_prefix: str = "telemost:rate:",
        service: str = "Bitrix24",
    ) -> None:
        """max_wait_seconds: 0 in the web, which answers 503 at once rather than hold a request (DESIGN §5)."""
        self.cells = CellScript(client)
        self.max_wait_seconds = max_wait_seconds
        self.key_prefix, self.service = key_prefix, service
        self.interval_us = int(1_000_000 / (per_second * RATE_MARGIN))
        self.tolerance_us = self.interval_us * max(0, burst - BURST_MARGIN - 1)

    def acquire(self, key: str) -> None:
        """Waits for the key's next free slot; raises TransientError rather than wait long."""
        cell = Cell(self.key_prefix + key, self.interval_us, self.tolerance_us)
        while True:
            try:
                wait, _ = self.cells.take([cell])
            except (
                redis.RedisError
            ) as exc:  # without Redis, the outside service's own refusals still protect it
                log.warning("rate limiter unavailable (%s); sending without it", exc)
                return
            if wait <= 0:
                return
            if wait > self.max_wait_seconds:
                raise TransientError(
                    self.service,
                    "The portal's request budget is used up for now; the app will try again",
                    code="RATE_LIMITED",
                    retry_after=wait,
                )
            time.sleep(wait)


def portal_rate_limiter(
    client: redis.Redis, per_second: float, burst: int, max_wait_seconds: float = MAX_WAIT_SECONDS
) -> RateLimiter:
    """The budget every request to one portal shares (its REST API's leaky bucket), keyed by the portal."""
    return RateLimiter(client, per_second, burst, max_wait_seconds, key_prefix="telemost:bitrix-rate:")
