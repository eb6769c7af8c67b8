"""Whose Yandex token made a room: the only one that may change it.

Telemost changes a room on behalf of its organiser (the Yandex 360 admin scripts for Telemost fetch the
organiser's own token: "Изменение параметров встречи выполняется от лица её организатора"). The app
records with each room which token made it (`Conference.room_organiser`) and changes the room with that
token only, whatever account the owner has connected since:
- `account:<address>`: the owner's connected Yandex account with that address;
- `organisation:<digest>`: YANDEX_OAUTH_TOKEN, named by a digest (a new value may be another account's);
- `portal-organisation:<address>`: the portal's Yandex 360 organisation its administrator connected;
- `employee:<address>`: the owner's own account, by the portal's service application (token exchange).

What another account than the organiser gets for a room is UNVERIFIED (404 ConferenceNotFound, or a 403
of ConferenceResponsesOf403 in api-specification.yaml). So a 404 means "the room is gone" only when the
organiser's own token asked; any other 403 or 404 is a refusal, reported as one.
"""

from __future__ import annotations

import hashlib

from shared.clients.errors import PermanentError
from shared.models import Conference

# The user id under which a portal's Yandex 360 organisation is kept (Bitrix24 user ids start at 1): connected
# by an administrator, refreshed and refused exactly as a user's own account is (accounts.py).
ORGANISATION_USER = 0
ACCOUNT = "account:"
ORGANISATION = "organisation:"
PORTAL_ORGANISATION = "portal-organisation:"
EMPLOYEE = "employee:"
KINDS = (ACCOUNT, ORGANISATION, PORTAL_ORGANISATION, EMPLOYEE)
RECONNECT_CODE = "yandex_reconnect"  # the step's error_code: the user must connect a Yandex account again
# The administrator must connect the portal's organisation again, or set its service application.
ORGANISATION_RECONNECT_CODE = "yandex_organisation_reconnect"


def of_account(email: str | None) -> str:
    return ACCOUNT + (email or "").casefold()


def of_organisation_token(token: str) -> str:
    return ORGANISATION + hashlib.sha256(token.encode()).hexdigest()[:16]


def of_portal_organisation(email: str | None) -> str:
    return PORTAL_ORGANISATION + (email or "").casefold()


def of_employee(email: str) -> str:
    return EMPLOYEE + email.casefold()


def parse(organiser: str) -> tuple[str, str]:
    """(kind, the rest): the kind one of KINDS, the rest an address (or a digest for ORGANISATION)."""
    kind = next((kind for kind in KINDS if organiser.startswith(kind)), "")
    return kind, organiser[len(kind) :]


def account_email(organiser: str | None) -> str | None:
    """The address of the connected account that made the room, or None when it was not one."""
    return organiser[len(ACCOUNT) :] if organiser and organiser.startswith(ACCOUNT) else None


def asked_as_organiser(conference: Conference, organiser: str | None) -> bool:
    """Whether a call made as `organiser` (the client's) was made with the room's organiser's token."""
    return conference.room_organiser is not None and organiser == conference.room_organiser


def room_is_gone(conference: Conference, organiser: str | None, error: PermanentError) -> bool:
    """A cancel may take "not found" for closed only when the organiser asked: anyone else may get 404
    for a room that is open."""
    return (
        conference.cancel_requested
        and error.code == "ConferenceNotFound"
        and asked_as_organiser(conference, organiser)
    )


def explain_refusal(conference: Conference, organiser: str | None, error: PermanentError) -> PermanentError:
    """A 403 or 404 for a token that may not be the organiser's, as something a person can act on."""
    if error.status not in (403, 404) or error.subjects or asked_as_organiser(conference, organiser):
        return error
    return PermanentError(
        "Telemost",
        f"Telemost refused to change room {conference.telemost_id} "
        f"({error.code or error.status}). Only the Yandex account that made a room can "
        "change it, and the app does not know which account made this one. If the room is "
        "still open, change or close it in Telemost as its organiser.",
        code=error.code,
        status=error.status,
    )


def missing_account(email: str) -> PermanentError:
    email = email or "you had connected then"  # Yandex gave no address when it was connected
    return PermanentError(
        "Telemost",
        f"This room was made with the Yandex account {email}, and only that account can "
        f"change it. Connect {email} to the app again (choose Replace if another account "
        "is connected), then retry.",
        code=RECONNECT_CODE,
    )


def missing_organisation_token() -> PermanentError:
    return PermanentError(
        "Telemost",
        "This room was made with the organisation's Yandex token (YANDEX_OAUTH_TOKEN), "
        "and only that account can change it, but no such token is set now. Set it "
        "again, then retry.",
    )


def missing_portal_organisation(email: str) -> PermanentError:
    return PermanentError(
        "Telemost",
        f"This room was made with the portal's Yandex 360 organisation ({email or 'connected then'}), and only "
        "that account can change it. The portal's administrator must connect it again in the app's settings, "
        "then retry.",
        code=ORGANISATION_RECONNECT_CODE,
    )


def missing_service_app(email: str) -> PermanentError:
    return PermanentError(
        "Telemost",
        f"This room was made as {email} by the organisation's Yandex 360 service application, and only "
        f"{email} can change it, but Yandex gives no token for {email} now. The portal's administrator should "
        f"check the service application in the app's settings (or {email} can connect their Yandex account), "
        "then retry.",
        code=ORGANISATION_RECONNECT_CODE,
    )


def same_account(connected: str | None, offered: str | None) -> bool:
    # No Yandex uid is stored, so the address names the account; unknown on either side is not the same.
    return bool(connected and offered and connected.casefold() == offered.casefold())
