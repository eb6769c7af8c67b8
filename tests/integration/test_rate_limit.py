"""The shared Bitrix24 limiter keeps a portal's leaky bucket from overflowing, across threads and clients."""
from __future__ import annotations

import threading
import time

import redis
import requests

from shared.clients.bitrix24 import Bitrix24Client
from shared.limiter.cells import portal_rate_limiter
from tests.support.processes import wait_until

BUCKET, RATE = 5, 2.0


def hammer(stack, limiter, calls: int = 16, threads: int = 4) -> float:
    """`calls` user.current requests through the webhook from `threads` clients; answers the seconds taken."""
    url = f"{stack.bitrix_url}/rest/1/sandboxwebhook/"
    errors = []

    def work():
        client = Bitrix24Client(url, limiter=limiter)  # each thread its own client, as workers would be
        for _ in range(calls // threads):
            try:
                client.call("user.current")
            except Exception as exc:  # counted by the emulator; kept here to keep the thread going
                errors.append(exc)

    started = time.monotonic()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.monotonic() - started


def small_bucket(stack) -> None:
    """A 5-request bucket, drained of what installing the app used, with our side's record cleared too."""
    requests.post(f"{stack.bitrix_url}/_sandbox/config", json={"bucket_size": BUCKET, "drain_per_second": RATE}
                  ).raise_for_status()
    wait_until(lambda: stack.bitrix_state()["bucket"]["level"] == 0, 10, "the portal's bucket empty")
    redis.Redis(port=stack.redis_port).delete(*redis.Redis(port=stack.redis_port).keys("telemost:bitrix-rate:*") or ["-"])


def test_with_the_limiter_the_portal_never_refuses_and_the_rate_stays_near_its_budget(stack):
    small_bucket(stack)
    limiter = portal_rate_limiter(redis.Redis(port=stack.redis_port), per_second=RATE, burst=BUCKET).acquire

    seconds = hammer(stack, limiter)

    assert stack.bitrix_state()["rejected"]["QUERY_LIMIT_EXCEEDED"] == 0
    assert seconds >= (16 - BUCKET) / RATE * 0.9  # no faster than the budget
    assert seconds <= (16 - BUCKET + 1) / (RATE * 0.95) + 2  # and not much slower (the margin of ratelimit.py)


def test_without_it_the_same_load_overflows_the_bucket(stack):
    small_bucket(stack)
    hammer(stack, limiter=None)
    assert stack.bitrix_state()["rejected"]["QUERY_LIMIT_EXCEEDED"] > 0
