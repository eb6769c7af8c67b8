"""The JSON API (CONTRACT §3-4): one blueprint per feature."""
from __future__ import annotations

import json

from flask import current_app, request
from pydantic import BaseModel, ValidationError

from shared.schemas import field_errors

from ..errors import ApiError


def parse_body(model: type[BaseModel]):
    """400 for malformed JSON, 422 with every offending field for a body that breaks a rule."""
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object")
    return validate(model, data)


def parse_query(model: type[BaseModel]):
    data = {}
    for key in request.args:
        values = request.args.getlist(key)
        data[key] = values[0] if len(values) == 1 else values
    return validate(model, data)


def validate(model: type[BaseModel], data: dict):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "Some fields are not valid", field_errors(exc)) from None


def db():
    return current_app.extensions["db"]
