"""Automation rules ("robots") an application registers, the portal running one, and what it sends back.

Pages (b24restdocs): api-reference/bizproc/bizproc-robot/index.md, bizproc-robot-add.md, bizproc-robot-update.md,
bizproc-robot-list.md, bizproc-robot-delete.md, bizproc-event-send.md; bizproc-activity/index.md (the same
mechanism); tutorials/bizproc/setting-robot.md and activity.md (what the handler receives, the error texts).

Who may call: robot.* an administrator, in the context of an application (an OAuth token; a webhook gets
ACCESS_DENIED "Application context required", setting-robot.md), each page's error table giving codes and
texts. The pages answer those errors with HTTP 400 (bizproc-robot-list.md shows ACCESS_DENIED under "HTTP
status: 400"); bizproc.event.send answers 403. A robot belongs to the application (client_id) that added it:
CODE "must be unique within the application", list gives "robots registered by the application".

INVENTED: a missing HANDLER is "Empty data!" (the table's row for required fields); USE_PLACEMENT=Y
without PLACEMENT_HANDLER likewise; PLACEMENT_HANDLER is checked as HANDLER is. The domain check compares
host names (app_url's), not ports. A robot of an app that is not installed does not run (409), as index.md
says they work for "the installed application" and bizproc-robot-delete.md that reinstalling brings them back.
bizproc.event.send: RETURN_VALUES is kept as sent, keys not declared in RETURN_PROPERTIES too (the page does
not say they are refused). A token is "current" while its run waits (USE_SUBSCRIPTION not N, the page: "An
event can be sent if ... registered with 'USE_SUBSCRIPTION': 'Y'"); once used it is not (INVENTED: the page
does not say whether a second send is accepted).

What the portal sends a robot's handler when it runs one is in robot_runs.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import RestError
from .methods import Caller, method
from .params import as_int, get_ci, is_y

if TYPE_CHECKING:
    from .portal import Portal

CODE = re.compile(r"[a-zA-Z0-9._-]+")  # bizproc-robot-add.md, CODE
# A property's key "must start with a letter and can contain characters a-z, A-Z, 0-9, and underscore".
PROPERTY_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
# What bizproc.robot.add takes besides CODE, and what bizproc.robot.update takes in FIELDS.
FIELDS = (
    "HANDLER",
    "AUTH_USER_ID",
    "USE_SUBSCRIPTION",
    "NAME",
    "DESCRIPTION",
    "PROPERTIES",
    "RETURN_PROPERTIES",
    "DOCUMENT_TYPE",
    "FILTER",
    "USE_PLACEMENT",
    "PLACEMENT_HANDLER",
)
# bizproc-workflow-start.md, DOCUMENT_ID: the CRM documents a run may be for.
DOCUMENTS = {
    "deal": "CCrmDocumentDeal",
    "lead": "CCrmDocumentLead",
    "contact": "CCrmDocumentContact",
    "company": "CCrmDocumentCompany",
}


@dataclass
class Robot:
    client_id: str
    code: str
    fields: dict[str, Any]  # FIELDS, validated, as sent

    def as_state(self) -> dict[str, Any]:
        f = self.fields
        return {
            "code": self.code,
            "handler": f["HANDLER"],
            "name": f["NAME"],
            "auth_user_id": f["AUTH_USER_ID"],
            "use_subscription": f["USE_SUBSCRIPTION"],
            "properties": f["PROPERTIES"],
            "return_properties": f["RETURN_PROPERTIES"],
            "document_type": f["DOCUMENT_TYPE"],
            "filter": f["FILTER"],
        }


@dataclass
class Run:
    event_token: str
    workflow_id: str
    code: str
    user_id: int
    document_id: list[str]
    properties: dict[str, Any]
    waits: bool  # USE_SUBSCRIPTION was not N: the token is current until bizproc.event.send uses it
    status: int | None = None  # what the handler answered; None while under way or when nothing answered

    def as_state(self) -> dict[str, Any]:
        return {
            "event_token": self.event_token,
            "code": self.code,
            "user_id": self.user_id,
            "document_id": self.document_id,
            "properties": self.properties,
            "status": self.status,
        }


@dataclass
class RobotStore:
    robots: list[Robot] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    def find(self, client_id: str, code: str) -> Robot | None:
        return next((r for r in self.robots if (r.client_id, r.code) == (client_id, code)), None)

    def state(self) -> dict[str, Any]:
        return {
            "registered": [r.as_state() for r in self.robots],
            "runs": [r.as_state() for r in self.runs],
            "results": [dict(r) for r in self.results],
        }


def _invalid(text: str) -> RestError:
    return RestError(400, "ERROR_ACTIVITY_VALIDATION_FAILURE", text)


def _manager(caller: Caller) -> None:
    """robot.* pages: an app's token, then an administrator."""
    if not caller.is_app:
        raise RestError(400, "ACCESS_DENIED", "Application context required")
    if not caller.user.is_admin:
        raise RestError(400, "ACCESS_DENIED", "Access denied!")


def _code(params: dict[str, Any]) -> str:
    code = str(get_ci(params, "CODE") or "").strip()
    if not code:
        raise _invalid("Empty activity code!")
    if not CODE.fullmatch(code):
        raise _invalid("Wrong activity code!")
    return code


def _url(portal: Portal, value: Any) -> str:
    url = str(value or "").strip()
    if not url:
        raise _invalid("Empty data!")  # INVENTED (module docstring)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RestError(400, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol")
    # "The link must have the same domain where the application is installed"
    if parts.hostname != urlsplit(portal.settings.app_url).hostname:
        raise RestError(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
    return url


def _text(value: Any) -> bool:
    """NAME, a property's Name: a string, or an object of localized strings, not empty."""
    if isinstance(value, dict):
        return any(isinstance(v, str) and v.strip() for v in value.values())
    return isinstance(value, (str, int)) and str(value).strip() != ""


def _properties(value: Any) -> dict[str, Any]:
    if value in (None, "", []):  # an empty PHP array arrives as []
        return {}
    if not isinstance(value, dict) or not all(isinstance(p, dict) for p in value.values()):
        raise _invalid("Wrong properties array!")
    for key, prop in value.items():
        if not PROPERTY_KEY.fullmatch(key):
            raise _invalid(f"Wrong property key {key}!")
        if not _text(get_ci(prop, "Name")):
            raise _invalid(f"Empty property NAME {key}!")
    return value


def _rule(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and 0 < len(value) <= 3 and all(isinstance(v, str) for v in value)
    )


def _validated(portal: Portal, given: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The FIELDS of `given` checked as bizproc-robot-add.md says, laid over `base` (the robot as it was)."""
    out = dict(base)
    for name in FIELDS:
        value = get_ci(given, name)
        if value is not None:
            out[name] = value
    out["HANDLER"] = _url(portal, out.get("HANDLER"))
    if not _text(out.get("NAME")):
        raise _invalid("Empty activity NAME!")
    out["PROPERTIES"], out["RETURN_PROPERTIES"] = (
        _properties(out.get("PROPERTIES")),
        _properties(out.get("RETURN_PROPERTIES")),
    )
    flt = out.get("FILTER") or {}
    if (
        not isinstance(flt, dict)
        or set(flt) - {"INCLUDE", "EXCLUDE"}
        or not all(isinstance(rules, list) and all(_rule(r) for r in rules) for rules in flt.values())
    ):
        raise _invalid("Wrong activity FILTER!")
    out["FILTER"] = flt
    doc = out.get("DOCUMENT_TYPE")
    if doc not in (None, "", []) and not (
        isinstance(doc, list) and len(doc) == 3 and all(isinstance(p, str) and p for p in doc)
    ):
        raise _invalid("Wrong activity DOCUMENT_TYPE!")
    out["DOCUMENT_TYPE"] = doc or None
    # "By default, the parameter is empty, which is equivalent to waiting ... only when explicitly set to N"
    out["USE_SUBSCRIPTION"] = "N" if out.get("USE_SUBSCRIPTION") in ("N", False) else "Y"
    out["AUTH_USER_ID"] = as_int(out.get("AUTH_USER_ID")) or 0  # PHP's (int): anything else is 0, "not set"
    out["USE_PLACEMENT"] = "Y" if is_y(out.get("USE_PLACEMENT")) else "N"
    if out["USE_PLACEMENT"] == "Y" or out.get("PLACEMENT_HANDLER"):
        out["PLACEMENT_HANDLER"] = _url(portal, out.get("PLACEMENT_HANDLER"))  # INVENTED (module docstring)
    return out


def robot_add(portal: Portal, caller: Caller, params: dict[str, Any]) -> bool:
    _manager(caller)
    if not any(get_ci(params, name) is not None for name in ("CODE", *FIELDS)):
        raise _invalid("Empty data!")
    code = _code(params)
    fields = _validated(portal, params, {})
    if portal.robots.find(caller.client_id, code):
        raise RestError(
            400, "ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Automation rule already installed!"
        )
    portal.robots.robots.append(Robot(caller.client_id, code, fields))
    return True


def robot_update(portal: Portal, caller: Caller, params: dict[str, Any]) -> bool:
    _manager(caller)
    code = _code(params)
    robot = portal.robots.find(caller.client_id, code)
    if robot is None:
        raise RestError(400, "ERROR_ACTIVITY_NOT_FOUND", "Activity or Automation Rule not found!")
    given = get_ci(params, "FIELDS")
    if not isinstance(given, dict) or not any(get_ci(given, name) is not None for name in FIELDS):
        raise _invalid("No fields to update")  # "Pass at least one field to update in FIELDS"
    robot.fields = _validated(portal, given, robot.fields)
    return True


def robot_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> list[str]:
    _manager(caller)
    return [r.code for r in portal.robots.robots if r.client_id == caller.client_id]


def robot_delete(portal: Portal, caller: Caller, params: dict[str, Any]) -> bool:
    _manager(caller)
    robot = portal.robots.find(caller.client_id, _code(params))
    if robot is None:
        raise RestError(400, "ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!")
    portal.robots.robots.remove(robot)
    return True


def event_send(portal: Portal, caller: Caller, params: dict[str, Any]) -> bool:
    """Any user; "EVENT_TOKEN must be valid and current", else 403 ACCESS_DENIED "Access denied!"."""
    token = str(get_ci(params, "EVENT_TOKEN") or "")
    run = next((r for r in portal.robots.runs if r.event_token == token and r.waits), None)
    if not token or run is None or any(res["event_token"] == token for res in portal.robots.results):
        raise RestError(403, "ACCESS_DENIED", "Access denied!")
    portal.robots.results.append(
        {
            "event_token": token,
            "code": run.code,
            "return_values": get_ci(params, "RETURN_VALUES"),
            "log_message": str(get_ci(params, "LOG_MESSAGE") or ""),
            "sent_by": caller.user.id,
        }
    )
    return True


METHODS = {
    "bizproc.robot.add": method(robot_add, "bizproc"),
    "bizproc.robot.update": method(robot_update, "bizproc"),
    "bizproc.robot.list": method(robot_list, "bizproc"),
    "bizproc.robot.delete": method(robot_delete, "bizproc"),
    "bizproc.event.send": method(event_send, "bizproc"),
}
