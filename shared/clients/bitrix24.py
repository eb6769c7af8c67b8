"""A small client of the Bitrix24 REST API on `requests` (reference/bitrix24-rest.md).

Why not b24pysdk: it builds the REST root as https://{domain}/rest and hard-codes the OAuth host, so it
cannot talk to the plain-http sandbox portal nor to a configured OAuth server, and it retries only on
503 on its own schedule, where the pipeline needs every transient failure handed back to it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlsplit

import requests

from .errors import PermanentError, TransientError, json_or_none, network_failure, retry_after_seconds

SERVICE = "Bitrix24"
MAX_BATCH_COMMANDS = 50
TRANSIENT_CODES = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "OVERLOAD_LIMIT", "INTERNAL_SERVER_ERROR",
                   "ERROR_UNEXPECTED_ANSWER", "EXPIRED_TOKEN"}
CREDENTIAL_CODES = {"INVALID_TOKEN", "NO_AUTH_FOUND", "INVALID_CREDENTIALS", "AUTHORIZATION_ERROR"}


class TokenExpired(TransientError):
    """expired_token: a fresh access token (refresh) makes the same call succeed."""


@dataclass
class BatchResult:
    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, TransientError | PermanentError] = field(default_factory=dict)


def php_query(params: Mapping[str, Any]) -> str:
    """Encodes nested params as PHP's http_build_query does, the form `batch` sub-commands must take."""
    pairs: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(f"{prefix}[{key}]", item)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(f"{prefix}[{index}]", item)
        elif value is not None:
            text = ("Y" if value else "N") if isinstance(value, bool) else str(value)
            pairs.append(f"{quote(prefix, safe='[]')}={quote(text, safe='')}")

    for key, value in params.items():
        walk(str(key), value)
    return "&".join(pairs)


class Bitrix24Client:
    """Calls one portal, either through an inbound webhook URL or a REST root plus an OAuth access token."""

    def __init__(self, rest_url: str, auth: str | None = None, timeout: float = 10.0,
                 session: requests.Session | None = None, limiter: Callable[[str], None] | None = None) -> None:
        self.rest_url = rest_url.rstrip("/") + "/"
        self.auth = auth
        self.timeout = (min(3.05, timeout), timeout)
        self.http = session or requests.Session()
        self.limiter = limiter  # takes a slot of the portal's request budget before each request

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict:
        """The whole envelope ({result, time, total?, next?}); raises on any error."""
        body = dict(params or {})
        if self.auth:
            body["auth"] = self.auth
        if self.limiter is not None:
            self.limiter(urlsplit(self.rest_url).netloc)
        try:
            response = self.http.post(f"{self.rest_url}{method}.json", json=body, timeout=self.timeout,
                                      headers={"Accept": "application/json", "User-Agent": "telemost-bitrix-app"})
        except requests.RequestException as exc:
            raise network_failure(SERVICE, exc, self.timeout[1]) from exc
        data = json_or_none(response)
        if isinstance(data, dict) and "error" in data:  # an error key means failure even with HTTP 200
            raise error_from(data.get("error"), data.get("error_description"), response.status_code,
                             retry_after_seconds(response))
        if response.status_code >= 300 or not isinstance(data, dict):
            raise error_from(None, response.reason, response.status_code, retry_after_seconds(response))
        return data

    def result(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.call(method, params)["result"]

    def batch(self, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool = False) -> BatchResult:
        """Runs up to 50 commands in one request (one unit of the portal's rate limit).

        A failure of the whole request raises; failures of single commands come back in `errors`.
        """
        if len(commands) > MAX_BATCH_COMMANDS:
            raise ValueError(f"a batch holds at most {MAX_BATCH_COMMANDS} commands")
        cmd = {key: f"{method}?{php_query(params)}" for key, (method, params) in commands.items()}
        body = self.result("batch", {"halt": 1 if halt else 0, "cmd": cmd})
        outcome = BatchResult(results=_as_dict(body.get("result")))
        for key, error in _as_dict(body.get("result_error")).items():
            error = error if isinstance(error, dict) else {"error": str(error)}
            outcome.errors[key] = error_from(error.get("error"), error.get("error_description"), None, None)
        return outcome


def _as_dict(value: Any) -> dict:
    # Bitrix24 sends an empty map as [] (PHP arrays).
    return value if isinstance(value, dict) else {}


def error_from(code: Any, description: Any, status: int | None, retry_after: float | None):
    code = code if isinstance(code, str) else ""
    upper = code.upper()
    text = str(description or "").strip() or "no details"
    details = {"code": code or None, "status": status, "retry_after": retry_after}
    if upper == "EXPIRED_TOKEN":
        return TokenExpired(SERVICE, "The Bitrix24 access token has expired; the app will try again",
                            **details)
    if upper in TRANSIENT_CODES or (status is not None and (status == 429 or status >= 500)):
        return TransientError(SERVICE, f"Bitrix24 is busy or unavailable ({code or status}); the app will try again",
                              **details)
    if upper in CREDENTIAL_CODES:
        return PermanentError(SERVICE, f"Bitrix24 did not accept the app's credentials ({code}): {text}. "
                                       "Reinstall the app or check BITRIX24_WEBHOOK_URL.", **details)
    if upper in {"INSUFFICIENT_SCOPE", "ACCESS_DENIED", "WRONG_AUTH_TYPE", "USER_ACCESS_ERROR"}:
        return PermanentError(SERVICE, f"Bitrix24 refused ({code}): {text}. The app or webhook needs the "
                                       "calendar, im and user scopes.", **details)
    return PermanentError(SERVICE, f"Bitrix24 rejected the request{f' ({code})' if code else ''}: {text}", **details)


class Bitrix24OAuthServer:
    """The Bitrix24 OAuth server (BITRIX24_OAUTH_URL): token refresh and the trusted app.info."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.timeout = (min(3.05, timeout), timeout)
        self.http = session or requests.Session()

    def refresh(self, refresh_token: str) -> dict:
        """A new pair for a refresh token (which stops working): access_token, refresh_token, expires_in, ..."""
        params = {"grant_type": "refresh_token", "client_id": self.client_id, "client_secret": self.client_secret,
                  "refresh_token": refresh_token}
        try:
            response = self.http.get(f"{self.base_url}/oauth/token/", params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise network_failure(SERVICE, exc, self.timeout[1]) from exc
        data = json_or_none(response)
        if response.status_code == 200 and isinstance(data, dict) and data.get("access_token"):
            return data
        data = data if isinstance(data, dict) else {}
        if response.status_code >= 500 or response.status_code == 429:
            raise error_from(data.get("error"), data.get("error_description"), response.status_code,
                             retry_after_seconds(response))
        raise PermanentError(SERVICE, "Bitrix24 no longer accepts the app's authorisation for this portal "
                                      f"({data.get('error') or response.status_code}): open the app in the portal "
                                      "again, or reinstall it.", code=data.get("error"), status=response.status_code)

    def app_info(self, auth: str) -> dict:
        """Which application, portal and user a token belongs to, from the OAuth server itself."""
        info = Bitrix24Client(self.base_url + "/rest/", auth=auth, timeout=self.timeout[1], session=self.http
                              ).result("app.info")
        return info if isinstance(info, dict) else {}
