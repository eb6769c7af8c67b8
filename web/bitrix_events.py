"""The portal's events (CONTRACT §3): POST /bitrix/events, form-encoded with PHP bracket keys.

Only ONAPPINSTALL proves itself (its token is checked with the OAuth server). Every other event carries
the application token, which each launch hands to every employee's browser (DESIGN §5): it routes the
event to its portal and proves nothing. So an uninstall or a calendar change is a hint that sends the
worker to ask the portal, with the app's own pair, what is true; many hints of one subject make one check.

Bitrix24 never sends an event twice ("No retries", b24restdocs api-reference/events/index.md): a hint is
stored in the database before the answer (shared/conferences/portal_events.py), and the queue carries only
its id. If it cannot be stored the answer is 503: the portal drops the event, and the reconciliation of
calendar events (beat) is what catches up. ONAPPINSTALL is done here and now: what it stores is its result.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from shared.clients.errors import TransientError
from shared.conferences import calendar_sync
from shared.conferences import portal_events as inbound_events
from shared.portal.identity import Launch, NotVouched
from web.bitrix_form import nested, number
from web.errors import error_response

bp = Blueprint("bitrix_events", __name__)
log = logging.getLogger(__name__)
CALENDAR_EVENTS = ("ONCALENDARENTRYDELETE", "ONCALENDARENTRYUPDATE")


def _install(auth: dict, ts: int) -> None:
    launch = Launch(
        auth_id=str(auth.get("access_token", "")),
        domain=str(auth.get("domain", "")),
        member_id=str(auth.get("member_id", "")),
        refresh_id=auth.get("refresh_token") or None,
        application_token=auth.get("application_token") or None,
    )
    current_app.extensions["portals"].install(
        launch,
        ts=ts,
        scope=auth.get("scope"),
        events_url=url_for("bitrix_events.portal_events", _external=True),
    )


def _store(member_id: str, subject: str, event: str, ts: int, auth: dict) -> None:
    """Stores the hint (SQLAlchemyError when it cannot be), sends its id to the workers, then keeps the OAuth
    server the event names (a known one only: Portals.hear_server_endpoint). A hint that joined one
    waiting already has its task on the way; one whose task could not be sent (Redis down) is sent by the
    sweeper. The event comes first: the server is noted again at the next launch or refresh, the event never."""
    row_id = inbound_events.store(current_app.extensions["db"], member_id, subject, event, ts)
    if row_id is not None:
        current_app.extensions["queue"].process_event(row_id)
    try:
        current_app.extensions["portals"].hear_server_endpoint(member_id, auth.get("server_endpoint"))
    except SQLAlchemyError as exc:
        log.warning("%s stored, its server_endpoint not kept: %s", event, exc)


def _data_deletion_asked(data: object) -> bool:
    """Whether the administrator ticked "delete application data": data[CLEAN], 1 or 0 ("Values: `1` or `0`",
    b24restdocs api-reference/common/events/on-app-uninstall.md), a form field, so "1" or "0". Anything else
    reads as 0: data is never deleted on a doubt."""
    return isinstance(data, dict) and str(data.get("CLEAN", "")) == "1"


def _ours(member_id: str, event_id: int) -> bool:
    """Whether a calendar event is one the app made: others are no hint about anything of ours, and storing
    them would let anyone with the (public) application token fill the table."""
    return bool(calendar_sync.conferences_of_event(current_app.extensions["db"], member_id, event_id))


@bp.post("/bitrix/events")
def portal_events():
    """Anything that does not even route to an installed portal changes nothing and gets 401."""
    body = nested(request.form.items(multi=False))
    raw_auth = body.get("auth")
    auth = raw_auth if isinstance(raw_auth, dict) else {}
    event, ts = str(body.get("event", "")).upper(), number(str(body.get("ts", "")))
    if ts is None:
        return error_response(400, "ts is missing or not a Unix time")
    portals = current_app.extensions["portals"]
    member_id, application_token = str(auth.get("member_id", "")), str(auth.get("application_token", ""))
    checking = False
    try:
        if event == "ONAPPINSTALL":
            _install(auth, ts)
        elif event == "ONAPPUNINSTALL":
            portals.hear_uninstall(member_id, application_token, ts)
            _store(
                member_id,
                inbound_events.uninstall_subject(_data_deletion_asked(body.get("data"))),
                event,
                ts,
                auth,
            )
            checking = True
        elif event in CALENDAR_EVENTS:
            portals.verify_event(member_id, application_token)
            data = body.get("data")
            event_id = number(str(data.get("id", ""))) if isinstance(data, dict) else None
            if event_id is not None and _ours(member_id, event_id):
                _store(member_id, inbound_events.calendar_subject(event_id), event, ts, auth)
                checking = True
        else:
            return jsonify({"accepted": False, "reason": f"{event or 'no event'} is not handled"}), 200
    except NotVouched as exc:
        log.warning("%s refused: %s", event, exc)
        return error_response(401, str(exc))
    except TransientError:
        return error_response(503, "Bitrix24 did not answer")
    except SQLAlchemyError as exc:  # the only answer left: the portal will not send it again
        log.error("%s not stored, the database did not answer: %s", event, exc)
        return error_response(503, "The event could not be stored; the database did not answer")
    # "checking": what the event says is being confirmed with the portal; nothing is taken on its word.
    return jsonify({"accepted": True, "event": event, "at": int(time.time()), "checking": checking})
