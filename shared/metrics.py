"""Counters that several processes add to and /metrics reads: kept in Redis (DESIGN §2: Redis holds
messages and counters; losing them loses only statistics)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import cast

import redis
import requests

log = logging.getLogger(__name__)
CALLS_KEY = "telemost:metrics:outside_calls"
HEARTBEAT_KEY = "telemost:worker-heartbeat"
# A label value is a new time series: only a fixed set may become one, never what a client or an outside
# service chose to send (issue 12: 200 made-up HTTP methods grew /metrics from 27 KB to 409 KB).
STANDARD_STATUSES = frozenset(status.value for status in HTTPStatus)
STATUS_CLASSES = frozenset({*(f"{n}xx" for n in range(1, 6)), "other"})


def status_label(code: int | str) -> str:
    """An HTTP status as a label: a registered code as itself, any other as its class (4xx), else "other"."""
    if code in STATUS_CLASSES:  # bounded already
        return code
    try:
        code = int(code)
    except (TypeError, ValueError):
        return "other"
    if code in STANDARD_STATUSES:
        return str(code)
    return f"{code // 100}xx" if 100 <= code <= 599 else "other"


def outside_call_recorder(client: redis.Redis, service_of: Callable[[str], str]):
    """A requests response hook counting each outside call and its time, by service and HTTP status."""

    def record(response: requests.Response, *args, **kwargs) -> None:
        service = service_of(response.url)
        field = f"{service}|{status_label(response.status_code)}"
        try:
            pipe = client.pipeline(transaction=False)
            pipe.hincrby(CALLS_KEY, field + "|count", 1)
            pipe.hincrbyfloat(CALLS_KEY, field + "|seconds", response.elapsed.total_seconds())
            pipe.execute()
        except redis.RedisError:  # statistics must never fail a call
            log.debug("outside-call metrics not recorded")

    return record


def outside_calls(client: redis.Redis) -> list[tuple[str, str, int, float]]:
    """(service, status, count, seconds) for every service and status seen.

    The status is bounded again here: fields recorded before the bound (or by an older process) join
    their class instead of each becoming a series.
    """
    # The app's clients never set decode_responses, so Redis answers bytes (the stubs allow str too).
    fields = cast("dict[bytes, bytes]", client.hgetall(CALLS_KEY))
    raw = {k.decode(): v.decode() for k, v in fields.items()}
    totals: dict[tuple[str, str], list[float]] = {}
    for key, value in raw.items():
        service, status, kind = key.rsplit("|", 2)
        if kind == "count":
            total = totals.setdefault((service, status_label(status)), [0, 0.0])
            total[0] += int(value)
            total[1] += float(raw.get(f"{service}|{status}|seconds", 0))
    return sorted(
        (service, status, int(count), seconds) for (service, status), (count, seconds) in totals.items()
    )


def beat(client: redis.Redis) -> None:
    client.set(HEARTBEAT_KEY, f"{time.time():.3f}")


def heartbeat_age(client: redis.Redis) -> float | None:
    value = client.get(HEARTBEAT_KEY)
    return None if value is None else max(0.0, time.time() - float(value))
