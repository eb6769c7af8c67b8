"""Who opened the app: the portal must vouch for the AUTH_ID (DESIGN §5, reference/bitrix24-rest.md §1.2).

Nothing posted is trusted as is: the domain must be the configured portal's, the OAuth server's
app.info must name our application and that member_id, and user.current on the portal's own endpoint
(from our settings, never from the request) says who the user is.
"""
from __future__ import annotations

from dataclasses import dataclass

import requests

from ..clients.bitrix24 import Bitrix24Client, TokenExpired
from ..clients.errors import OutsideServiceError, TransientError
from ..config import Settings


MAX_NAME = 255  # what the database keeps of a user's name; the portal allows longer ones


class NotVouched(Exception):
    """The portal does not vouch for this launch; the message is safe to show."""


@dataclass(frozen=True)
class VerifiedUser:
    portal: str
    id: int
    name: str
    email: str | None
    is_admin: bool

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "email": self.email, "is_admin": self.is_admin}


def verify(settings: Settings, http: requests.Session, auth_id: str, domain: str, member_id: str) -> VerifiedUser:
    """Raises NotVouched, or TransientError when the portal cannot be asked right now."""
    if settings.portal_base_url is None:
        raise NotVouched("No Bitrix24 portal is configured")
    if domain.strip().lower() != settings.portal_domain:
        raise NotVouched("This app is not installed on that portal")
    portal = settings.portal_domain
    if settings.bitrix24_client_id:
        portal = _check_app_info(settings, http, auth_id, domain, member_id)
    portal_api = Bitrix24Client(settings.portal_base_url + "/rest/", auth=auth_id,
                                timeout=settings.http_timeout_seconds, session=http)
    try:
        outcome = portal_api.batch({"user": ("user.current", {}), "admin": ("user.admin", {})})
    except TokenExpired:
        raise NotVouched("The authorisation has expired: renew it (BX24.refreshAuth) and sign in again") from None
    except TransientError:
        raise
    except OutsideServiceError as error:
        raise NotVouched(f"The portal did not accept the authorisation ({error.code or error.status})") from None
    user = outcome.results.get("user")
    if not isinstance(user, dict) or not str(user.get("ID", "")).isdigit():
        raise NotVouched("The portal did not say who the user is")
    name = " ".join(filter(None, [user.get("NAME"), user.get("LAST_NAME")])).strip() or f"User {user['ID']}"
    email = user.get("EMAIL") if isinstance(user.get("EMAIL"), str) else None
    return VerifiedUser(portal=portal, id=int(user["ID"]), name=name[:MAX_NAME], email=(email or None) and email[:MAX_NAME],
                        is_admin=outcome.results.get("admin") is True)


def _check_app_info(settings: Settings, http: requests.Session, auth_id: str, domain: str, member_id: str) -> str:
    oauth_server = Bitrix24Client(settings.bitrix24_oauth_url + "/rest/", auth=auth_id,
                                  timeout=settings.http_timeout_seconds, session=http)
    try:
        info = oauth_server.result("app.info")
    except TokenExpired:
        raise NotVouched("The authorisation has expired: renew it (BX24.refreshAuth) and sign in again") from None
    except TransientError:
        raise
    except OutsideServiceError as error:
        raise NotVouched(f"The Bitrix24 OAuth server did not accept the authorisation ({error.code or error.status})") from None
    if not isinstance(info, dict):
        raise NotVouched("The Bitrix24 OAuth server gave no answer about the application")
    install = info.get("install") if isinstance(info.get("install"), dict) else {}
    if info.get("client_id") != settings.bitrix24_client_id:
        raise NotVouched("The authorisation belongs to another application")
    if str(install.get("member_id", "")) != member_id or str(install.get("domain", "")).lower() != domain.lower():
        raise NotVouched("The authorisation belongs to another portal")
    return member_id
