"""CORS for the app's origin only: the BX24 shim runs in the app's page (http://127.0.0.1:5000) and calls
/rest on the portal's origin, as BX24.js does on a real portal.

Only the origin of app_url is allowed: any other page gets no Access-Control-Allow-Origin, so a browser
keeps it from reading the answers (tokens travel in them). Preflights are Flask's automatic OPTIONS
answers, which never reach the REST view, so they neither fill the leaky bucket nor count as calls.
"""
from __future__ import annotations

from flask import Flask, Response, request

from .settings import Settings

CORS_PATH_PREFIXES = ("/rest/", "/_sandbox/bx24.js")
PREFLIGHT_MAX_AGE_S = 600


def allow_app_origin(app: Flask, settings: Settings) -> None:
    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        if not request.path.startswith(CORS_PATH_PREFIXES):
            return response
        response.vary.add("Origin")  # the answer differs by Origin: caches must not share it
        if request.headers.get("Origin") != settings.app_origin:
            return response
        response.headers["Access-Control-Allow-Origin"] = settings.app_origin
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
        return response
