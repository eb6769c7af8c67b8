"""Counters that several processes add to and /metrics reads: kept in Redis (DESIGN §2: Redis holds
messages and counters; losing them loses only statistics)."""
from __future__ import annotations

import logging
import time
from typing import Callable

import redis
import requests

log = logging.getLogger(__name__)
CALLS_KEY = "telemost:metrics:outside_calls"
HEARTBEAT_KEY = "telemost:worker-heartbeat"


def outside_call_recorder(client: redis.Redis, service_of: Callable[[str], str]):
    """A requests response hook counting each outside call and its time, by service and HTTP status."""
    def record(response: requests.Response, *args, **kwargs) -> None:
        service = service_of(response.url)
        field = f"{service}|{response.status_code}"
        try:
            pipe = client.pipeline(transaction=False)
            pipe.hincrby(CALLS_KEY, field + "|count", 1)
            pipe.hincrbyfloat(CALLS_KEY, field + "|seconds", response.elapsed.total_seconds())
            pipe.execute()
        except redis.RedisError:  # statistics must never fail a call
            log.debug("outside-call metrics not recorded")
    return record


def outside_calls(client: redis.Redis) -> list[tuple[str, str, int, float]]:
    """(service, status, count, seconds) for every service and status seen."""
    raw = {k.decode(): v.decode() for k, v in client.hgetall(CALLS_KEY).items()}
    rows = []
    for key, value in raw.items():
        service, status, kind = key.rsplit("|", 2)
        if kind == "count":
            rows.append((service, status, int(value), float(raw.get(f"{service}|{status}|seconds", 0))))
    return sorted(rows)


def beat(client: redis.Redis) -> None:
    client.set(HEARTBEAT_KEY, f"{time.time():.3f}")


def heartbeat_age(client: redis.Redis) -> float | None:
    value = client.get(HEARTBEAT_KEY)
    return None if value is None else max(0.0, time.time() - float(value))
