"""Every error the API gives is JSON: {"error": {"code", "message", "fields"}} (CONTRACT §4)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from shared.problems import detail_of

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}


DRAIN_AT_MOST = 1024 * 1024  # a refused body up to this size is read and dropped before the 413


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        fields: dict[str, str] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        reason: str | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.fields, self.code = (
            status,
            message,
            fields or {},
            code or CODES[status],
        )
        self.reason = reason  # what exactly went wrong, finer than the code; the page translates it
        self.headers = headers or {}  # e.g. Retry-After on a 429


def error_response(
    status: int,
    message: str,
    fields: dict[str, str] | None = None,
    code: str | None = None,
    reason: str | None = None,
):
    """`code` is the kind (CONTRACT §4); `reason` the finer cause, a stable code too (the page says it in
    the user's language); `field_codes` each field's problem with its figures (shared/problems.py)."""
    fields = fields or {}
    code = code or CODES.get(status, "error")
    body = {
        "error": {
            "code": code,
            "reason": reason or code,
            "message": message,
            "fields": fields,
            "field_codes": {field: detail_of(problem) for field, problem in fields.items()},
        }
    }
    return jsonify(body), status


def drain_refused_body() -> None:
    """Read and drop what is left of a refused body of modest size.

    A server that answers 413 without reading the body, then closes, leaves unread bytes in its socket: the
    kernel answers them with a reset, and the client often loses the 413 it was about to read. Only bytes the
    request declares (Content-Length) or a server that ends the stream itself (wsgi.input_terminated, chunked
    under gunicorn) are read, so this never waits on a socket for bytes that will not come."""
    stream = request.environ.get("wsgi.input")
    declared = request.content_length
    if stream is None or (declared is None and not request.environ.get("wsgi.input_terminated")):
        return
    left = min(declared if declared is not None else DRAIN_AT_MOST, DRAIN_AT_MOST)
    if declared is not None and declared > DRAIN_AT_MOST:
        return  # too big to be worth reading: let the connection drop
    try:
        while left > 0:
            chunk = stream.read(min(65536, left))
            if not chunk:
                break
            left -= len(chunk)
    except OSError:  # the client went away: nothing to answer
        pass


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if exc.status == 413:
            drain_refused_body()
        response, status = error_response(exc.status, exc.message, exc.fields, exc.code, exc.reason)
        response.headers.update(exc.headers)
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages: dict[int | None, str] = {
            404: "No such resource",
            405: "This method is not allowed here",
            413: "The request body is too large",
        }
        if exc.code == 413:
            drain_refused_body()
        return error_response(exc.code or 500, messages.get(exc.code, exc.description or exc.name))

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError):
        # The database refused or dropped the connection (PostgreSQL restarting, SQLite locked): nothing
        # was saved, and a repeat with the same Idempotency-Key is safe. Found by the PostgreSQL chaos run.
        log.warning("the database did not answer: %s", str(exc.orig or exc).splitlines()[0][:200])
        response, status = error_response(
            503, "The database did not answer; the request was not applied. Try again in a moment."
        )
        response.headers["Retry-After"] = "2"
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Never a bare 500 page: log the cause, tell the caller something they can act on.
        log.exception("unexpected error")
        return error_response(
            500, "Something went wrong on our side; the request was not applied. Try again."
        )
