"""The app token: short-lived, signed, bound to (portal, user); sent as `Authorization: Bearer`.

Third-party cookies are not needed inside the Bitrix24 iframe (DESIGN §5).
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared.portal.caller import Caller
from shared.portal.identity import PortalAccess
from web.errors import ApiError

TOKEN_TTL_SECONDS = 1800
SALT = "telemost-app-token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(portal: PortalAccess, user: dict) -> str:
    """`g` ties the token to the install it was issued under: after an uninstall it is refused, reinstall or not."""
    return _serializer().dumps(
        {
            "p": portal.key,
            "g": portal.install_generation,
            "u": user["id"],
            "n": user["name"],
            "e": user.get("email"),
            "a": bool(user.get("is_admin")),
        }
    )


def verify_token(token: str) -> dict:
    try:
        return _serializer().loads(token, max_age=TOKEN_TTL_SECONDS)
    except SignatureExpired:
        raise ApiError(
            401, "The app token has expired; renew it with POST /api/session", reason="token_expired"
        ) from None
    except BadSignature:
        raise ApiError(401, "The app token is not valid", reason="token_invalid") from None


def authenticated(token: str) -> tuple[Caller, dict]:
    """The caller a token names, while the install it was issued under lasts; else ApiError 401."""
    claims = verify_token(token)
    generation = current_app.extensions["portals"].install_generation(claims["p"])
    if generation is None or generation != claims.get("g", 0):
        raise ApiError(
            401,
            "The app was uninstalled from this portal (or installed again since): open it from the portal",
            reason="reinstalled",
        )
    caller = Caller(
        portal=claims["p"],
        user_id=int(claims["u"]),
        name=claims["n"],
        is_admin=bool(claims.get("a")),
        email=claims.get("e"),
    )
    user = {
        "id": int(claims["u"]),
        "name": claims["n"],
        "email": claims.get("e"),
        "is_admin": claims.get("a", False),
    }
    return caller, user


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Send the app token as 'Authorization: Bearer <token>'")
        g.caller, g.user = authenticated(token.strip())
        return view(*args, **kwargs)

    wrapper.__openapi_secured__ = True  # type: ignore[attr-defined]  # a marker web.openapi reads
    return wrapper
