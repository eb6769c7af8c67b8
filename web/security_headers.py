"""Headers every answer carries, and the Content-Security-Policy of the app's pages (issue 12, finding 14).

Every answer: `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` (a URL of the app may
carry a token: the Yandex popup's). The JSON API and the HTML pages (they carry an app token, or say who
the user is): `Cache-Control: no-store`. An HTML page runs only the scripts and styles of the app's own
origin, the BX24 script host its caller names and the inline blocks that carry this answer's nonce
(`{{ csp_nonce() }}` in a template); any other answer runs nothing at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from flask import Flask, Response, g, request

NONCE_BYTES = 18
# Not a page: a JSON answer, a file of the bundle, a redirect. Even opened as a document it runs nothing.
NOTHING = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def csp_nonce() -> str:
    """This answer's nonce: one per request, unguessable, the same in the page and in its header."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return g.csp_nonce


def page_policy(
    *, scripts: Iterable[str] = (), connect: Iterable[str] = (), frame_ancestors: Iterable[str] | None = None
) -> str:
    """The CSP of an HTML page of the app.

    scripts: origins a page loads scripts from besides its own (the BX24 script host).
    connect: origins its scripts may call besides its own (BX24.callMethod goes straight to the portal).
    frame_ancestors: who may frame it; None leaves that open (a refusal must show in whatever portal
    frame opened it, and such a page has nothing to click).
    """
    nonce = f"'nonce-{csp_nonce()}'"
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", ["'self'", nonce, *scripts]),
        ("style-src", ["'self'", nonce]),
        ("connect-src", ["'self'", *connect]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'none'"]),
        # The app's forms are handled by its scripts: no page submits a form anywhere.
        ("form-action", ["'none'"]),
    ]
    if frame_ancestors is not None:
        directives.append(("frame-ancestors", list(frame_ancestors)))
    return "; ".join(f"{name} {' '.join(dict.fromkeys(sources))}" for name, sources in directives)


def _add_headers(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    is_page = response.mimetype == "text/html"
    if is_page or request.path == "/api" or request.path.startswith("/api/"):
        response.headers["Cache-Control"] = "no-store"
    if "Content-Security-Policy" not in response.headers:  # the launch and install pages set their own
        response.headers["Content-Security-Policy"] = page_policy() if is_page else NOTHING
    return response


def register(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_add_headers)
