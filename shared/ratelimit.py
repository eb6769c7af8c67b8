"""One Bitrix24 rate limiter for every process and host, kept in Redis (DESIGN §4 rule 7).

A portal's REST API is a leaky bucket: 50 requests of burst, draining 2 a second, shared by every
caller (reference/bitrix24-rest.md §3). Each of our requests takes a slot here first, by the generic
cell rate algorithm (one timestamp per portal, updated atomically by a Lua script on Redis's own
clock), so the portal's bucket never overflows, however many workers there are.
"""
from __future__ import annotations

import logging
import time

import redis

from .clients.errors import TransientError

log = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 5.0  # beyond this a step gives its thread back and is tried again later
# A request reaches the portal a little after it took its slot, and not always in order: keep one
# request of burst and 5% of the rate in hand, so that jitter never tips the portal's bucket over.
RATE_MARGIN, BURST_MARGIN = 0.95, 1

# KEYS[1]: the portal's key. ARGV: the interval between requests and the burst allowance, in µs.
# Answers 0 when the request may go now, else how many µs to wait.
GCRA = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then return tat - tolerance - now end
local next_tat = tat + interval
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - now) / 1000) + 1000)
return 0
"""


class PortalRateLimiter:
    def __init__(self, client: redis.Redis, per_second: float, burst: int) -> None:
        self.script = client.register_script(GCRA)
        self.interval_us = int(1_000_000 / (per_second * RATE_MARGIN))
        self.tolerance_us = self.interval_us * max(0, burst - BURST_MARGIN - 1)

    def acquire(self, portal: str) -> None:
        """Waits for the portal's next free slot; raises TransientError rather than wait long."""
        while True:
            try:
                wait_us = int(self.script(keys=[f"telemost:bitrix-rate:{portal}"],
                                          args=[self.interval_us, self.tolerance_us]))
            except redis.RedisError as exc:  # without Redis, the portal's own 503s still protect it
                log.warning("rate limiter unavailable (%s); sending without it", exc)
                return
            if wait_us <= 0:
                return
            if wait_us / 1_000_000 > MAX_WAIT_SECONDS:
                raise TransientError("Bitrix24", "The portal's request budget is used up for now; the app will "
                                                 "try again", code="RATE_LIMITED", retry_after=wait_us / 1_000_000)
            time.sleep(wait_us / 1_000_000)
