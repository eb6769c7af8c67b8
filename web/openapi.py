"""The OpenAPI 3 document, generated from the routes and the pydantic models they declare."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from pydantic import BaseModel
from werkzeug.routing import AnyConverter, IntegerConverter

from shared.schemas import ErrorOut

bp = Blueprint("openapi", __name__)
REF = "#/components/schemas/{model}"


def documented(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    responses: dict[int, type[BaseModel] | None],
    headers: dict[str, str] | None = None,
):
    """Declares what a view accepts and answers; the document is built from these declarations."""

    def attach(view):
        view.__openapi__ = {
            "summary": summary,
            "body": body,
            "query": query,
            "responses": responses,
            "headers": headers or {},
        }
        return view

    return attach


def _path_schema(converter: Any) -> dict:
    """What a path parameter's converter accepts: one of its words (any), a number (int, id), else text."""
    if isinstance(converter, AnyConverter):
        return {"type": "string", "enum": sorted(converter.items)}
    if isinstance(converter, IntegerConverter):  # the row ids' converter too (web/__init__.py)
        return {"type": "integer"}
    return {"type": "string"}


def _operation(spec: dict, view, schemas: dict[str, Any], path_params: dict[str, Any]) -> dict:
    def ref(model: type[BaseModel]) -> dict:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}

    operation: dict[str, Any] = {"summary": spec["summary"], "responses": {}}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(converter)}
        for name, converter in sorted(path_params.items())
    ]
    if spec["query"] is not None:
        for name, field in spec["query"].model_fields.items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": field.is_required(),
                    "schema": spec["query"].model_json_schema()["properties"][name],
                }
            )
    parameters += [
        {"name": h, "in": "header", "required": False, "description": d, "schema": {"type": "string"}}
        for h, d in spec["headers"].items()
    ]
    if parameters:
        operation["parameters"] = parameters
    if spec["body"] is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(spec["body"])}},
        }
    for status, model in spec["responses"].items():
        answer: dict[str, Any] = {"description": _describe(status)}
        if model is not None:
            answer["content"] = {"application/json": {"schema": ref(model)}}
        operation["responses"][str(status)] = answer
    if getattr(view, "__openapi_secured__", False):
        operation["security"] = [{"appToken": []}]
        operation["responses"].setdefault(
            "401", {"description": _describe(401), "content": {"application/json": {"schema": ref(ErrorOut)}}}
        )
    return operation


def _describe(status: int) -> str:
    return {
        200: "OK",
        202: "Accepted: the work continues in the background",
        304: "Not modified: the If-None-Match ETag is still current",
        400: "Malformed request",
        401: "No valid app token",
        404: "Not found (or not yours)",
        409: "Conflict",
        413: "Body too large",
        422: "A rule was broken; every offending field is named",
        501: "Not implemented yet",
        503: "A dependency is down",
    }.get(status, "Answer")


def build_document(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    schemas: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "__openapi__", None)
        if spec is None:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert rule.methods is not None  # Flask gives every rule its methods
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                spec, view, schemas, dict(rule._converters)
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telemost for Bitrix24",
            "version": "1.0.0",
            "description": "Create Yandex Telemost meetings and broadcasts from a Bitrix24 portal.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "appToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The token from POST /api/session",
                }
            },
        },
    }


@bp.get("/api/openapi.json")
def openapi_document():
    if "OPENAPI" not in current_app.extensions:
        current_app.extensions["OPENAPI"] = build_document(current_app)
    # The prefix the app is reached under (BASE_PATH or nginx's X-Script-Name) differs per request.
    return jsonify({**current_app.extensions["OPENAPI"], "servers": [{"url": request.script_root or "/"}]})
