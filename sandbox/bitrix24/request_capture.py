"""The portal's record of what it was sent (sandbox/request_capture.py), read the way PHP reads it.

Each REST request gets its method name and its parameters as $_REQUEST plus the JSON body would hold
them; a `batch` also gets each command split into its method and its parameters, parsed from the
"method?query" string as http_build_query text (every value a string there: reference §3 "batch",
b24restdocs settings/how-to-call-rest-api/batch.md). Requests to the OAuth servers are recorded with
their server prefix (/oauth-server...) so a test can tell which server was asked.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request

from ..request_capture import RequestCapture, capture_requests
from .methods import normalize_method
from .params import parse_php_pairs, parse_php_query

REST_PREFIX = "/rest/"
OAUTH_PREFIX = "/oauth"  # every OAuth server the emulator mounts: /oauth-server, /oauth-server-ru, ...


def capture_portal_requests(app: Flask) -> RequestCapture:
    return capture_requests(app, (REST_PREFIX, OAUTH_PREFIX), enrich=_rest_call)


def _rest_call(entry: dict[str, Any]) -> dict[str, Any]:
    params = parse_php_pairs(request.args.items(multi=True))
    if entry["transport"] == "form":
        params.update(parse_php_pairs(request.form.items(multi=True)))
    elif entry["transport"] == "json" and isinstance(entry["body"], dict):
        params.update(entry["body"])
    entry["params"] = params
    if not request.path.startswith(REST_PREFIX):
        server, _, rest = request.path.lstrip("/").partition("/")
        return {**entry, "service": "oauth", "server": "/" + server, "route": "/" + rest}
    segments = request.path[len(REST_PREFIX):].strip("/").split("/")
    method = normalize_method(segments[-1])
    entry.update(service="rest", method=method, webhook=len(segments) == 3)
    if method == "batch":
        entry["commands"] = _commands(params.get("cmd"))
    return entry


def _commands(cmd: Any) -> list[dict[str, Any]]:
    items = cmd.items() if isinstance(cmd, dict) else enumerate(cmd) if isinstance(cmd, list) else []
    commands = []
    for key, command in items:
        if not isinstance(command, str):
            commands.append({"key": str(key), "method": None, "params": {}, "raw": command})
            continue
        name, _, query = command.strip().partition("?")
        commands.append({"key": str(key), "method": normalize_method(name), "params": parse_php_query(query)})
    return commands
