"""The JSON API (CONTRACT §3-4): one blueprint per feature."""

from __future__ import annotations

import json

from flask import Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from shared.schemas import field_errors
from web.errors import ApiError


def parse_body(model: type[BaseModel], more_problems: dict[str, str] | None = None):
    """400 for malformed JSON, 422 with every offending field (and `more_problems`) for one that breaks a rule."""
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(raw) >= limit:
        # A chunked body (no Content-Length) is read only up to the limit, not refused: refuse it here.
        raise ApiError(413, "The request body is too large")
    try:
        data = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ApiError(400, "The body is not valid JSON", reason="invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object", reason="not_an_object")
    return validate(model, data, more_problems)


def parse_query(model: type[BaseModel]):
    data = {}
    for key in request.args:
        values = [v for v in request.args.getlist(key) if v != ""]  # `?type=` means no filter
        if values:
            data[key] = values[0] if len(values) == 1 else values
    return validate(model, data)


def validate(model: type[BaseModel], data: dict, more_problems: dict[str, str] | None = None):
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        fields = {
            **(more_problems or {}),
            **field_errors(exc, data, getattr(model, "cross_field_rules", None)),
        }
        raise ApiError(422, "Some fields are not valid", fields) from None
    if more_problems:
        raise ApiError(422, "Some fields are not valid", more_problems)
    return parsed


def db():
    return current_app.extensions["db"]


def conditional(payload) -> Response:
    """The JSON answer with an ETag of its bytes; 304 with no body when the caller's If-None-Match names it.

    A page that polls a conference in progress pays for a body only when something changed. The answer
    stays `no-store` (it is one user's data): the page keeps the last body and ETag itself."""
    response = jsonify(payload)
    response.add_etag()
    response.make_conditional(request)  # turns this very response into the 304 when it matches
    return response
