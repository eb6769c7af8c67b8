"""What a refusal of the portal, asked with the caller's own rights, means to the caller of our API.

Used wherever the API checks with the portal that a thing named in a request (a chat, a CRM record, a
person) is one the caller may use: a refused token is the page's to renew (401), a portal that did not
answer is 503, and anything else is "you may not use that", naming the field (422).
"""

from __future__ import annotations

from shared.clients.errors import OutsideServiceError
from shared.portal.access import REAUTH
from shared.problems import Problem
from web.errors import ApiError


def refusal(error: OutsideServiceError, field: str, problem: Problem) -> ApiError:
    if error.code == REAUTH:  # never asked with anyone else's rights: the page renews the user's pair
        return ApiError(401, error.message, code=REAUTH)
    if error.transient:
        return ApiError(503, "Bitrix24 did not answer; try again in a moment", reason="bitrix_unavailable")
    return ApiError(422, "Some fields are not valid", {field: problem})


def as_not_found(error: ApiError, message: str, reason: str) -> ApiError:
    """A lookup route answers 404 where a write would answer 422 for the field."""
    return ApiError(404, message, reason=reason) if error.status == 422 else error
