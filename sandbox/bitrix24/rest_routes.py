"""/rest/<method>[.json] (auth in the `auth` parameter) and /rest/<user_id>/<key>/<method>[.json] (webhook).

Every request here, whatever its fate, is counted, enters the leaky bucket (a rejected one does not
fill it) and meets the injected faults, in that order; then auth, the method, its scope.

Before all that: a renamed portal's former host answers 302 to the same path on the new one (what b24pysdk
follows, credentials/bitrix_token.py BitrixResponse302JSONDecodeError), and a deleted portal answers
500 PORTAL_DELETED (b24restdocs _includes/system-errors.md).
"""
from __future__ import annotations

import time

from flask import request, redirect, Blueprint, Response

from .envelope import error_response, fault_error, json_response, request_params, success_body
from .errors import RestError, method_not_found, portal_deleted, query_limit_exceeded
from .methods import normalize_method
from .portal import Portal


def rest_blueprint(portal: Portal) -> Blueprint:
    bp = Blueprint("bitrix24_rest", __name__)

    @bp.route("/rest/<path:path>", methods=["GET", "POST"])
    def rest_call(path: str) -> Response:
        return handle_rest_call(portal, path)

    return bp


def handle_rest_call(portal: Portal, path: str) -> Response:
    with portal.lock:
        moved, deleted, new_root = request.host in portal.former_domains, portal.deleted, portal.settings.public_url
    if moved:
        query = request.query_string.decode("latin-1")
        return redirect(f"{new_root}/rest/{path}" + (f"?{query}" if query else ""), 302)
    if deleted:
        return error_response(portal_deleted())
    started_at, clock_start = portal.now(), time.perf_counter()
    segments = path.strip("/").split("/")
    method_name = normalize_method(segments[-1])
    webhook = (segments[0], segments[1]) if len(segments) == 3 else None
    portal.request_log.count(method_name)
    if not portal.admit():
        return error_response(query_limit_exceeded())
    # The whole request is read before any delay, as a server does: a portal that answers after the
    # client's timeout still carries the request out, and the client never learns of it.
    request.get_data(cache=True)
    decision = portal.faults.decide(method_name)
    if decision:
        return error_response(fault_error(decision))  # before any state is touched
    try:
        if len(segments) not in (1, 3):
            raise method_not_found()
        params = request_params()
        caller = portal.authenticate(params, webhook)
        result = portal.execute(caller, method_name, params)
    except RestError as error:
        return error_response(error)
    return json_response(success_body(result, started_at, time.perf_counter() - clock_start))
