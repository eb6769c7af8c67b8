"""What the app really sends, recorded at an emulator: GET /_sandbox/requests, DELETE to clear.

The conformance tests (tests/conformance/) hold every captured request against tables taken from the
official docs, so the record keeps what a server can see: the HTTP method and path, the query, the
body as decoded from its content type (and that content type: a JSON `false` and a form "N" are not
the same to PHP), and the scheme of the Authorization header (never the credential). A ring buffer
bounds the memory: a long `make run` keeps only the latest requests.
"""
from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any, Callable, Iterable

from flask import Blueprint, Flask, jsonify, request

MAX_REQUESTS = 2000
MAX_BODY_BYTES = 64 * 1024  # a bigger body is recorded without its content
# An enricher adds what one emulator knows of its own requests (Bitrix24: the REST method, batch commands).
Enricher = Callable[[dict[str, Any]], dict[str, Any]]


class RequestCapture:
    """The latest requests, oldest first, each with a sequence number that never repeats."""

    def __init__(self, limit: int = MAX_REQUESTS) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)
        self._numbers = itertools.count(1)

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append({"seq": next(self._numbers), **entry})

    def entries(self, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [entry for entry in self._entries if entry["seq"] > after]

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count


def capture_requests(app: Flask, prefixes: Iterable[str], enrich: Enricher | None = None) -> RequestCapture:
    """Records every request whose path starts with one of `prefixes`; POST /_sandbox/reset clears too.

    A before_request hook registered before the emulator's own hooks sees a request even when an
    injected fault answers it: the app did send it.
    """
    capture = RequestCapture()
    prefixes = tuple(prefixes)

    @app.before_request
    def record_request() -> None:
        if request.path == "/_sandbox/reset" and request.method == "POST":
            capture.clear()
        elif request.path.startswith(prefixes):
            entry = describe_request()
            capture.record(enrich(entry) if enrich is not None else entry)

    app.register_blueprint(_capture_blueprint(capture))
    return capture


def describe_request() -> dict[str, Any]:
    raw = request.get_data(cache=True)  # cached: the route reads the same body afterwards
    entry: dict[str, Any] = {
        "http_method": request.method,
        "path": request.path,
        "query": _plain(request.args),
        "content_type": request.mimetype or None,
        "authorization": request.headers.get("Authorization", "").partition(" ")[0] or None,
        "transport": "none",
        "body": None,
    }
    if len(raw) > MAX_BODY_BYTES:
        entry.update(transport="too_big", body_bytes=len(raw))
    elif request.is_json and raw:
        body = request.get_json(silent=True)
        entry.update(transport="json" if body is not None else "bad_json", body=body)
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        entry.update(transport="form", body=_plain(request.form))
    elif raw:
        entry.update(transport="other", body_bytes=len(raw))
    return entry


def _plain(multi) -> dict[str, Any]:
    """A MultiDict as JSON: one value as itself, a repeated key as the list of its values."""
    return {key: values[0] if len(values) == 1 else values for key, values in multi.lists()}


def _capture_blueprint(capture: RequestCapture) -> Blueprint:
    bp = Blueprint("sandbox_request_capture", __name__, url_prefix="/_sandbox")

    @bp.get("/requests")
    def list_requests():
        after = request.args.get("after", "0")
        if not after.isdigit():
            return jsonify({"error": "after must be a whole number >= 0"}), 400
        return jsonify({"requests": capture.entries(int(after))})

    @bp.delete("/requests")
    def clear_requests():
        return jsonify({"cleared": capture.clear()})

    return bp
