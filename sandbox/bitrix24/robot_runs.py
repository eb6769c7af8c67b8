"""The portal running an application's robot (POST /_sandbox/robot): the call its HANDLER receives, and the run
that bizproc.event.send answers (robots.py keeps the robots and the methods).

What the handler receives (POST /_sandbox/robot, form-encoded with PHP brackets as events are):
- documented: document_id ([module, object, "DEAL_1"]: tutorials/bizproc/activity.md, bizproc-workflow-start.md),
  properties (activity.md), event_token (bizproc-event-send.md "received by the handler in the input data");
  workflow_id, document_type, ts, auth as messageservice-sender-add.md "What Comes to the Handler" lists them
  for a message sent from a robot; auth[domain], auth[access_token], auth[refresh_token] (activity.md);
- from b24pysdk (credentials/oauth_workflow_data.py, auth.py WorkflowOAuth), not from a page: code,
  use_subscription (Y/N), timeout_duration (an int), and auth's expires, expires_in, scope, status, member_id,
  user_id, client_endpoint, server_endpoint, application_token;
- INVENTED: timeout_duration is 0; a user-type property arrives as "user_N" (the "user_ID" form
  bizproc-workflow-start.md gives for a user binding); a Multiple one as an array; an undeclared property,
  or a required one without a value or Default, is refused (400); a missing one gets its Default, else is
  left out; the token is of AUTH_USER_ID when that is an active user, else of the user the run is for;
  the workflow id and event token are made in the shapes the pages' examples show.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from .event_delivery import deliver
from .params import as_int, as_list, get_ci, is_y
from .robots import DOCUMENTS, Robot, Run

if TYPE_CHECKING:
    from .portal import Portal
    from .users import User


class UnknownRobot(LookupError):
    pass


class _Call(dict):
    """The form the handler gets. deliver() logs payload["event"]; a robot's call has no such field, so the
    robot's code stands for it in the log without being sent."""

    def __missing__(self, key: str) -> Any:
        if key == "event":
            return self["code"]
        raise KeyError(key)


def _document(value: Any) -> tuple[list[str], list[str]]:
    kind, _, number = str(value or "deal:1").partition(":")
    if kind not in DOCUMENTS or not number.isdigit() or int(number) < 1:
        raise ValueError(f"document must be one of {', '.join(DOCUMENTS)} and an id, e.g. deal:1")
    return ["crm", DOCUMENTS[kind], f"{kind.upper()}_{int(number)}"], ["crm", DOCUMENTS[kind], kind.upper()]


def _offered(robot: Robot, document_type: list[str]) -> bool:
    """FILTER: INCLUDE/EXCLUDE rules, each "b24" (cloud, this portal), "box", a module, or a document type prefix."""

    def hits(rule: Any) -> bool:
        return (
            rule == "b24" if rule in ("b24", "box") else document_type[: len(as_list(rule))] == as_list(rule)
        )

    flt = robot.fields["FILTER"]
    return (not flt.get("INCLUDE") or any(map(hits, flt["INCLUDE"]))) and not any(
        map(hits, flt.get("EXCLUDE", []))
    )


def _values(robot: Robot, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ValueError("properties must be an object")
    declared = robot.fields["PROPERTIES"]
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"robot {robot.code} declares no property {', '.join(unknown)}")
    values = {}
    for key, prop in declared.items():
        value = given.get(key, get_ci(prop, "Default"))
        if value is None:
            if is_y(get_ci(prop, "Required")):
                raise ValueError(f"property {key} is required")
            continue
        items = [
            f"user_{v}" if str(get_ci(prop, "Type")).lower() == "user" and as_int(v) is not None else v
            for v in (value if isinstance(value, list) else [value])
        ]
        if is_y(get_ci(prop, "Multiple")):
            values[key] = items
        elif len(items) == 1:
            values[key] = items[0]
        else:
            raise ValueError(f"property {key} is not Multiple: one value, not {len(items)}")
    return values


def run(portal: Portal, user: User, body: dict[str, Any]) -> dict[str, Any]:
    """POSTs the robot's call to its HANDLER; answers {"event_token", "status", "body"} (or "error") and
    "delivered", the call's fields but its auth."""
    # Imported here: app_install and oauth_server import the portal, which imports this module.
    from .app_install import portal_auth
    from .oauth_server import token_response

    code = str(body.get("code") or "")
    document_id, document_type = _document(body.get("document"))
    with portal.lock:
        ours = portal.settings.client_id
        # Two apps may have robots of the same code: ours is run.
        candidates = [r for r in portal.robots.robots if r.code == code]
        robot = min(candidates, key=lambda r: r.client_id != ours, default=None)
        if robot is None:
            raise UnknownRobot(f"no robot has the code {code!r}")
        if not portal.installed:
            raise PermissionError("the app is not installed: its robots do not run")
        if not _offered(robot, document_type):
            raise ValueError(f"robot {code} is not offered for {document_type} (its FILTER)")
        values = _values(robot, body.get("properties", {}))
        again = body.get("event_token")
        earlier = next((r for r in portal.robots.runs if r.event_token == again), None)
        if again is not None and (earlier is None or earlier.code != code):
            raise ValueError(f"event_token must be one the portal sent to robot {code} before (a repeat)")
        workflow_id = (
            earlier.workflow_id if earlier else f"{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"
        )
        token = earlier.event_token if earlier else _event_token(workflow_id)
        auth_user = portal.users.get(robot.fields["AUTH_USER_ID"])
        auth_user = auth_user if auth_user is not None and auth_user.active else user
        pair = portal.issue_tokens(auth_user.id, client_id=robot.client_id)
        auth = {**token_response(portal, pair), **portal_auth(portal)}
        this_run = Run(
            token, workflow_id, code, user.id, document_id, values, robot.fields["USE_SUBSCRIPTION"] == "Y"
        )
        # Kept before the POST: the handler may answer with bizproc.event.send while handling it.
        portal.robots.runs.append(this_run)
        url = robot.fields["HANDLER"]
    payload = _Call(
        workflow_id=workflow_id,
        code=code,
        document_id=document_id,
        document_type=document_type,
        event_token=token,
        properties=values,
        use_subscription=robot.fields["USE_SUBSCRIPTION"],
        timeout_duration=0,
        ts=int(portal.now()),
        auth=auth,
    )
    outcome = deliver(portal, url, payload)
    with portal.lock:
        this_run.status = outcome["status"]
    # What was delivered, as CONTRACT §5 asks, without the tokens (auth[...] carries the user's pair).
    delivered = {key: value for key, value in payload.items() if key != "auth"}
    return {"event_token": token, **outcome, "delivered": delivered}


def _event_token(workflow_id: str) -> str:
    """The shape of the pages' example: workflow id | activity name | key.signature."""
    activity = "A" + "_".join(str(secrets.randbelow(90000) + 10000) for _ in range(4))
    key = secrets.token_urlsafe(24)[:32]
    return f"{workflow_id}|{activity}|{key}.{hashlib.sha256(key.encode()).hexdigest()}"
