"""The sandbox's oauth.yandex.ru under /oauth and login.yandex.ru under /login (rules in oauth.py).

GET /oauth/authorize: the consent page, or with sandbox_auto=1 and login_hint the redirect at once;
POST /oauth/authorize: the page's buttons; POST /oauth/token: the authorization_code and
refresh_token grants of the web application and the token-exchange grant of the organisations'
service apps; GET /login/info: the account behind a token.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, Flask, Response, jsonify, redirect, request
from werkzeug.datastructures import MultiDict

from sandbox.control import Faults, RequestLog

from . import oauth_pages
from .errors import generic_error
from .oauth import (
    ISSUED_ACCESS_TOKEN,
    TOKEN_EXCHANGE_GRANT,
    AuthorizeRequest,
    IssuedTokens,
    OAuthError,
    YandexOAuthServer,
    invalid_client,
    invalid_request,
    invalid_token,
    unauthorized_client,
)
from .oauth_accounts import SANDBOX_ACCOUNTS, YandexAccount, find_account
from .oauth_requests import (
    AuthorizePageError,
    AuthorizeRedirectError,
    read_authorize_request,
    redirect_location,
)
from .routes import fault_answer, oauth_credentials, route_label

OAUTH_PREFIX = "/oauth"
LOGIN_PREFIX = "/login"
# Pages a person looks at: counted, but never faulted, since no client code retries them.
_PAGE_ENDPOINTS = frozenset({"yandex_oauth.authorize_page", "yandex_oauth.authorize_choice"})
# The codes an injected fault of these statuses carries; other 5xx are server_error, other 4xx invalid_request.
_WEB_GRANTS = ("authorization_code", "refresh_token")
_FAULT_CODES = {400: "invalid_request", 401: "invalid_client", 403: "access_denied",
                429: "too_many_requests", 503: "temporarily_unavailable"}


def register_yandex_oauth(app: Flask, server: YandexOAuthServer, faults: Faults, request_log: RequestLog) -> None:
    app.before_request(_count_and_inject_faults(faults, request_log))
    app.register_blueprint(_oauth_blueprint(server))
    app.register_blueprint(_login_blueprint(server))


def _is_oauth_request() -> bool:
    path = request.path
    return any(path == prefix or path.startswith(prefix + "/") for prefix in (OAUTH_PREFIX, LOGIN_PREFIX))


def _count_and_inject_faults(faults: Faults, request_log: RequestLog) -> Callable[[], Response | None]:
    def hook() -> Response | None:
        if not _is_oauth_request():
            return None
        request_log.count(route_label())
        if request.endpoint in _PAGE_ENDPOINTS:
            return None
        return fault_answer(faults, _fault_response)

    return hook


def _fault_response(status: int, retry_after: int | None) -> Response:
    # What Yandex's front servers answer on overload is UNVERIFIED (perhaps an HTML page); the
    # sandbox keeps the OAuth JSON shape so that the client's error path is what gets tested.
    if status == 401 and request.path.startswith(LOGIN_PREFIX + "/"):
        error = invalid_token()
    else:
        code = _FAULT_CODES.get(status, "server_error" if status >= 500 else "invalid_request")
        error = OAuthError(status, code, generic_error(status).description)
    if retry_after is not None:
        error.headers["Retry-After"] = str(retry_after)
    return _error_response(error)


def _error_response(error: OAuthError) -> Response:
    response = jsonify({"error": error.error, "error_description": error.description})
    response.status_code = error.status
    response.headers.update(error.headers)
    return _no_store(response)


def _no_store(response: Response) -> Response:
    # RFC 6749 §5.1: answers that carry tokens must not be cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _oauth_blueprint(server: YandexOAuthServer) -> Blueprint:
    bp = Blueprint("yandex_oauth", __name__, url_prefix=OAUTH_PREFIX)
    bp.register_error_handler(OAuthError, _error_response)
    bp.register_error_handler(AuthorizePageError, lambda error: oauth_pages.error_page(str(error)))
    bp.register_error_handler(AuthorizeRedirectError, lambda error: redirect(error.location, 302))

    def grant(authorize: AuthorizeRequest, account: YandexAccount) -> Response:
        code = server.issue_code(account, authorize)
        return redirect(redirect_location(authorize.redirect_uri, authorize.state, code=code), 302)

    @bp.get("/authorize")
    def authorize_page():
        authorize = read_authorize_request(request.args)
        # A shortcut for tests and scripts, which have no person to press a button.
        if request.args.get("sandbox_auto") == "1":
            return grant(authorize, _sandbox_account(authorize.login_hint))
        return oauth_pages.consent_page(SANDBOX_ACCOUNTS.values(), request.full_path, authorize.login_hint)

    @bp.post("/authorize")
    def authorize_choice():
        authorize = read_authorize_request(request.args)
        if request.form.get("refuse"):
            return redirect(redirect_location(authorize.redirect_uri, authorize.state, error="access_denied",
                                              error_description="The user refused access."), 302)
        return grant(authorize, _sandbox_account(request.form.get("account")))

    @bp.post("/token")
    def token():
        form = _token_form()
        service_app = server.authenticate(*_client_credentials(form))
        grant_type = form.get("grant_type")
        if not grant_type:
            raise invalid_request("grant_type is required.")
        if grant_type not in (*_WEB_GRANTS, TOKEN_EXCHANGE_GRANT):
            raise OAuthError(400, "unsupported_grant_type",
                             f"grant_type must be one of {', '.join((*_WEB_GRANTS, TOKEN_EXCHANGE_GRANT))}.")
        # In the sandbox each client has its own grants; whether Yandex lets a service app also run
        # the code flow is UNVERIFIED, and the app never asks it to.
        if (grant_type == TOKEN_EXCHANGE_GRANT) != (service_app is not None):
            raise unauthorized_client("Only an organisation's service app may use the token-exchange grant, "
                                      "and a service app only that grant.")
        if grant_type == "authorization_code":
            pair = server.redeem_code(_required(form, "code"), form.get("redirect_uri"), form.get("code_verifier"))
        elif grant_type == "refresh_token":
            pair = server.refresh(_required(form, "refresh_token"))
        else:
            pair = server.exchange_for_employee(service_app, _required(form, "subject_token"),
                                                _required(form, "subject_token_type"))
        return _no_store(jsonify(_token_body(pair)))

    return bp


def _login_blueprint(server: YandexOAuthServer) -> Blueprint:
    bp = Blueprint("yandex_login", __name__, url_prefix=LOGIN_PREFIX)
    bp.register_error_handler(OAuthError, _error_response)

    @bp.get("/info")
    def info():
        if request.args.get("format", "json") != "json":
            raise invalid_request("The sandbox answers format=json only.")
        if "oauth_token" in request.args:
            # Documented, but as unsafe (the token lands in logs): strict, the sandbox refuses it.
            raise invalid_request("Send the token as 'Authorization: OAuth <token>', not ?oauth_token=.")
        credentials = oauth_credentials()
        if credentials is None:
            raise invalid_token()
        return jsonify(server.user_info(credentials))

    return bp


def _sandbox_account(name: str | None) -> YandexAccount:
    account = find_account(name) if name else None
    if account is None:
        known = ", ".join(SANDBOX_ACCOUNTS)
        raise AuthorizePageError(f"No such sandbox Yandex account: {name or '(none given)'}. Known: {known}.")
    return account


def _token_form() -> MultiDict[str, str]:
    """The POST body, which must be a form (RFC 6749 §4.1.3); repeated parameters are refused (§3.2)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise invalid_request("The token request must be application/x-www-form-urlencoded.")
    form = request.form
    if repeated := sorted(name for name in form if len(form.getlist(name)) > 1):
        raise invalid_request(f"Parameter {repeated[0]} is repeated.")
    return form


def _client_credentials(form: MultiDict[str, str]) -> tuple[str, str, bool]:
    """(client_id, client_secret, whether they came as HTTP Basic auth): one way or the other, not both."""
    if "Authorization" not in request.headers:
        return form.get("client_id", ""), form.get("client_secret", ""), False
    basic = request.authorization
    if basic is None or basic.type != "basic":
        raise invalid_client(via_basic_auth=True)
    if "client_secret" in form or form.get("client_id", basic.username) != basic.username:
        raise invalid_request("Client credentials came both as HTTP Basic auth and in the form.")
    return basic.username or "", basic.password or "", True


def _required(form: MultiDict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise invalid_request(f"{name} is required.")
    return value


def _token_body(pair: IssuedTokens) -> dict[str, object]:
    if pair.refresh_token is None:
        # The token-exchange answer as public clients of it show it: no refresh token (a client asks
        # again when the hour is up) and RFC 8693 §2.2.1's issued_token_type. Whether Yandex adds
        # `scope` is UNVERIFIED; the sandbox leaves it out, so no client leans on it.
        return {"token_type": "bearer", "access_token": pair.access_token, "expires_in": pair.access_ttl,
                "issued_token_type": ISSUED_ACCESS_TOKEN}
    return {"token_type": "bearer", "access_token": pair.access_token,
            "expires_in": pair.access_ttl, "refresh_token": pair.refresh_token}
