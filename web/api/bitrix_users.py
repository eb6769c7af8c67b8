"""The portal's people, for choosing invitees: searched in Bitrix24 and cached briefly in Redis."""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Annotated

from flask import Blueprint, current_app, g
from pydantic import BaseModel, Field

from shared.clients.errors import OutsideServiceError, TransientError
from shared.schemas import ErrorOut, StrictModel

from ..auth import login_required
from ..errors import ApiError
from ..openapi import documented
from . import parse_query

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
    return {"id": int(row["ID"]), "name": name, "email": row.get("EMAIL") or None,
            "position": row.get("WORK_POSITION") or None}


@bp.get("/users")
@login_required
@documented("Search the portal's people (50 a page)", query=UsersQuery,
            responses={200: PortalUsers, 422: ErrorOut, 503: ErrorOut})
def users():
    query = parse_query(UsersQuery)
    text = (query.q or "").strip()
    cache = current_app.extensions["queue"].redis
    key = "cache:users:" + hashlib.sha256(json.dumps([g.caller.portal, text, query.page]).encode()).hexdigest()
    try:
        cached = cache.get(key)
    except Exception:  # a cache that is down is only slower
        cached = None
    if cached:
        return current_app.response_class(cached, mimetype="application/json")
    params = {"FILTER": {"FIND": text} if text else {"ACTIVE": True}, "start": (query.page - 1) * PAGE_SIZE}
    try:
        api = current_app.extensions["bitrix"].client(g.caller.portal, g.caller.user_id)
        envelope = api.call("user.search" if text else "user.get", params)
    except TransientError:
        raise ApiError(503, "Bitrix24 did not answer; try again in a moment") from None
    except OutsideServiceError as error:
        raise ApiError(503, f"Bitrix24 refused the search: {error.message}") from None
    rows = [r for r in envelope.get("result") or [] if isinstance(r, dict) and str(r.get("ID", "")).isdigit()]
    body = json.dumps({"items": [_person(r) for r in rows], "total": int(envelope.get("total") or len(rows))})
    try:
        cache.setex(key, CACHE_SECONDS, body)
    except Exception:
        log.info("users cache unavailable")
    return current_app.response_class(body, mimetype="application/json")
