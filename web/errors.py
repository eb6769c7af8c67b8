"""Every error the API gives is JSON: {"error": {"code", "message", "fields"}} (CONTRACT §4)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed",
         429: "too_many_requests", 500: "internal_error", 501: "not_implemented", 503: "unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.fields, self.code = status, message, fields or {}, code or CODES[status]
        self.headers = headers or {}  # e.g. Retry-After on a 429


def error_response(status: int, message: str, fields: dict[str, str] | None = None, code: str | None = None):
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}}
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        response, status = error_response(exc.status, exc.message, exc.fields, exc.code)
        response.headers.update(exc.headers)
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {404: "No such resource", 405: "This method is not allowed here",
                    413: "The request body is too large"}
        return error_response(exc.code or 500, messages.get(exc.code, exc.description or exc.name))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Never a bare 500 page: log the cause, tell the caller something they can act on.
        log.exception("unexpected error")
        return error_response(500, "Something went wrong on our side; the request was not applied. Try again.")
