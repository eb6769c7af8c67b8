"""Sessions: the portal vouches for the user, the app hands out a short-lived signed token."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from shared.clients.errors import TransientError
from shared.portal import identity
from shared.schemas import ErrorOut, SessionIn, SessionOut, UserOut
from web.api import parse_body
from web.auth import TOKEN_TTL_SECONDS, issue_token, login_required
from web.errors import ApiError
from web.openapi import documented

bp = Blueprint("session", __name__, url_prefix="/api")


@bp.post("/session")
@documented(
    "Exchange a Bitrix24 AUTH_ID for an app token",
    body=SessionIn,
    responses={200: SessionOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut, 503: ErrorOut},
)
def create_session():
    data = parse_body(SessionIn)
    try:
        user = current_app.extensions["identity"].verify(
            identity.Launch(auth_id=data.auth_id, domain=data.domain, member_id=data.member_id)
        )
    except identity.NotVouched as exc:
        raise ApiError(401, str(exc), reason="launch_not_vouched") from None
    except TransientError:
        raise ApiError(
            503, "Bitrix24 did not answer; try again in a moment", reason="bitrix_unavailable"
        ) from None
    current_app.extensions["portals"].keep_user_tokens(user, data.refresh_id, replace=False)
    return jsonify(
        {
            "token": issue_token(user.portal, user.as_dict()),
            "expires_in": TOKEN_TTL_SECONDS,
            "user": user.as_dict(),
        }
    )


@bp.get("/current-user")
@login_required
@documented("The user the app token belongs to", responses={200: UserOut})
def current_user():
    return jsonify(g.user)
