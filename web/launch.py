"""Opening the app from Bitrix24: the launch page, the install page and the portal's events (CONTRACT §3)."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from shared.clients.errors import TransientError
from shared.services import calendar_sync
from shared.services.identity import Launch, NotVouched, VerifiedUser

from .auth import TOKEN_TTL_SECONDS, issue_token
from .bitrix_form import nested, number
from .frontend import bundle_assets

bp = Blueprint("launch", __name__)
log = logging.getLogger(__name__)
REAL_BX24 = "https://api.bitrix24.com/api/v1/"
MAX_FIELD = 1024


def _field(name: str) -> str:
    # DOMAIN and APP_SID come in the query string, the rest in the form (reference §1.1); read both.
    return (request.form.get(name) or request.args.get(name) or "").strip()[:MAX_FIELD]


def _launch() -> Launch:
    return Launch(auth_id=_field("AUTH_ID"), domain=_field("DOMAIN"), member_id=_field("member_id"),
                  refresh_id=_field("REFRESH_ID") or None, expires_in=number(_field("AUTH_EXPIRES")),
                  application_token=_field("APPLICATION_TOKEN") or None)


def _refused(reason: str, status: int = 401) -> tuple[str, int]:
    return render_template("refused.html", reason=reason), status


def _bx24_url(user: VerifiedUser | None, domain: str) -> str:
    """The sandbox portal serves its own BX24 shim; a real portal page uses the official script."""
    if not current_app.config["SETTINGS"].sandbox:
        return REAL_BX24
    base = user.portal.rest_url.rsplit("/rest/", 1)[0] if user else f"http://{domain}"
    return f"{base}/_sandbox/bx24.js"


def _framed_by(response: Response, user: VerifiedUser) -> Response:
    """Only the user's portal may frame the page (no X-Frame-Options, which would block it)."""
    scheme = "https" if user.portal.secure else "http"
    response.headers["Content-Security-Policy"] = f"frame-ancestors 'self' {scheme}://{user.portal.domain}"
    return response


def _verified(verify) -> VerifiedUser | tuple[str, int]:
    launch = _launch()
    if not (launch.auth_id and launch.domain and launch.member_id):
        return _refused("The request did not come from a Bitrix24 portal.", 400)
    try:
        return verify(launch)
    except NotVouched as exc:
        log.warning("launch refused for %r: %s", launch.domain, exc)  # %r: a posted DOMAIN cannot forge log lines
        return _refused(str(exc))
    except TransientError:
        return _refused("Bitrix24 did not answer; reload the page in a moment.", 503)


@bp.post("/")
def launch_page():
    identity, portals = current_app.extensions["identity"], current_app.extensions["portals"]
    user = _verified(identity.verify)
    if not isinstance(user, VerifiedUser):
        return user
    portals.keep_user_tokens(user, _launch())
    config = {"token": issue_token(user.portal.key, user.as_dict()), "expiresIn": TOKEN_TTL_SECONDS,
              "user": user.as_dict(), "basePath": request.script_root, "portal": user.portal.domain,
              "memberId": _launch().member_id, "lang": (_field("LANG") or "ru").lower()[:8],
              "sandbox": current_app.config["SETTINGS"].sandbox}
    page = render_template("app.html", user=user, config=config, bx24_url=_bx24_url(user, user.portal.domain),
                           bundle=bundle_assets())
    return _framed_by(Response(page, mimetype="text/html"), user)


@bp.get("/")
def outside_the_portal():
    return _refused("Open Telemost from the portal's menu: the portal tells the app who you are.", 200)


@bp.route("/install", methods=["GET", "POST"])
def install_page():
    portals = current_app.extensions["portals"]
    events_url = url_for("launch.portal_events", _external=True)
    user = _verified(lambda launch: portals.install(launch, events_url=events_url))
    if not isinstance(user, VerifiedUser):
        return user
    page = render_template("install.html", domain=user.portal.domain, bx24_url=_bx24_url(user, user.portal.domain))
    return _framed_by(Response(page, mimetype="text/html"), user)


CALENDAR_EVENTS = ("ONCALENDARENTRYDELETE", "ONCALENDARENTRYUPDATE")


def _follow_calendar(event: str, portal: str, data) -> None:
    event_id = number(str(data.get("id", ""))) if isinstance(data, dict) else None
    if event_id is None:
        return
    db, queue = current_app.extensions["db"], current_app.extensions["queue"]
    if event == "ONCALENDARENTRYDELETE":
        for conference_id in calendar_sync.cancel_for_deleted_event(db, portal, event_id):
            queue.provision(conference_id)
    else:  # reading the event is an outside call: the worker does it, not the request
        for conference_id in calendar_sync.conferences_of_event(db, portal, event_id):
            queue.pull_calendar_change(conference_id)


@bp.post("/bitrix/events")
def portal_events():
    """ONAPPINSTALL and ONAPPUNINSTALL; anything not proven genuine changes nothing and gets 401."""
    body = nested(request.form.items(multi=False))
    auth = body.get("auth") if isinstance(body.get("auth"), dict) else {}
    event, ts = str(body.get("event", "")).upper(), number(str(body.get("ts", "")))
    if ts is None:
        return jsonify({"error": {"code": "bad_request", "message": "ts is missing or not a Unix time",
                                  "fields": {}}}), 400
    portals = current_app.extensions["portals"]
    try:
        if event == "ONAPPINSTALL":
            launch = Launch(auth_id=str(auth.get("access_token", "")), domain=str(auth.get("domain", "")),
                            member_id=str(auth.get("member_id", "")), refresh_id=auth.get("refresh_token") or None,
                            expires_in=number(str(auth.get("expires_in", ""))),
                            application_token=auth.get("application_token") or None)
            portals.install(launch, ts=ts, scope=auth.get("scope"),
                            events_url=url_for("launch.portal_events", _external=True))
        elif event == "ONAPPUNINSTALL":
            portals.uninstall(str(auth.get("member_id", "")), str(auth.get("application_token", "")), ts)
        elif event in CALENDAR_EVENTS:
            portals.verify_event(str(auth.get("member_id", "")), str(auth.get("application_token", "")))
            _follow_calendar(event, str(auth.get("member_id", "")), body.get("data"))
        else:
            return jsonify({"accepted": False, "reason": f"{event or 'no event'} is not handled"}), 200
    except NotVouched as exc:
        log.warning("%s refused: %s", event, exc)
        return jsonify({"error": {"code": "unauthorized", "message": str(exc), "fields": {}}}), 401
    except TransientError:
        return jsonify({"error": {"code": "unavailable", "message": "Bitrix24 did not answer", "fields": {}}}), 503
    return jsonify({"accepted": True, "event": event, "at": int(time.time())})
