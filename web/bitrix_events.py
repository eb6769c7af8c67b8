"""The portal's events (CONTRACT §3): POST /bitrix/events, form-encoded with PHP bracket keys.

Only ONAPPINSTALL proves itself (its token is checked with the OAuth server). Every other event carries
the application token, which each launch hands to every employee's browser (DESIGN §5): it routes the
event to its portal and proves nothing. So an uninstall or a calendar change is a hint that sends the
worker to ask the portal, with the app's own pair, what is true; many hints of one subject make one check.
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, jsonify, request, url_for

from shared.clients.errors import TransientError
from shared.services import calendar_sync
from shared.services.identity import Launch, NotVouched

from .bitrix_form import nested, number
from .errors import error_response

bp = Blueprint("bitrix_events", __name__)
log = logging.getLogger(__name__)
CALENDAR_EVENTS = ("ONCALENDARENTRYDELETE", "ONCALENDARENTRYUPDATE")


def _install(auth: dict, ts: int) -> None:
    launch = Launch(auth_id=str(auth.get("access_token", "")), domain=str(auth.get("domain", "")),
                    member_id=str(auth.get("member_id", "")), refresh_id=auth.get("refresh_token") or None,
                    application_token=auth.get("application_token") or None)
    current_app.extensions["portals"].install(launch, ts=ts, scope=auth.get("scope"),
                                              events_url=url_for("bitrix_events.portal_events", _external=True))


def _calendar_changed(member_id: str, data) -> None:
    event_id = number(str(data.get("id", ""))) if isinstance(data, dict) else None
    if event_id is None:
        return
    queue = current_app.extensions["queue"]
    for conference_id in calendar_sync.conferences_of_event(current_app.extensions["db"], member_id, event_id):
        queue.check_calendar_event(conference_id)


@bp.post("/bitrix/events")
def portal_events():
    """Anything that does not even route to an installed portal changes nothing and gets 401."""
    body = nested(request.form.items(multi=False))
    auth = body.get("auth") if isinstance(body.get("auth"), dict) else {}
    event, ts = str(body.get("event", "")).upper(), number(str(body.get("ts", "")))
    if ts is None:
        return error_response(400, "ts is missing or not a Unix time")
    portals, queue = current_app.extensions["portals"], current_app.extensions["queue"]
    member_id, application_token = str(auth.get("member_id", "")), str(auth.get("application_token", ""))
    checking = False
    try:
        if event == "ONAPPINSTALL":
            _install(auth, ts)
        elif event == "ONAPPUNINSTALL":
            portals.hear_uninstall(member_id, application_token, ts)
            queue.confirm_uninstall(member_id, ts)
            checking = True
        elif event in CALENDAR_EVENTS:
            portals.verify_event(member_id, application_token)
            _calendar_changed(member_id, body.get("data"))
            checking = True
        else:
            return jsonify({"accepted": False, "reason": f"{event or 'no event'} is not handled"}), 200
    except NotVouched as exc:
        log.warning("%s refused: %s", event, exc)
        return error_response(401, str(exc))
    except TransientError:
        return error_response(503, "Bitrix24 did not answer")
    # "checking": what the event says is being confirmed with the portal; nothing is taken on its word.
    return jsonify({"accepted": True, "event": event, "at": int(time.time()), "checking": checking})
