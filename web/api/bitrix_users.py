"""The portal's people, for choosing invitees: searched in Bitrix24 and cached briefly in Redis.

Bitrix24 answers user.get and user.search with the caller's own rights: seeing "any users" takes
ADMIN_MODE, and extranet users have "limited access" (b24restdocs api-reference/user/user-search.md and
user/index.md). So a cached answer is the caller's own: its key holds the portal and the user, never
only the text. Searches, and the cache misses that reach Bitrix24, are limited per user and (misses)
per portal (shared/limiter/allowances.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Annotated

from flask import Blueprint, current_app, g, jsonify
from pydantic import BaseModel, Field

from shared.clients.errors import OutsideServiceError, TransientError
from shared.limiter.allowances import SEARCH_MISSES, SEARCHES
from shared.portal.access import REAUTH
from shared.problems import Problem
from shared.schemas import ErrorOut, StrictModel
from web.api import parse_query
from web.api.portal_answers import as_not_found, refusal
from web.auth import login_required
from web.errors import ApiError
from web.limits import charge, quick_redis
from web.openapi import documented

bp = Blueprint("bitrix_users", __name__, url_prefix="/api/bitrix")
log = logging.getLogger(__name__)
PAGE_SIZE = 50  # Bitrix24's own page size for user.get and user.search
CACHE_SECONDS = 60


class UsersQuery(StrictModel):
    q: Annotated[str, Field(max_length=100)] | None = None
    page: Annotated[int, Field(ge=1, le=1000)] = 1


class PortalUser(BaseModel):
    id: int
    name: str
    email: str | None
    position: str | None


class PortalUsers(BaseModel):
    items: list[PortalUser]
    total: int


def _person(row: dict) -> dict:
    name = " ".join(filter(None, [row.get("NAME"), row.get("LAST_NAME")])).strip() or f"User {row.get('ID')}"
    return {
        "id": int(row["ID"]),
        "name": name,
        "email": row.get("EMAIL") or None,
        "position": row.get("WORK_POSITION") or None,
    }


@bp.get("/users")
@login_required
@documented(
    "Search the portal's people (50 a page)",
    query=UsersQuery,
    responses={200: PortalUsers, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut, 503: ErrorOut},
)
def users():
    query = parse_query(UsersQuery)
    text = (query.q or "").strip()
    charge({SEARCHES: 1})
    cache = quick_redis()
    key = (
        "cache:users:"
        + hashlib.sha256(
            json.dumps([g.caller.portal, g.caller.user_id, text, query.page]).encode()
        ).hexdigest()
    )
    try:
        cached = cache.get(key)
    except Exception:  # a cache that is down is only slower
        cached = None
    if cached:
        return current_app.response_class(cached, mimetype="application/json")
    charge({SEARCH_MISSES: 1})  # each is a call on the portal's Bitrix24 budget
    params = {"FILTER": {"FIND": text} if text else {"ACTIVE": True}, "start": (query.page - 1) * PAGE_SIZE}
    try:
        api = current_app.extensions["bitrix"].client(g.caller.portal, g.caller.user_id)
        envelope = api.call("user.search" if text else "user.get", params)
    except TransientError:
        raise ApiError(
            503, "Bitrix24 did not answer; try again in a moment", reason="bitrix_unavailable"
        ) from None
    except OutsideServiceError as error:
        if error.code == REAUTH:  # never searched with anyone else's rights: the page renews the user's pair
            raise ApiError(401, error.message, code=REAUTH) from None
        raise ApiError(
            503, f"Bitrix24 refused the search: {error.message}", reason="bitrix_refused"
        ) from None
    # user.search may find dismissed users (api-reference/user/user-search.md does not say it skips them): each
    # row's ACTIVE says, and nobody dismissed is offered (ACTIVE is true or "Y" on a live user).
    rows = [
        r
        for r in envelope.get("result") or []
        if isinstance(r, dict) and str(r.get("ID", "")).isdigit() and r.get("ACTIVE") in (True, "Y", None)
    ]
    body = json.dumps({"items": [_person(r) for r in rows], "total": int(envelope.get("total") or len(rows))})
    try:
        cache.setex(key, CACHE_SECONDS, body)
    except Exception:
        log.info("users cache unavailable")
    return current_app.response_class(body, mimetype="application/json")


def person_of(user_id: int) -> dict | None:
    """One person as the portal shows them to the caller (user.get by ID, api-reference/user/user-get.md), or
    None when there is no such active user. An employee card's placement names the user in PLACEMENT_OPTIONS,
    which anyone can forge: the form proposes only someone the portal answers for."""
    api = current_app.extensions["bitrix"].client(g.caller.portal, g.caller.user_id)
    try:
        rows = api.result("user.get", {"FILTER": {"ID": user_id}})
    except OutsideServiceError as error:
        raise refusal(error, "user_id", Problem("is not a user of the portal", "no_such_user")) from None
    row = next((r for r in rows or [] if isinstance(r, dict) and str(r.get("ID")) == str(user_id)), None)
    return _person(row) if row and row.get("ACTIVE") in (True, "Y", None) else None


@bp.get("/users/<int:user_id>")
@login_required
@documented(
    "One of the portal's people (for a meeting started from their employee card)",
    responses={200: PortalUser, 401: ErrorOut, 404: ErrorOut, 503: ErrorOut},
)
def user(user_id: int):
    try:
        person = person_of(user_id) if 0 < user_id < 2**31 else None
    except ApiError as error:
        raise as_not_found(error, "No such user", "no_such_user") from None
    if person is None:
        raise ApiError(404, "No such user", reason="no_such_user")
    return jsonify(person)
