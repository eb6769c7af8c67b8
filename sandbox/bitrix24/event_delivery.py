"""How the portal POSTs an event to the app: form-encoded with PHP bracket keys (auth[access_token]=...).

A delivery never raises: what the app answered, or why nothing answered, is reported and logged, so a
broken handler shows up in /_sandbox/state instead of as a 500 of the control route.
The POST happens outside the portal lock: the app may well call the portal back while handling it.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from collections import deque
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .params import build_php_query

if TYPE_CHECKING:
    from .portal import Portal

DELIVERY_TIMEOUT_S = 10
KEPT_DELIVERIES = 50
BODY_PREVIEW_CHARS = 500
USER_AGENT = "Bitrix24 sandbox portal (event delivery)"


@dataclass(frozen=True)
class Delivery:
    event: str
    url: str
    status: int | None  # None: the app never answered (refused, timed out, bad URL)
    error: str | None = None

    def as_state(self) -> dict[str, Any]:
        return asdict(self)


class DeliveryLog:
    """The last KEPT_DELIVERIES deliveries, oldest first; callers hold the portal lock."""

    def __init__(self) -> None:
        self._items: deque[Delivery] = deque(maxlen=KEPT_DELIVERIES)

    def add(self, delivery: Delivery) -> None:
        self._items.append(delivery)

    def snapshot(self) -> list[dict[str, Any]]:
        return [item.as_state() for item in self._items]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is the handler's answer, reported as such; the portal does not follow it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxies from the environment: the app is a local process, and an HTTP(S)_PROXY meant for the
# internet must not swallow POSTs to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def deliver(portal: "Portal", url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POSTs one event; answers {"status", "body"} or, when nothing answered, {"status": None, "error"}."""
    request = urllib.request.Request(
        url, data=build_php_query(payload).encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT})
    try:
        with _OPENER.open(request, timeout=DELIVERY_TIMEOUT_S) as response:
            outcome = {"status": response.status, "body": _preview(response.read(4 * BODY_PREVIEW_CHARS))}
    except urllib.error.HTTPError as answer:  # 3xx/4xx/5xx: the app did answer
        outcome = {"status": answer.code, "body": _preview(answer.read(4 * BODY_PREVIEW_CHARS))}
    except (OSError, ValueError) as failure:  # refused, timed out, unknown host, malformed URL
        cause = failure.reason if isinstance(failure, urllib.error.URLError) else failure
        outcome = {"status": None, "error": f"{type(cause).__name__}: {cause}"}
    with portal.lock:
        portal.deliveries.add(Delivery(str(payload["event"]), url, outcome["status"], outcome.get("error")))
    return outcome


def _preview(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:BODY_PREVIEW_CHARS]
