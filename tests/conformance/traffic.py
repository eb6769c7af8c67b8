"""What the emulators captured (GET /_sandbox/requests), held against the official tables.

Every request the app made becomes one or more checked calls: a Bitrix24 REST method (a `batch` is
itself one, and each of its commands another, read as text), or a route of the Telemost API, Yandex
OAuth, Yandex ID or a Bitrix24 OAuth server. A call with no table is a problem of its own ("(table)").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import requests

from .bitrix24_methods import METHODS, OAUTH_ROUTES
from .checker import Problem, check_method, check_route, find_route, route_label
from .schema import Route
from .telemost_routes import ROUTES

ALL_ROUTES: tuple[Route, ...] = (*ROUTES, *OAUTH_ROUTES)
# Where the Telemost emulator mounts each service (sandbox/telemost/routes.py, oauth_routes.py).
TELEMOST_MOUNTS = {"/v1/telemost-api": "telemost", "/oauth": "yandex-oauth", "/login": "yandex-login"}
# The consent pages are the browser's, and the tests' browser adds sandbox-only parameters there: the
# app's own authorize URL is checked where the app makes it (test_app_conformance.py).
BROWSER_ROUTES = {("yandex-oauth", "/authorize")}


@dataclass
class Traffic:
    calls: list[str] = field(default_factory=list)  # the label of every call, in order
    problems: list[Problem] = field(default_factory=list)

    def add(self, label: str, problems: Iterable[Problem]) -> None:
        self.calls.append(label)
        self.problems.extend(problems)


def captured(base_url: str) -> list[dict[str, Any]]:
    response = requests.get(f"{base_url}/_sandbox/requests", timeout=5)
    response.raise_for_status()
    return response.json()["requests"]


def clear_captures(*base_urls: str) -> None:
    for base_url in base_urls:
        requests.delete(f"{base_url}/_sandbox/requests", timeout=5).raise_for_status()


def check_bitrix(entries: Iterable[dict[str, Any]], traffic: Traffic) -> None:
    for entry in entries:
        if entry.get("service") == "oauth":
            check_request(traffic, "bitrix-oauth", entry["route"], entry)
            continue
        typed, webhook = entry["transport"] == "json", bool(entry.get("webhook"))
        check_rest(traffic, entry["method"], entry.get("params") or {}, typed, webhook=webhook)
        for command in entry.get("commands") or ():
            if command["method"] is None:
                traffic.add("batch", [Problem("batch", f"cmd.{command['key']}", "a command must be a string "
                                              "'method?params'", METHODS["batch"].source)])
            else:  # a command runs with the batch's own auth: through the webhook when the batch was
                check_rest(traffic, command["method"], command["params"], typed=False, in_batch=True, webhook=webhook)


def check_rest(traffic: Traffic, name: str, params: dict, typed: bool, in_batch: bool = False,
               webhook: bool = False) -> None:
    method = METHODS.get(name)
    if method is None:
        traffic.add(name, [Problem(name, "(table)", "the app calls a method that has no conformance table: "
                                                    "add one to tests/conformance/bitrix24_methods.py from its page")])
    else:
        traffic.add(name, check_method(method, params, typed, in_batch, webhook))


def check_telemost(entries: Iterable[dict[str, Any]], traffic: Traffic) -> None:
    for entry in entries:
        prefix = next(p for p in TELEMOST_MOUNTS if entry["path"] == p or entry["path"].startswith(p + "/"))
        service, path = TELEMOST_MOUNTS[prefix], entry["path"][len(prefix):]
        if (service, path) not in BROWSER_ROUTES:
            check_request(traffic, service, path, entry)


def check_request(traffic: Traffic, service: str, path: str, entry: dict[str, Any]) -> None:
    """One HTTP request to a route table, with the path relative to the service's base."""
    request = {**entry, "path": path}
    route = find_route(ALL_ROUTES, service, entry["http_method"], path)
    label = route_label(service, entry["http_method"], route.path if route else path)
    if route is None:
        traffic.add(label, [Problem(label, "(table)", "no official route matches this request: add its table "
                                                      "to tests/conformance/ from its page, or fix the call")])
    else:
        traffic.add(label, check_route(route, request))
