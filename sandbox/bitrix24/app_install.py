"""Installing and uninstalling the app, and the events that tell it so (reference §1.3, §4 Events)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .event_delivery import deliver
from .oauth_server import token_response

if TYPE_CHECKING:
    from .portal import Portal
    from .users import User


def portal_auth(portal: "Portal") -> dict[str, Any]:
    """What every event's auth[] carries, ONAPPUNINSTALL's being nothing more (no tokens)."""
    settings = portal.settings
    return {"domain": settings.domain, "server_endpoint": settings.server_endpoint,
            "client_endpoint": settings.client_endpoint, "member_id": settings.member_id,
            "application_token": settings.application_token}


def user_auth(portal: "Portal", user: "User") -> dict[str, Any]:
    """A fresh token pair for `user` in the fields of the OAuth answer, but with the portal's domain
    (the OAuth answer names the OAuth server there)."""
    pair = portal.issue_tokens(user.id)
    return {**token_response(portal, pair), **portal_auth(portal)}


def install(portal: "Portal", admin: "User", install_event_url: str | None = None) -> dict[str, Any]:
    """ONAPPINSTALL reaches only a handler: one the installer bound with event.bind, or the installation
    event URL of the app's card (`install_event_url`). "The handler for this event can be set in the
    installation script" (b24restdocs api-reference/common/events/on-app-install.md); a Market app's card has
    an "Installation event handler URL" (settings/app-installation/installation-finish.md). With neither,
    nothing is sent: the install page does the work."""
    with portal.lock:
        portal.installed = True
        urls = [b.handler for b in portal.event_handlers if b.event == "ONAPPINSTALL" and not b.offline]
        urls += [install_event_url] if install_event_url and install_event_url not in urls else []
        auth = user_auth(portal, admin) if urls else {}
    settings = portal.settings
    payload = {"event": "ONAPPINSTALL",
               "data": {"VERSION": settings.app_version, "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": settings.lang},
               "ts": int(portal.now()), "auth": auth}
    return {"installed": True, "delivered": [{"url": url, **deliver(portal, url, payload)} for url in urls]}


def uninstall(portal: "Portal", clean: int) -> dict[str, Any]:
    """The API is revoked before the event leaves, as on a real portal; its bindings go with the app."""
    with portal.lock:
        portal.installed = False
        portal.tokens.revoke_all()
        portal.event_handlers.clear()
        portal.placements.clear()
    settings = portal.settings
    payload = {"event": "ONAPPUNINSTALL", "data": {"LANGUAGE_ID": settings.lang, "CLEAN": clean},
               "ts": int(portal.now()), "auth": portal_auth(portal)}
    return {"installed": False, "delivered": deliver(portal, settings.app_events_url, payload)}


def send_event(portal: "Portal", event: str, data: dict[str, Any], user: "User") -> list[dict[str, Any]]:
    """Any other event goes to the online handlers the app bound with event.bind, as `user` caused it."""
    with portal.lock:
        urls = [b.handler for b in portal.event_handlers if b.event == event and not b.offline]
        auth = user_auth(portal, user) if urls else {}
    payload = {"event": event, "data": data, "ts": int(portal.now()), "auth": auth}
    return [{"url": url, **deliver(portal, url, payload)} for url in urls]
