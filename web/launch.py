"""Opening the app from Bitrix24: the launch page and the install page (CONTRACT §3)."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request, url_for

from shared.clients.errors import TransientError
from shared.portal.identity import Launch, NotVouched, VerifiedUser
from web import security_headers
from web.auth import TOKEN_TTL_SECONDS, issue_token
from web.frontend import bundle_assets

bp = Blueprint("launch", __name__)
log = logging.getLogger(__name__)
REAL_BX24 = "https://api.bitrix24.com/api/v1/"
MAX_FIELD = 1024


def _field(name: str) -> str:
    # DOMAIN and APP_SID come in the query string, the rest in the form (reference §1.1); read both.
    return (request.form.get(name) or request.args.get(name) or "").strip()[:MAX_FIELD]


def _launch() -> Launch:
    return Launch(
        auth_id=_field("AUTH_ID"),
        domain=_field("DOMAIN"),
        member_id=_field("member_id"),
        refresh_id=_field("REFRESH_ID") or None,
        application_token=_field("APPLICATION_TOKEN") or None,
        server_endpoint=_field("SERVER_ENDPOINT") or None,
    )  # only a known server is asked


def _placement() -> dict:
    """Where the app was opened (CONTRACT §3): PLACEMENT and its PLACEMENT_OPTIONS, passed to the page as hints
    only. Anything they name is checked with the portal before it is used (web/api/chats.py)."""
    code = _field("PLACEMENT").upper() or "DEFAULT"
    try:
        options = json.loads(_field("PLACEMENT_OPTIONS") or "{}")
    except ValueError:
        options = {}
    if not isinstance(options, dict):
        options = {}
    simple = {
        str(k)[:64]: v for k, v in options.items() if isinstance(v, (str, int)) and not isinstance(v, bool)
    }
    return {"code": code[:64], "options": {k: str(v)[:256] for k, v in list(simple.items())[:20]}}


def _refused(reason: str, status: int = 401) -> tuple[str, int]:
    return render_template("refused.html", reason=reason), status


def _bx24_url(user: VerifiedUser | None, domain: str) -> str:
    """The sandbox portal serves its own BX24 shim; a real portal page uses the official script."""
    if not current_app.config["SETTINGS"].sandbox:
        return REAL_BX24
    base = user.portal.rest_url.rsplit("/rest/", 1)[0] if user else f"http://{domain}"
    return f"{base}/_sandbox/bx24.js"


def _framed_by(response: Response, user: VerifiedUser) -> Response:
    """Only the user's portal may frame the page (no X-Frame-Options, which would block it); its scripts
    come from the app, the BX24 script host and the page's own nonce (web/security_headers.py)."""
    scheme = "https" if user.portal.secure else "http"
    portal = f"{scheme}://{user.portal.domain}"
    bx24 = urlsplit(_bx24_url(user, user.portal.domain))
    response.headers["Content-Security-Policy"] = security_headers.page_policy(
        scripts=[f"{bx24.scheme}://{bx24.netloc}"], connect=[portal], frame_ancestors=["'self'", portal]
    )
    return response


def _verified(verify) -> VerifiedUser | tuple[str, int]:
    launch = _launch()
    if not (launch.auth_id and launch.domain and launch.member_id):
        return _refused("The request did not come from a Bitrix24 portal.", 400)
    try:
        return verify(launch)
    except NotVouched as exc:
        log.warning(
            "launch refused for %r: %s", launch.domain, exc
        )  # %r: a posted DOMAIN cannot forge log lines
        return _refused(str(exc))
    except TransientError:
        return _refused("Bitrix24 did not answer; reload the page in a moment.", 503)


@bp.post("/")
def launch_page():
    identity, portals = current_app.extensions["identity"], current_app.extensions["portals"]
    user = _verified(identity.verify)
    if not isinstance(user, VerifiedUser):
        return user
    portals.keep_user_tokens(user, _launch().refresh_id, replace=True)
    config = {
        "token": issue_token(user.portal, user.as_dict()),
        "expiresIn": TOKEN_TTL_SECONDS,
        "user": user.as_dict(),
        "basePath": request.script_root,
        "portal": user.portal.domain,
        "memberId": _launch().member_id,
        "lang": (_field("LANG") or "ru").lower()[:8],
        "sandbox": current_app.config["SETTINGS"].sandbox,
        "placement": _placement(),
    }
    page = render_template(
        "app.html",
        user=user,
        config=config,
        bx24_url=_bx24_url(user, user.portal.domain),
        bundle=bundle_assets(),
    )
    return _framed_by(Response(page, mimetype="text/html"), user)


@bp.get("/")
def outside_the_portal():
    return _refused("Open Telemost from the portal's menu: the portal tells the app who you are.", 200)


@bp.route("/install", methods=["GET", "POST"])
def install_page():
    portals = current_app.extensions["portals"]
    user = _verified(portals.install)
    if not isinstance(user, VerifiedUser):
        return user
    # A handler that could not be bound means lost calendar changes: the administrator is told here.
    problems = (
        portals.bind_events(
            user.portal.rest_url, _launch().auth_id, url_for("bitrix_events.portal_events", _external=True)
        )
        + portals.bind_placements(
            user.portal.rest_url, _launch().auth_id, url_for("launch.launch_page", _external=True)
        )
        + portals.register_robot(
            user.portal.rest_url, _launch().auth_id, url_for("robot.run_robot", _external=True)
        )
    )
    page = render_template(
        "install.html",
        domain=user.portal.domain,
        bx24_url=_bx24_url(user, user.portal.domain),
        problems=problems,
    )
    return _framed_by(Response(page, mimetype="text/html"), user)
