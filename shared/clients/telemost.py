"""Client of the Yandex Telemost REST API (reference/telemost-api.md).

Tolerant where the reference is unsure: create may answer 200 or 201, `live_stream` may be absent,
error bodies may lack keys or not be JSON. Every call has a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from shared.clients.errors import (
    ErrorDetails,
    PermanentError,
    TransientError,
    json_or_none,
    network_failure,
    retry_after_seconds,
)

SERVICE = "Telemost"

# What a person can do about each permanent error the API documents. Only these codes, and
# NoSuchUserPrincipalsFound, are documented (api-specification.yaml); every other answer is "4XX
# UndocumentedError" there, so the app decides on the status alone for those.
PERMANENT_MESSAGES = {
    # A personal Yandex ID makes ordinary public meetings; broadcasts and organisation-only access depend
    # on the user's rights (yandex.com/dev/telemost/doc/ru/conferences/conference-create.md).
    "ApiRestrictedToOrganizations": "Telemost refused: this Yandex account is not in a Yandex 360 for Business "
    "organisation. A personal Yandex account makes ordinary public meetings only: "
    "broadcasts and rooms with a waiting room (organisation or admins only) need a "
    "Yandex 360 for Business account. Make it a public meeting, or connect an "
    "organisation account.",
    "PaymentRequiredToUseLiveStreams": "Telemost refused the broadcast: the organisation's plan does not include "
    "live streams. Create a meeting instead or upgrade the plan.",
    "ConferenceNotFound": "Telemost no longer knows this room.",
}


@dataclass(frozen=True)
class Room:
    id: str
    join_url: str
    watch_url: str | None


class TelemostClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        organiser: str | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        # Whose token this is, as yandex/room_organiser.py writes it: only a room's organiser changes it.
        self.organiser = organiser
        # Said beside the room it makes, when it is not the token the portal's settings asked for (room_tokens.py).
        self.note: str | None = None
        self.timeout = (min(3.05, timeout), timeout)
        self.http = session or requests.Session()

    def create_room(
        self,
        *,
        waiting_room_level: str,
        cohosts: list[str],
        live_stream: dict | None,
        auto_summary: bool | None = None,
    ) -> Room:
        body: dict[str, Any] = {"waiting_room_level": waiting_room_level}
        if auto_summary is not None:  # meeting notes, said either way: the organisation's default may differ
            body["is_auto_summarization_enabled"] = auto_summary
        if cohosts:
            body["cohosts"] = [{"email": email} for email in cohosts]
        if live_stream is not None:
            body["live_stream"] = {k: v for k, v in live_stream.items() if v is not None}
        data = self._request("POST", "/conferences", json=body) or {}
        room_id, join_url = data.get("id"), data.get("join_url")
        if not room_id or not join_url:
            raise TransientError(
                SERVICE, "Telemost answered without a room id or link; the app will try again"
            )
        return Room(
            id=str(room_id), join_url=join_url, watch_url=(data.get("live_stream") or {}).get("watch_url")
        )

    def update_room(self, room_id: str, changes: dict) -> None:
        """PATCH sends only what changes (reference §2.3); the answer's shape is not relied on."""
        self._request("PATCH", f"/conferences/{room_id}", json=changes)

    def add_cohosts(self, room_id: str, emails: list[str]) -> None:
        for chunk in _chunks(emails):
            self._request(
                "PATCH", f"/conferences/{room_id}/cohosts", json={"cohosts": [{"email": e} for e in chunk]}
            )

    def remove_cohosts(self, room_id: str, emails: list[str]) -> None:
        for chunk in _chunks(emails):
            self._request(
                "DELETE", f"/conferences/{room_id}/cohosts", params={"cohost_emails": ",".join(chunk)}
            )

    def clear_cohosts(self, room_id: str) -> None:
        self._request("PUT", f"/conferences/{room_id}/cohosts", json={"cohosts": []})

    def _request(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = self.http.request(
                method,
                self.base_url + path,
                timeout=self.timeout,
                headers={"Authorization": f"OAuth {self.token}"},
                **kwargs,
            )
        except requests.RequestException as exc:
            raise network_failure(SERVICE, exc, self.timeout[1]) from exc
        if response.status_code < 300:
            return json_or_none(response) if response.content else None
        raise _error_from(response)


def _chunks(emails: list[str], size: int = 30) -> list[list[str]]:
    """The cohost endpoints take at most 30 addresses a call (reference §2.5-2.7)."""
    return [emails[i : i + size] for i in range(0, len(emails), size)]


def _error_from(response: requests.Response) -> TransientError | PermanentError:
    status = response.status_code
    body = json_or_none(response)
    body = body if isinstance(body, dict) else {}
    code = body.get("error") if isinstance(body.get("error"), str) else None
    text = body.get("message") or body.get("description") or response.reason or "no details"
    details: ErrorDetails = {"code": code, "status": status}
    if status == 429 or status >= 500:
        return TransientError(
            SERVICE,
            f"Telemost is busy or unavailable ({status}); the app will try again",
            retry_after=retry_after_seconds(response),
            **details,
        )
    if code == "NoSuchUserPrincipalsFound":
        emails = [
            e.strip().lower()
            for e in str((body.get("details") or {}).get("emails", "")).split(";")
            if e.strip()
        ]
        return PermanentError(
            SERVICE,
            f"These cohosts have no Yandex account: {', '.join(emails) or 'unknown'}. "
            "Remove them or ask them to sign up, then retry.",
            subjects=emails,
            **details,
        )
    if status == 401:
        return PermanentError(
            SERVICE,
            "Telemost did not accept the Yandex token: it is invalid, expired or revoked. "
            "Set a fresh YANDEX_OAUTH_TOKEN or reconnect the Yandex account.",
            **details,
        )
    if code in PERMANENT_MESSAGES:
        return PermanentError(SERVICE, PERMANENT_MESSAGES[code], **details)
    if status == 403:
        return PermanentError(
            SERVICE,
            f"Telemost refused the request ({code or status}): {text}. "
            "Check the token's rights (telemost-api:conferences.*).",
            **details,
        )
    return PermanentError(SERVICE, f"Telemost rejected the request ({code or status}): {text}", **details)
