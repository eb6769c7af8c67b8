"""The vocabulary of the conformance tables: what one parameter may be, as the official page says.

Kinds, each as the receiving server reads the value (checker.py):
- "string", "integer", "date" (YYYY-MM-DD), "datetime" (the forms calendar-event-add.md lists),
  "timezone" (an IANA name), "email", "array" (of `items`), "object" (with `fields`);
- "php_bool": a flag Bitrix24 reads with PHP's (bool): JSON true/false, or 1/0 ("" too) as text.
  "Y" and "N" are refused: (bool)"N" is true (php.net "Converting to boolean");
- "yn": a flag the core compares with === "Y": only the strings "Y" and "N";
- "json_bool": a JSON boolean (Telemost);
- "csv_emails": addresses joined by commas in one query value (Telemost's cohost_emails).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

KINDS = frozenset({"string", "integer", "date", "datetime", "timezone", "email", "array", "object",
                   "php_bool", "yn", "json_bool", "csv_emails"})


@dataclass(frozen=True)
class Param:
    kind: str
    required: bool = False
    values: tuple = ()  # the allowed values, when the page lists them
    fields: Mapping[str, "Param"] | None = None  # an object's known keys
    open: bool = False  # an object that also takes keys the page does not list (a filter on any user field)
    items: "Param | None" = None  # an array's items
    max_items: int | None = None  # an array's items, or an object's keys
    minimum: int | None = None
    maximum: int | None = None
    required_unless: tuple[str, str] | None = None  # (sibling, value): required unless the sibling has it
    alone: bool = False  # a key that cannot be combined with any sibling

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Method:
    """A Bitrix24 REST method: its parameters as the method's page lists them."""

    name: str
    source: str  # the page in bitrix24/b24restdocs (or the SDK file) the table is taken from
    params: Mapping[str, Param] = field(default_factory=dict)
    # Through an inbound webhook only: {parameter: the parameters that make it required}.
    webhook_requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """An HTTP route of an outside service (Telemost, Yandex OAuth and ID, a Bitrix24 OAuth server)."""

    service: str  # "telemost", "yandex-oauth", "yandex-login", "bitrix-oauth"
    http_method: str
    path: str  # a template: /conferences/{id}/cohosts
    source: str  # the official URL (or SDK file)
    query: Mapping[str, Param] = field(default_factory=dict)
    body: Mapping[str, Param] | None = None  # None: the route takes no body
    body_required: bool = False
    transport: str | None = None  # "json" or "form": how a body must be encoded
    authorization: str | None = None  # the scheme of the Authorization header the page shows
    also_paths: tuple[str, ...] = ()  # other spellings of the path that are just as documented
    # One request may put its parameters in the query or in the body (the Bitrix24 OAuth server, as the
    # two SDKs differ): then `query` describes both.
    query_or_body: bool = False
