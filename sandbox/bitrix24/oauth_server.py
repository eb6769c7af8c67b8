"""The two regional OAuth servers: oauth.bitrix.info under /oauth-server, oauth.bitrix24.tech under
/oauth-server-ru of the emulator's host (settings.OAUTH_SERVERS). A token works only at the one that issued
it, the portal's (settings.oauth_region); the other one does not know it.

GET|POST <server>/oauth/token/: grant_type=refresh_token or authorization_code (reference §2).
GET|POST <server>/rest/app.info/ (or without the slash): the app as the OAuth server knows it, in the shape
b24pysdk parses (reference §1.2 option B), called as b24pysdk does (GET .../rest/app.info/?auth=) and
b24phpsdk (POST .../rest/app.info). Neither touches the portal's leaky bucket.

One server may serve many portals, as Bitrix24's does (b24restdocs settings/oauth/index.md: the
authorization server oauth.bitrix.info "only it issues and renews tokens", and a mass-market app's keys "are
valid for any Bitrix24"): each request is answered by the portal that issued its token or code, and by the
first portal for one none issued (which refuses it as unknown). sandbox/bitrix24/portals.py serves many.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response

from .envelope import error_response, json_response, request_params, time_block
from .errors import OAuthError, RestError, invalid_token, method_not_found, no_auth_found
from .portal import Portal
from .settings import OAUTH_SERVERS
from .tokens import TokenPair


REGION_OF_PREFIX = {prefix.strip("/"): region for region, (prefix, _) in OAUTH_SERVERS.items()}
SERVER = "/<any(" + ", ".join(f'"{prefix}"' for prefix in REGION_OF_PREFIX) + "):server>"


def oauth_blueprint(*portals: Portal) -> Blueprint:
    bp = Blueprint("bitrix24_oauth", __name__)

    def issuer(kind: str, value: Any) -> Portal:
        """The portal whose token or code `value` is; the first one when none issued it."""
        if len(portals) > 1 and isinstance(value, str):
            for portal in portals:
                with portal.lock:
                    if portal.tokens.issued(kind, value):
                        return portal
        return portals[0]

    def asked(label: str) -> tuple[Portal, dict[str, Any]]:
        """The request's parameters and the portal that answers it, the request counted at that portal."""
        try:
            params = request_params()
        except RestError:
            portals[0].request_log.count(label)
            raise
        if label == "oauth/app.info":
            portal = issuer("access", params.get("auth"))
        elif params.get("grant_type") == "authorization_code":
            portal = issuer("code", params.get("code"))
        else:
            portal = issuer("refresh", params.get("refresh_token"))
        portal.request_log.count(label)
        return portal, params

    @bp.route(SERVER + "/oauth/token/", methods=["GET", "POST"], strict_slashes=False)
    def token(server: str) -> Response:
        region = REGION_OF_PREFIX[server]
        try:
            portal, params = asked("oauth/token")
            return json_response(exchange(portal, params, region))
        except RestError as error:
            return error_response(error)

    @bp.route(SERVER + "/rest/app.info", methods=["GET", "POST"])
    @bp.route(SERVER + "/rest/app.info/", methods=["GET", "POST"])
    def app_info(server: str) -> Response:
        region = REGION_OF_PREFIX[server]
        try:
            portal, params = asked("oauth/app.info")
            started_at, clock_start = portal.now(), time.perf_counter()
            result = oauth_app_info(portal, params, region)
        except RestError as error:
            return error_response(error)
        return json_response({"result": result, "time": time_block(started_at, time.perf_counter() - clock_start)})

    @bp.route(SERVER + "/rest/app.info.json", methods=["GET", "POST"])
    def app_info_json(server: str) -> Response:
        # UNVERIFIED: neither SDK calls the OAuth server's app.info with .json and no doc shows it, so the
        # emulator does not serve it; an app that sends it would not be proven against the real server.
        return error_response(method_not_found())

    return bp


def exchange(portal: Portal, params: dict[str, Any], region: str) -> dict[str, Any]:
    settings = portal.settings
    grant_type = params.get("grant_type")
    if grant_type not in ("refresh_token", "authorization_code"):
        raise OAuthError(400, "invalid_request", "grant_type must be refresh_token or authorization_code")
    if (params.get("client_id"), params.get("client_secret")) != (settings.client_id, settings.client_secret):
        raise OAuthError(401, "invalid_client", "Invalid client_id or client_secret")
    with portal.lock:
        ttl = portal.config["token_ttl"]
        if grant_type == "refresh_token":
            pair = portal.tokens.rotate(str(params.get("refresh_token") or ""), ttl, settings.refresh_ttl,
                                        settings.client_id, region)
        else:
            if region != settings.oauth_region:  # the code was issued for the portal's own server
                raise OAuthError(400, "invalid_grant", "The authorization code is invalid or has expired")
            code = portal.tokens.redeem_code(str(params.get("code") or ""))
            pair = portal.tokens.issue(code.user_id, code.scope, ttl, settings.refresh_ttl, settings.client_id,
                                       region)
        return token_response(portal, pair)


def token_response(portal: Portal, pair: TokenPair) -> dict[str, Any]:
    """Field for field the refresh answer of reference §2 (the authorization_code one is a subset)."""
    settings = portal.settings
    return {
        "access_token": pair.access.value,
        "client_endpoint": settings.client_endpoint,
        "domain": settings.oauth_domain,
        "expires": int(pair.access.expires_at),
        "expires_in": round(pair.access.expires_at - portal.now()),
        "member_id": settings.member_id,
        "refresh_token": pair.refresh.value,
        "scope": pair.access.scope,
        "server_endpoint": settings.server_endpoint,
        "status": "L",
        "user_id": pair.access.user_id,
    }


def oauth_app_info(portal: Portal, params: dict[str, Any], region: str) -> dict[str, Any]:
    token_value = params.get("auth")
    if not isinstance(token_value, str) or not token_value:
        raise no_auth_found()
    settings = portal.settings
    with portal.lock:
        token = portal.tokens.check_access(token_value)
    if token.server != region:  # another region's token is unknown here (the real answer is unverified)
        raise invalid_token()
    return {
        "client_id": token.client_id,  # whose token it is: an app checks that it is its own
        "scope": token.scope,
        "expires": datetime.fromtimestamp(token.expires_at, timezone.utc).isoformat(timespec="seconds"),
        "user_id": token.user_id,
        "install": {
            "installed": True,
            "version": settings.app_version,
            "status": "L",
            "scope": settings.token_scope,
            "domain": settings.domain,
            "uri": settings.public_url,
            "client_endpoint": settings.client_endpoint,
            "member_id": settings.member_id,
            "member_type": "PORTAL",
        },
    }
