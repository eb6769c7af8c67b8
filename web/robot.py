"""The automation rule's handler (CONTRACT §3): POST /bitrix/robot, which the portal calls when a workflow runs
"Create a Telemost meeting" (shared/portal/robot.py). It answers at once; the meeting is made by the
workers like any other, and its link goes back to the workflow by the robot_result step.

Nothing in the call is taken on its word: the application token routes it to an installed portal (and it
reaches every employee's browser, so it proves nothing more), and the access token in auth[...] is checked
as a launch's is (app.info: our application on that portal; then whose it is), so the meeting is that
user's and made with their rights. The portal may send the same call again: the event token is the
conference's idempotency key, and a repeat answers the meeting made the first time.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import ValidationError

from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.errors import OutsideServiceError, TransientError
from shared.conferences import service as conferences
from shared.conferences.service import Places
from shared.limiter.allowances import CREATES, INVITATIONS
from shared.portal import robot
from shared.portal.caller import Caller
from shared.portal.identity import Launch, NotVouched
from shared.portal.settings import BroadcastNotAllowed
from shared.schemas import ConferenceIn, CrmIn, field_errors
from web.api.crm import crm_of
from web.bitrix_form import nested
from web.errors import ApiError, error_response
from web.limits import charge

bp = Blueprint("robot", __name__)
log = logging.getLogger(__name__)
MAX_EVENT_TOKEN = 1000


def _caller(auth: dict) -> tuple[Caller, Bitrix24Client]:
    """The user the portal gave the call's token of, verified as a launch is, and a client on that token;
    raises NotVouched. Their refresh token is kept as a launch's is (once the OAuth server says it is
    theirs), replacing the one kept, as the newest is the surest: the workers answer the workflow as them,
    and the user may never open the app."""
    member_id, application_token = str(auth.get("member_id", "")), str(auth.get("application_token", ""))
    current_app.extensions["portals"].verify_event(member_id, application_token)
    launch = Launch(
        auth_id=str(auth.get("access_token", "")),
        domain=str(auth.get("domain", "")),
        member_id=member_id,
        application_token=application_token,
        server_endpoint=str(auth.get("server_endpoint", "")) or None,
    )
    if not launch.auth_id:
        raise NotVouched("The call carries no access token")
    identity = current_app.extensions["identity"]
    user = identity.verify(launch)
    refresh = str(auth.get("refresh_token", "")) or None
    current_app.extensions["portals"].keep_user_tokens(user, refresh, replace=True)
    caller = Caller(user.portal.key, user.id, user.name, user.is_admin, user.email)
    return caller, identity.client(user.portal.rest_url, launch.auth_id)


def _refuse_to_workflow(api: Bitrix24Client, event_token: str, problems: dict) -> None:
    """Input the meeting cannot be made from: the workflow is told at once (there is nothing to queue)."""
    text = "; ".join(f"{field} {problem}" for field, problem in problems.items())
    try:
        api.result(
            "bizproc.event.send",
            {
                "EVENT_TOKEN": event_token,
                "RETURN_VALUES": {"join_url": "", "watch_url": "", "conference_id": 0, "error": text},
                "LOG_MESSAGE": f"Telemost meeting not created: {text}",
            },
        )
    except OutsideServiceError as error:
        log.warning("robot refusal not delivered to the workflow: %s", error)


def _record_of(document_id: object) -> dict | None:
    """The workflow's CRM record, if the user may see it: the meeting is then linked to it."""
    record = robot.crm_record(document_id)
    if record is None:
        return None
    try:
        return crm_of(CrmIn(**record))
    except ApiError as error:
        if error.status != 422:
            raise
        return None  # the user may not see the document the workflow runs on: a meeting all the same


@bp.post("/bitrix/robot")
def run_robot():
    body = nested(request.form.items(multi=False))
    given = body.get("auth")
    auth: dict = given if isinstance(given, dict) else {}
    event_token = str(body.get("event_token") or "")
    if not event_token or len(event_token) > MAX_EVENT_TOKEN:
        return error_response(400, "event_token is missing or too long")
    if str(body.get("code") or "") != robot.CODE:
        return error_response(400, f"no automation rule {str(body.get('code'))[:64]!r} here")
    try:
        g.caller, api = _caller(auth)
    except NotVouched as exc:
        log.warning("robot call refused: %s", exc)
        return error_response(401, str(exc))
    except TransientError:
        return error_response(503, "Bitrix24 did not answer")
    raw = robot.conference_body(body.get("properties"))
    try:
        data = ConferenceIn.model_validate(raw)
    except ValidationError as exc:
        problems = field_errors(exc, raw, ConferenceIn.cross_field_rules)
        _refuse_to_workflow(api, event_token, problems)
        return jsonify({"accepted": False, "fields": problems})
    key = "robot:" + hashlib.sha256(event_token.encode()).hexdigest()[:56]
    window = conferences.IDEMPOTENCY_WINDOW.total_seconds()
    charge({CREATES: 1, INVITATIONS: len(data.invitees)}, once=key, once_seconds=window)
    document = [str(part)[:128] for part in robot.values_of(body.get("document_id"))[:3]]
    places = Places(
        crm=_record_of(document),
        robot={"event_token": event_token, "code": robot.CODE, "document_id": document},
    )
    try:
        conference, created = conferences.create(current_app.extensions["db"], g.caller, data, key, places)
    except BroadcastNotAllowed as refused:
        _refuse_to_workflow(api, event_token, {"type": str(refused)})
        return jsonify({"accepted": False, "fields": {"type": str(refused)}})
    if created:
        current_app.extensions["queue"].provision(conference.id)
    return jsonify({"accepted": True, "conference_id": conference.id, "repeated": not created})
