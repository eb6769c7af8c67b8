"""The caller's limits (shared/limiter/allowances.py) for the API's views: over a limit is a 429 at once, never a wait."""

from __future__ import annotations

import redis
from flask import current_app, g

from shared.limiter.allowances import Limiter, quick_client
from web.errors import ApiError


def quick_redis() -> redis.Redis:
    """The app's Redis client for the request path: one that gives up at once (limits, the people cache)."""
    client = current_app.extensions.get("quick_redis")
    if client is None:  # made on first use, once per app
        client = current_app.extensions.setdefault(
            "quick_redis", quick_client(current_app.config["SETTINGS"].redis_url)
        )
    return client


def _limiter() -> Limiter:
    limiter = current_app.extensions.get("limits")
    if limiter is None:  # every web process shares the counts, in Redis
        limiter = current_app.extensions.setdefault(
            "limits", Limiter(quick_redis(), current_app.config["SETTINGS"].limits)
        )
    return limiter


def charge(costs: dict[str, int], once: str | None = None, once_seconds: float = 0) -> None:
    """Takes `costs` from the caller's and the portal's allowances, or raises the 429 saying which and how long."""
    refusal = _limiter().charge(g.caller.portal, g.caller.user_id, costs, once, once_seconds)
    if refusal is not None:
        raise ApiError(429, refusal.message, headers={"Retry-After": str(refusal.retry_after)})
