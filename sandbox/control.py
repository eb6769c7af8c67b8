"""What both emulators share: fault injection, request counting and the /_sandbox/ control routes.

An emulator stands for an outside service, so it imports nothing of the app. Each one builds its own
error body (the two services shape errors differently); this module only decides *whether* a
request is delayed, fails with a status, or hangs.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Flask, jsonify, request

FAULT_KEYS = {"latency_ms", "error_rate", "status", "retry_after", "timeout_rate", "hang_ms", "count", "path"}


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request: fail with `status` (and Retry-After) or hang for `hang_s`."""

    status: int | None = None
    retry_after: int | None = None
    hang_s: float | None = None


class Faults:
    """Faults applied to the emulated API until changed.

    latency_ms: added to every request; error_rate: share of requests answered with `status`;
    retry_after: sent as Retry-After with those; timeout_rate: share of requests that hang for
    hang_ms (default 20 s) before answering 504; count: only the next N faulty answers, then clear;
    path: only requests whose path contains this text (a REST method name for Bitrix24).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spec: dict[str, Any] = {}
        self._left: int | None = None

    @property
    def spec(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._spec, **({"count_left": self._left} if self._left is not None else {}))

    def configure(self, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise FaultSpecError("faults must be a JSON object")
        unknown = set(spec) - FAULT_KEYS
        if unknown:
            raise FaultSpecError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        for key in ("error_rate", "timeout_rate"):
            value = spec.get(key, 0)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise FaultSpecError(f"{key} must be a number from 0 to 1")
        for key in ("latency_ms", "retry_after", "hang_ms", "count"):
            value = spec.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise FaultSpecError(f"{key} must be a whole number >= 0")
        status = spec.get("status")
        if spec.get("error_rate") and not (isinstance(status, int) and 400 <= status <= 599):
            raise FaultSpecError("status (400-599) is required with error_rate")
        if "path" in spec and not isinstance(spec["path"], str):
            raise FaultSpecError("path must be a string")
        with self._lock:
            self._spec = dict(spec)
            self._left = spec.get("count")
        return self.spec

    def decide(self, path: str, network: bool = True) -> FaultDecision | None:
        """Sleeps the latency, then says whether this request fails; None lets it through.

        network=False is for a command inside a batch: it may fail or hang on its own, but the
        latency (the way to the service and back) is the whole request's, paid once.
        """
        with self._lock:
            spec = dict(self._spec)
        if not spec or ("path" in spec and spec["path"] not in path):
            return None
        if spec.get("latency_ms") and network:
            time.sleep(spec["latency_ms"] / 1000)
        decision = None
        if random.random() < spec.get("timeout_rate", 0):
            decision = FaultDecision(hang_s=spec.get("hang_ms", 20000) / 1000)
        elif random.random() < spec.get("error_rate", 0):
            decision = FaultDecision(status=spec["status"], retry_after=spec.get("retry_after"))
        if decision is None:
            return None
        with self._lock:
            if self._left is not None:
                if self._left <= 0:
                    return None
                self._left -= 1
                if self._left == 0:
                    self._spec, self._left = {}, None
        if decision.hang_s is not None:
            time.sleep(decision.hang_s)
        return decision


class RequestLog:
    """Counts requests to the emulated API by a label such as 'POST /conferences' or a method name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, label: str) -> None:
        with self._lock:
            self._counts[label] += 1
            self._counts["total"] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


def control_blueprint(state: Callable[[], dict], reset: Callable[[], None], faults: Faults) -> Blueprint:
    """The /_sandbox/ routes of CONTRACT §5 that both emulators answer."""
    bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

    @bp.get("/state")
    def get_state():
        return jsonify(dict(state(), faults=faults.spec))

    @bp.post("/reset")
    def post_reset():
        reset()
        faults.configure({})
        return jsonify({"reset": True})

    @bp.post("/faults")
    def post_faults():
        raw = request.get_data()
        body = request.get_json(force=True, silent=True) if raw.strip() else {}
        if body is None:
            return jsonify({"error": "faults must be a JSON object"}), 400
        try:
            return jsonify({"faults": faults.configure(body)})
        except FaultSpecError as exc:
            return jsonify({"error": str(exc)}), 400

    return bp


def json_errors_everywhere(app: Flask, render: Callable[[int, str], Any]) -> None:
    """Unknown routes and wrong methods answer in the emulated service's own error shape."""
    for status in (400, 404, 405, 413, 500):
        app.register_error_handler(status, lambda exc, status=status: render(status, getattr(exc, "description", "")))
