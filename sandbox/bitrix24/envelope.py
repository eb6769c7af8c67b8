"""The HTTP side shared by the REST and OAuth routes: reading parameters, the success envelope with its
`time` block (reference §3 "Success response"), error answers and injected faults."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Response, jsonify, request

from ..control import FaultDecision
from .errors import GatewayTimeout, RestError, error_for_status
from .methods import ListPage
from .params import parse_php_pairs

OPERATING_WINDOW_S = 600  # the operating limit counts over 10 one-minute baskets


def request_params() -> dict[str, Any]:
    """Query, form and JSON body merged, later ones winning, as PHP's $_REQUEST plus the JSON body."""
    params = parse_php_pairs(request.args.items(multi=True))
    if request.form:
        params.update(parse_php_pairs(request.form.items(multi=True)))
    if request.is_json and request.get_data():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise RestError(400, "INVALID_REQUEST", "The request body must be a JSON object")
        params.update(body)
    return params


def time_block(started_at: float, duration: float) -> dict[str, Any]:
    finished_at = started_at + duration
    return {
        "start": started_at,
        "finish": finished_at,
        "duration": duration,
        "processing": duration,
        "date_start": _iso(started_at),
        "date_finish": _iso(finished_at),
        "operating_reset_at": int(started_at) + OPERATING_WINDOW_S,
        "operating": 0,
    }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def success_body(result: Any, started_at: float, duration: float) -> dict[str, Any]:
    """A ListPage's total and next go to the top level, beside result."""
    if not isinstance(result, ListPage):
        return {"result": result, "time": time_block(started_at, duration)}
    body: dict[str, Any] = {"result": result.items}
    if result.next is not None:
        body["next"] = result.next
    if result.total is not None:
        body["total"] = result.total
    body["time"] = time_block(started_at, duration)
    return body


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def error_response(error: RestError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def fault_error(decision: FaultDecision) -> RestError:
    if decision.hang_s is not None:
        return GatewayTimeout()
    error = error_for_status(decision.status or 500)
    if decision.retry_after is not None:
        error.headers["Retry-After"] = str(decision.retry_after)
    return error


def render_http_error(status: int, description: str) -> Response:
    """For json_errors_everywhere: unknown routes and wrong verbs still answer {error, error_description}."""
    return error_response(error_for_status(status, description))
