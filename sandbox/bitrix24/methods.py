"""What a REST method is, who calls it, and how list results are paged.

Each feature module exposes METHODS: {name: RestMethod}; the portal merges them into one registry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

if TYPE_CHECKING:
    from .portal import Portal
    from .users import User

PAGE_SIZE = 50  # the core's LIST_LIMIT; not changeable by the client


@dataclass(frozen=True)
class Caller:
    """The user a call acts as, and through what: an app's OAuth token or an inbound webhook."""

    user: "User"
    auth_type: Literal["oauth", "webhook"]
    scopes: frozenset[str]
    client_id: str  # the app's client_id for OAuth; "" for a webhook (it has none)

    @property
    def is_app(self) -> bool:
        return self.auth_type == "oauth"


Handler = Callable[["Portal", Caller, dict[str, Any]], Any]


@dataclass(frozen=True)
class RestMethod:
    handler: Handler
    scopes: frozenset[str] = frozenset()  # any one of them suffices; empty = the always-granted basic scope
    app_only: bool = False  # WRONG_AUTH_TYPE through a webhook
    atomic: bool = True  # runs under the portal lock; batch is not, its sub-calls are


def method(handler: Handler, *scopes: str, app_only: bool = False, atomic: bool = True) -> RestMethod:
    return RestMethod(handler, frozenset(scopes), app_only, atomic)


@dataclass
class ListPage:
    """A page of a list method; the envelope lifts total and next to the top level."""

    items: list[Any]
    total: int | None = None
    next: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def paginate(rows: list[Any], start_param: Any) -> ListPage:
    """`start` is an offset; start=-1 skips the count (no total, no next)."""
    try:
        start = int(start_param) if start_param not in (None, "") else 0
    except (TypeError, ValueError):
        start = 0
    if start == -1:
        return ListPage(rows[:PAGE_SIZE])
    start = max(start, 0)
    page = rows[start : start + PAGE_SIZE]
    following = start + PAGE_SIZE
    return ListPage(page, total=len(rows), next=following if following < len(rows) else None)


def normalize_method(name: str) -> str:
    """The core lower-cases method names; `.json` is an optional suffix."""
    name = name.strip().lower()
    return name[: -len(".json")] if name.endswith(".json") else name
