"""Limits per user and per portal on what costs the outside world (DESIGN §5).

A conference made is a Telemost room on the organisation's account and Bitrix24 calls and notifications
on the portal's budget; a people search that misses the cache is a Bitrix24 call too. Each kind of
request has an allowance a minute and a day, per user and (but searches) per portal, kept in Redis so
that every web process shares them (shared/limiter/cells.py). An allowance is a burst: a person may use a
minute's worth at once, and it comes back evenly. The defaults are well above what a busy person, or
a portal of thousands of employees, does; operators change them with the LIMIT_* settings.

A request over a limit is refused at once with how long to wait, never held. Without Redis everything
passes (DESIGN §4 rule 1: a create succeeds with Redis down), with a warning now and then.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.limiter.cells import Cell, CellScript

log = logging.getLogger(__name__)

CREATES, EDITS, RETRIES, INVITATIONS = "creates", "edits", "retries", "invitations"
SEARCHES, SEARCH_MISSES = "searches", "search_misses"
USER, PORTAL = "user", "portal"
WINDOWS = {"minute": 60, "day": 86_400}

# (what is counted, who shares the allowance): (a minute, a day). Why these:
# - creates: filling the form takes a person half a minute; an assistant booking a team's week makes
#   some dozens a day. A portal's 20,000 a day is four for each of 5,000 employees.
# - edits: dragging a meeting about or fixing a typo, a few times each; more than creates.
# - retries: only after a failure, a person presses Retry a few times.
# - invitations: every invitation or change notice a create or an edit can send (up to 100 invitees a
#   conference, and an edit tells those removed as well as those invited): a few big meetings a minute.
# - searches: the invitee picker searches 300 ms after the last keystroke, a page of 50 at a time.
# - search_misses: each is a Bitrix24 call from the portal's 2 a second (120 a minute), which the
#   workers need for calendar events and invitations: the portal's searches get half of it at most.
DEFAULTS: dict[tuple[str, str], tuple[int, int]] = {
    (CREATES, USER): (30, 300),
    (CREATES, PORTAL): (300, 20_000),
    (EDITS, USER): (60, 1_000),
    (EDITS, PORTAL): (600, 40_000),
    (RETRIES, USER): (20, 200),
    (RETRIES, PORTAL): (200, 5_000),
    (INVITATIONS, USER): (500, 3_000),
    (INVITATIONS, PORTAL): (3_000, 100_000),
    (SEARCHES, USER): (120, 3_000),
    (SEARCH_MISSES, USER): (30, 1_000),
    (SEARCH_MISSES, PORTAL): (60, 30_000),
}
NOUNS = {
    CREATES: "new conferences",
    EDITS: "changes to conferences",
    RETRIES: "retries",
    INVITATIONS: "invitations and change notices",
    SEARCHES: "people searches",
    SEARCH_MISSES: "people searches sent to Bitrix24",
}


def setting_name(action: str, scope: str, window: str) -> str:
    return f"LIMIT_{action.upper()}_PER_{scope.upper()}_PER_{window.upper()}"


# Every LIMIT_* setting and its default (shared/config.py reads them; .env.example lists them).
DEFAULT_SETTINGS: dict[str, int] = {
    setting_name(action, scope, window): count
    for (action, scope), counts in DEFAULTS.items()
    for window, count in zip(WINDOWS, counts, strict=True)
}


@dataclass(frozen=True)
class Limit:
    action: str
    scope: str
    window: str
    count: int

    def cell(self, portal: str, user_id: int, cost: int) -> Cell:
        key = f"telemost:limit:{self.action}:{self.window}:{self.scope}:{portal}"
        if self.scope == USER:
            key += f":{user_id}"
        # A request that costs more than the whole allowance (100 invitees against a smaller limit) waits
        # for all of it rather than never passing.
        return Cell.allowing(key, self.count, WINDOWS[self.window], min(cost, self.count))

    def describe(self) -> str:
        return f"{self.count:,} {NOUNS[self.action]} a {self.window}"


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused, said to the person, and when to ask again (whole seconds)."""

    limit: Limit
    retry_after: int

    @property
    def message(self) -> str:
        if self.limit.scope == USER:
            reached = f"You have reached your limit of {self.limit.describe()}"
        else:
            reached = f"Your portal has reached its limit of {self.limit.describe()}, shared by everyone"
        return f"{reached}. Try again in {_duration(self.retry_after)}."


def _duration(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            count = math.ceil(seconds / size)
            return f"{count} {unit}s"
    return "1 second" if seconds == 1 else f"{seconds} seconds"


class Policy:
    """Which allowances a request touches: the pure part, without Redis."""

    def __init__(self, settings: Mapping[str, int] | None = None) -> None:
        settings = settings or {}
        self.limits = [
            Limit(action, scope, window, settings.get(setting_name(action, scope, window), count))
            for (action, scope), counts in DEFAULTS.items()
            for window, count in zip(WINDOWS, counts, strict=True)
        ]

    def cells(self, portal: str, user_id: int, costs: Mapping[str, int]) -> list[tuple[Limit, Cell]]:
        return [
            (limit, limit.cell(portal, user_id, costs[limit.action]))
            for limit in self.limits
            if costs.get(limit.action, 0) > 0
        ]

    @staticmethod
    def refusal(limit: Limit, wait_seconds: float) -> Refusal:
        return Refusal(limit, max(1, math.ceil(wait_seconds)))

    @staticmethod
    def mark(portal: str, user_id: int, request_key: str) -> str:
        """The Redis key that lets one request (its Idempotency-Key) pay once however often it is repeated."""
        digest = hashlib.sha256(request_key.encode()).hexdigest()
        return f"telemost:limit:paid:{portal}:{user_id}:{digest}"


def quick_client(redis_url: str) -> redis.Redis:
    """A Redis client for the request path that gives up at once when Redis is down.

    redis-py's default retries with backoff (some 5 s with Redis down) would hold every request; one
    immediate retry covers a connection dropped by a Redis restart.
    """
    return redis.Redis.from_url(
        redis_url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )


class Limiter:
    WARN_EVERY_SECONDS = 60.0

    def __init__(self, client: redis.Redis, settings: Mapping[str, int] | None = None) -> None:
        self.policy, self.script = Policy(settings), CellScript(client)
        self._warned_at = -math.inf

    def charge(
        self,
        portal: str,
        user_id: int,
        costs: Mapping[str, int],
        once: str | None = None,
        once_seconds: float = 0,
    ) -> Refusal | None:
        """Takes `costs` ({action: count}) from every allowance they touch, or nothing and answers the Refusal
        that binds longest. `once` (a request's own key) makes repeats of that request free for `once_seconds`."""
        cells = self.policy.cells(portal, user_id, costs)
        if not cells:
            return None
        mark = self.policy.mark(portal, user_id, once) if once else None
        try:
            wait, binding = self.script.take([cell for _, cell in cells], mark, once_seconds)
        except redis.RedisError as exc:
            self._warn(exc)
            return None
        return None if binding is None else self.policy.refusal(cells[binding][0], wait)

    def _warn(self, exc: Exception) -> None:
        # Once a minute at most: with Redis down every request would say it again.
        if time.monotonic() - self._warned_at >= self.WARN_EVERY_SECONDS:
            self._warned_at = time.monotonic()
            log.warning("limits unavailable (%s); letting requests through without them", exc)
