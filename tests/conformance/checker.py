"""Holds one request against its table (schema.py) and says, in words, every way it differs.

`typed` says whether the values kept their JSON types (a JSON body) or arrived as text (a query, a
form, a batch command: PHP sees only strings there). A batch command may name an earlier answer
($result[key]...), which the portal puts in before the call; such a value is not judged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping
from zoneinfo import available_timezones

from .schema import Method, Param, Route

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# calendar-event-add.md, "Timezone Handling Features": 2025-03-20 15:00:00, 2025-08-05T10:00:00,
# 2025-03-20T15:00:00+02:00, 2025-08-04T23:00:00Z; a date alone with skip_time=Y.
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?)?")
INTEGER = re.compile(r"-?\d+")
EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+")
BATCH_REFERENCE = re.compile(r"\$(?:result|error|total|next|time)\[[^\]]+\](?:\[[^\]]*\])*")
PHP_FALSE_TEXT = ("", "0")


@dataclass(frozen=True)
class Problem:
    call: str  # "calendar.event.add", "telemost PATCH /conferences/{id}"
    where: str  # "meeting.reinvite", or "(table)", "(transport)", "(authorization)", "(body)", "(path)"
    message: str
    source: str = ""

    def __str__(self) -> str:
        return f"{self.call} {self.where}: {self.message}" + (f" [{self.source}]" if self.source else "")


def check_method(method: Method, params: Mapping[str, Any], typed: bool, in_batch: bool = False,
                 webhook: bool = False) -> list[Problem]:
    found = check_params(params, method.params, typed, in_batch)
    if webhook:
        found += [(name, f"required through a webhook with {', '.join(n for n in wanted if n in params)}")
                  for name, wanted in method.webhook_requires.items()
                  if name not in params and any(n in params for n in wanted)]
    return [Problem(method.name, where, message, method.source) for where, message in found]


def check_route(route: Route, request: Mapping[str, Any]) -> list[Problem]:
    """request: {http_method, path, query, body, transport, authorization}, as sandbox/request_capture.py keeps it."""
    found: list[tuple[str, str]] = []
    if route.authorization and request.get("authorization") != route.authorization:
        found.append(("(authorization)", f"the page shows 'Authorization: {route.authorization} <token>', "
                                         f"the app sent {request.get('authorization') or 'none'}"))
    query, body, transport = request.get("query") or {}, request.get("body"), request.get("transport", "none")
    if route.query_or_body:
        found += check_params(query, route.query, typed=False, require=False)
        if transport != "none":
            found += _check_transport(route, transport)
            found += check_params(body if isinstance(body, Mapping) else {}, route.query,
                                  typed=transport == "json", require=False)
        merged = {**query, **(body if isinstance(body, Mapping) else {})}
        found += _missing(merged, route.query, "")
    else:
        found += check_params(query, route.query, typed=False)
        if route.body is None:
            if transport != "none":
                found.append(("(body)", "the route takes no body"))
        elif transport == "none":
            if route.body_required:
                found.append(("(body)", "the route requires a body"))
        else:
            found += _check_transport(route, transport)
            if isinstance(body, Mapping):
                found += check_params(body, route.body, typed=transport == "json")
            else:
                found.append(("(body)", "the body must be an object"))
    call = route_label(route.service, route.http_method, route.path)
    return [Problem(call, where, message, route.source) for where, message in found]


def route_label(service: str, http_method: str, path: str) -> str:
    return f"{service} {http_method} {path}"


def find_route(routes: Iterable[Route], service: str, http_method: str, path: str) -> Route | None:
    for route in routes:
        if route.service == service and route.http_method == http_method and \
                any(_template(template).fullmatch(path) for template in (route.path, *route.also_paths)):
            return route
    return None


@lru_cache(maxsize=None)
def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)))


def _check_transport(route: Route, transport: str) -> list[tuple[str, str]]:
    if route.transport and transport != route.transport:
        return [("(transport)", f"the page wants a {route.transport} body, the app sent {transport}")]
    return []


# --- parameters -------------------------------------------------------------------------------------

def check_params(params: Mapping[str, Any], table: Mapping[str, Param], typed: bool, in_batch: bool = False,
                 where: str = "", require: bool = True) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name, value in params.items():
        path = f"{where}{name}"
        param = table.get(name)
        if param is None:
            found.append((path, "not a parameter the page lists"))
            continue
        if param.alone and len(params) > 1:
            found.append((path, "cannot be combined with other keys"))
        found += [(path if not sub else f"{path}{sub}", message)
                  for sub, message in check_value(value, param, typed, in_batch)]
    if require:
        found += _missing(params, table, where)
    return found


def _missing(params: Mapping[str, Any], table: Mapping[str, Param], where: str) -> list[tuple[str, str]]:
    found = []
    for name, param in table.items():
        if name in params:
            continue
        if param.required:
            found.append((f"{where}{name}", "required, not sent"))
        elif param.required_unless:
            sibling, value = param.required_unless
            if params.get(sibling) != value:
                found.append((f"{where}{name}", f"required unless {sibling}={value}, and neither was sent"))
    return found


def check_value(value: Any, param: Param, typed: bool, in_batch: bool = False) -> list[tuple[str, str]]:
    """[(sub-path, message)]: an empty sub-path is the value itself, ".key" or "[0]" a part of it."""
    if in_batch and isinstance(value, str) and BATCH_REFERENCE.fullmatch(value) and \
            param.kind in ("integer", "string"):
        return []  # the portal substitutes an earlier command's answer
    kind = param.kind
    if kind == "object":
        if not isinstance(value, Mapping):
            return [("", f"must be an object, got {value!r}")]
        fields = param.fields or {}
        if param.max_items is not None and len(value) > param.max_items:
            return [("", f"at most {param.max_items} keys, got {len(value)}")]
        if param.open:
            known = {k: v for k, v in value.items() if k in fields}
            return [(f".{sub}", message) for sub, message in check_params(known, fields, typed, in_batch)]
        return [(f".{sub}", message) for sub, message in check_params(value, fields, typed, in_batch)]
    if kind == "array":
        if not isinstance(value, list):
            return [("", f"must be an array, got {value!r}")]
        found = []
        if param.max_items is not None and len(value) > param.max_items:
            found.append(("", f"at most {param.max_items} items, got {len(value)}"))
        if param.items is not None:
            for index, item in enumerate(value):
                found += [(f"[{index}]{sub}", message)
                          for sub, message in check_value(item, param.items, typed, in_batch)]
        return found
    message = _scalar_problem(value, param, typed)
    return [("", message)] if message else []


def _scalar_problem(value: Any, param: Param, typed: bool) -> str | None:
    kind = param.kind
    if kind == "php_bool":
        return _php_bool_problem(value, typed)
    if kind == "json_bool":
        return None if isinstance(value, bool) else f"must be a JSON boolean, got {value!r}"
    if kind == "yn":
        if isinstance(value, str) and value in ("Y", "N"):
            return None
        return f"must be the string 'Y' or 'N' (the core compares === 'Y'), got {value!r}"
    if isinstance(value, bool) or isinstance(value, (list, dict)) or value is None:
        return f"must be a {kind}, got {value!r}"
    if kind == "integer":
        if isinstance(value, float) or not INTEGER.fullmatch(str(value)):
            return f"must be an integer, got {value!r}"
        number = int(value)
        if param.minimum is not None and number < param.minimum:
            return f"at least {param.minimum}, got {number}"
        if param.maximum is not None and number > param.maximum:
            return f"at most {param.maximum}, got {number}"
        if param.values and number not in param.values:
            return f"one of {param.values}, got {value!r}"
        return None
    if kind != "string" and not isinstance(value, str):
        return f"must be a {kind} string, got {value!r}"
    text = str(value)
    if kind == "date" and not DATE.fullmatch(text):
        return f"must be a date YYYY-MM-DD, got {text!r}"
    if kind == "datetime" and not DATETIME.fullmatch(text):
        return f"must be a date and time as calendar-event-add.md shows them, got {text!r}"
    if kind == "timezone" and text not in _zones():
        return f"must be a time zone name such as Europe/Riga, got {text!r}"
    if kind == "email" and not EMAIL.fullmatch(text):
        return f"must be an e-mail address, got {text!r}"
    if kind == "csv_emails":
        emails = text.split(",")
        if not all(EMAIL.fullmatch(email) for email in emails):
            return f"must be e-mail addresses joined by commas, got {text!r}"
        if param.max_items is not None and len(emails) > param.max_items:
            return f"at most {param.max_items} addresses, got {len(emails)}"
    if param.values and text not in param.values:
        return f"one of {param.values}, got {text!r}"
    return None


def _php_bool_problem(value: Any, typed: bool) -> str | None:
    """Only values whose PHP (bool) reading nobody can mistake: true/false, 1/0, and "1"/"0"/"" as text."""
    if typed and (isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))):
        return None
    if isinstance(value, str) and value in ("1", *PHP_FALSE_TEXT):
        return None
    if isinstance(value, str):
        reading = "true" if value not in PHP_FALSE_TEXT else "false"
        return (f"a boolean read with PHP's (bool): the string {value!r} is {reading} there; "
                f"send true/false as JSON or 1/0")
    return f"must be a boolean (true/false or 1/0), got {value!r}"


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
