"""What an app installer touches: app.info (portal shape), scope, event.* and placement.*.

event.* and placement.* need app context (an OAuth token: a webhook gets 403 WRONG_AUTH_TYPE) and an
admin. Re-binding what is bound is refused with "Handler already binded": INVENTED, no source documents
what a repeated bind answers (api-reference/events/event-bind.md lists ERROR_EVENT_NOT_FOUND and ACCESS_DENIED
only), so the app must not rely on it (it reads event.get first, as b24phpsdk's EventManager does).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import RestError, access_denied
from .methods import Caller, method
from .params import get_ci, is_yes

if TYPE_CHECKING:
    from .portal import Portal

KNOWN_EVENTS = {
    "ONAPPINSTALL", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONAPPPAYMENT",
    "ONCALENDARENTRYADD", "ONCALENDARENTRYUPDATE", "ONCALENDARENTRYDELETE",
    "ONCALENDARSECTIONADD", "ONCALENDARSECTIONUPDATE", "ONCALENDARSECTIONDELETE",
    "ONUSERADD",
}
# Each placement with the scope the app needs for it, "" for none besides placement (widgets/placements.md,
# its table's last column; placement-bind.md: scope "placement, depending on the placement"). Only those of
# the app's scopes are its to bind: placement-list.md, "placements for the current application's scope and
# global placements"; any other is not found for it.
KNOWN_PLACEMENTS = {
    "CALENDAR_GRIDVIEW": "calendar", "LEFT_MENU": "", "USER_PROFILE_MENU": "user", "USER_PROFILE_TOOLBAR": "user",
    "IM_NAVIGATION": "im", "IM_SIDEBAR": "im", "IM_TEXTAREA": "im", "IM_CONTEXT_MENU": "im",
    "PAGE_BACKGROUND_WORKER": "", "REST_APP_URI": "",
    # A CRM card's top-button menu, the panel above its timeline and its tabs (widgets/placements.md;
    # widgets/crm/detail-toolbar.md, detail-activity.md, detail-tab.md); PLACEMENT_OPTIONS: see crm.py.
    **{f"CRM_{kind}_DETAIL_{where}": "crm" for kind in ("DEAL", "LEAD", "CONTACT", "COMPANY")
       for where in ("TOOLBAR", "ACTIVITY", "TAB")},
}


def _available(caller: Caller) -> list[str]:
    return [code for code, scope in KNOWN_PLACEMENTS.items() if not scope or scope in caller.scopes]


@dataclass(frozen=True)
class EventHandler:
    event: str
    handler: str
    auth_type: int
    offline: int

    def as_rest(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlacementHandler:
    placement: str
    handler: str
    title: str
    description: str
    options: Any

    def as_rest(self) -> dict[str, Any]:
        return asdict(self)


def _require_admin(caller: Caller) -> None:
    if not caller.user.is_admin:
        raise access_denied("Access denied! Administrator rights required")


def _required_text(params: dict[str, Any], name: str) -> str:
    value = str(get_ci(params, name) or "").strip()
    if not value:
        raise RestError(400, "ERROR_ARGUMENT", f'Argument "{name}" is null or empty', argument=name)
    return value


def _handler_url(params: dict[str, Any], name: str) -> str:
    url = _required_text(params, name)
    if urlsplit(url).scheme not in ("http", "https"):
        raise RestError(400, "ERROR_ARGUMENT", f'Argument "{name}" must be an http(s) URL', argument=name)
    return url


def app_info(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    if not caller.is_app:
        raise RestError(400, "ACCESS_DENIED", "Access denied! Application context required")
    settings = portal.settings
    return {
        # CODE names the application the token was issued to (b24restdocs api-reference/common/system/app-info.md).
        "ID": 7 if caller.client_id == settings.client_id else 8, "CODE": caller.client_id, "VERSION": settings.app_version, "STATUS": "L", "INSTALLED": True,
        "PAYMENT_EXPIRED": "N", "DAYS": None, "LANGUAGE_ID": settings.lang, "LICENSE": f"{settings.lang}_project",
        "LICENSE_TYPE": "project", "LICENSE_FAMILY": "project",
    }


def scope(portal: "Portal", caller: Caller, params: dict[str, Any]) -> list[str]:
    return sorted(caller.scopes)


def event_bind(portal: "Portal", caller: Caller, params: dict[str, Any]) -> bool:
    _require_admin(caller)
    event = _required_text(params, "event").upper()
    handler = _handler_url(params, "handler")
    if event not in KNOWN_EVENTS:
        raise RestError(400, "ERROR_EVENT_NOT_FOUND", "Event not found")
    offline = 1 if str(get_ci(params, "event_type") or "online").lower() == "offline" else 0
    binding = EventHandler(event, handler, int(get_ci(params, "auth_type") or 0), offline)
    if binding in portal.event_handlers:
        raise RestError(400, "ERROR_CORE", "Handler already binded")  # INVENTED (module docstring)
    portal.event_handlers.append(binding)
    return True


def event_unbind(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, int]:
    _require_admin(caller)
    return _unbind(portal.event_handlers, "event", _required_text(params, "event").upper(),
                   str(get_ci(params, "handler") or ""))


def event_get(portal: "Portal", caller: Caller, params: dict[str, Any]) -> list[dict[str, Any]]:
    _require_admin(caller)
    return [binding.as_rest() for binding in portal.event_handlers]


def placement_bind(portal: "Portal", caller: Caller, params: dict[str, Any]) -> bool:
    _require_admin(caller)
    placement = _required_text(params, "PLACEMENT").upper()
    handler = _handler_url(params, "HANDLER")
    if placement not in _available(caller):
        raise RestError(400, "ERROR_PLACEMENT_NOT_FOUND", "Placement not found")
    if any((p.placement, p.handler) == (placement, handler) for p in portal.placements):
        raise RestError(400, "ERROR_CORE", "Handler already binded")
    portal.placements.append(PlacementHandler(placement, handler, str(get_ci(params, "TITLE") or ""),
                                              str(get_ci(params, "DESCRIPTION") or ""), get_ci(params, "OPTIONS")))
    return True


def placement_unbind(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, int]:
    _require_admin(caller)
    return _unbind(portal.placements, "placement", _required_text(params, "PLACEMENT").upper(),
                   str(get_ci(params, "HANDLER") or ""))


def _unbind(bindings: list, kind: str, name: str, handler: str) -> dict[str, int]:
    """Removes the bindings of `name` (only the one with `handler`, when given); answers how many went."""
    kept = [b for b in bindings if not (getattr(b, kind) == name and (not handler or b.handler == handler))]
    removed = len(bindings) - len(kept)
    bindings[:] = kept
    return {"count": removed}


def placement_get(portal: "Portal", caller: Caller, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [p.as_rest() for p in portal.placements]


def placement_list(portal: "Portal", caller: Caller, params: dict[str, Any]) -> list[Any]:
    if is_yes(get_ci(params, "FULL") or False):
        return [{"code": code, "scope": KNOWN_PLACEMENTS[code] or "placement"} for code in _available(caller)]
    return _available(caller)


METHODS = {
    "app.info": method(app_info),
    "scope": method(scope),
    "event.bind": method(event_bind, app_only=True),
    "event.unbind": method(event_unbind, app_only=True),
    "event.get": method(event_get, app_only=True),
    "placement.bind": method(placement_bind, "placement", app_only=True),
    "placement.unbind": method(placement_unbind, "placement", app_only=True),
    "placement.get": method(placement_get, "placement", app_only=True),
    "placement.list": method(placement_list, "placement", app_only=True),
}
