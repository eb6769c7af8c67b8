"""A small client of the Bitrix24 REST API on `requests` (reference/bitrix24-rest.md).

Why not b24pysdk: it builds the REST root as https://{domain}/rest and hard-codes the OAuth host, so it
cannot talk to the plain-http sandbox portal nor to a configured OAuth server, and it retries only on
503 on its own schedule, where the pipeline needs every transient failure handed back to it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from shared.clients.errors import (
    PermanentError,
    TimedErrorDetails,
    TransientError,
    json_or_none,
    network_failure,
    retry_after_seconds,
)

SERVICE = "Bitrix24"
MAX_BATCH_COMMANDS = 50
TRANSIENT_CODES = {
    "QUERY_LIMIT_EXCEEDED",
    "OPERATION_TIME_LIMIT",
    "OVERLOAD_LIMIT",
    "INTERNAL_SERVER_ERROR",
    "ERROR_UNEXPECTED_ANSWER",
    "EXPIRED_TOKEN",
}
CREDENTIAL_CODES = {"INVALID_TOKEN", "NO_AUTH_FOUND", "INVALID_CREDENTIALS", "AUTHORIZATION_ERROR"}
REDIRECTS = (301, 302, 303, 307, 308)


def web_host(url: str) -> str | None:
    """The host of an http(s) URL (lower case), None for anything else: what a REST root must be."""
    parts = urlsplit(url)
    return parts.netloc.lower() if parts.scheme in ("http", "https") and parts.netloc else None


def sibling_hosts(old: str | None, new: str | None) -> bool:
    """Whether two hosts are one name or two names under one parent domain (a.bitrix24.ru, b.bitrix24.ru)."""
    if not old or not new:
        return False
    old_labels, new_labels = old.split(":")[0].split("."), new.split(":")[0].split(".")
    named = not old_labels[-1].isdecimal()  # an IP address has no parent domain
    return old_labels == new_labels or (named and len(old_labels) >= 3 and old_labels[1:] == new_labels[1:])


class TokenExpired(TransientError):
    """expired_token: a fresh access token (refresh) makes the same call succeed."""


class PortalDeleted(PermanentError):
    """PORTAL_DELETED (HTTP 500, b24restdocs _includes/system-errors.md): the portal is gone for good."""


@dataclass(frozen=True)
class RestCall:
    """One request to a portal's REST API and what came back, for the request log (shared/portal/rest_log.py).
    The request is the body without `auth`; a webhook's secret path is never part of it."""

    host: str
    method: str
    request: str
    status: int | None  # None: no answer (a timeout, a refused connection)
    response: str
    seconds: float


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
            # http_build_query writes true as "1" and false as "0", which PHP's (bool) reads back as meant;
            # a Y/N field takes the strings "Y"/"N" from the caller (a "N" would be TRUE to (bool)).
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
            pairs.append(f"{quote(prefix, safe='[]')}={quote(text, safe='')}")

    for key, value in params.items():
        walk(str(key), value)
    return "&".join(pairs)


class Bitrix24Client:
    """Calls one portal, either through an inbound webhook URL or a REST root plus an OAuth access token."""

    def __init__(
        self,
        rest_url: str,
        auth: str | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        limiter: Callable[[str], None] | None = None,
        recorder: Callable[[RestCall], None] | None = None,
    ) -> None:
        self.rest_url = rest_url.rstrip("/") + "/"
        self.auth = auth
        self.timeout = (min(3.05, timeout), timeout)
        self.http = session or requests.Session()
        self.limiter = limiter  # takes a slot of the portal's request budget before each request
        self.recorder = (
            recorder  # told every request and its answer (Bitrix24 Market asks for 3 days of them)
        )

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict:
        """The whole envelope ({result, time, total?, next?}); raises on any error."""
        response = self._post(method, params)
        if response.status_code in REDIRECTS:
            # A renamed portal answers 302 from its old domain; b24pysdk follows it to the new one once
            # (credentials/bitrix_token.py, BitrixResponse302JSONDecodeError). requests would turn the POST
            # into a bodiless GET, so the call is repeated here, on the new REST root.
            self.rest_url = self._moved(method, response.headers.get("Location", ""))
            response = self._post(method, params)
        data = json_or_none(response)
        if isinstance(data, dict) and "error" in data:  # an error key means failure even with HTTP 200
            raise error_from(
                data.get("error"),
                data.get("error_description"),
                response.status_code,
                retry_after_seconds(response),
            )
        if response.status_code >= 300 or not isinstance(data, dict):
            raise error_from(None, response.reason, response.status_code, retry_after_seconds(response))
        return data

    def _post(self, method: str, params: Mapping[str, Any] | None) -> requests.Response:
        body = dict(params or {})
        if self.auth:
            body["auth"] = self.auth
        host = urlsplit(self.rest_url).netloc
        if self.limiter is not None:
            self.limiter(host)
        started = time.monotonic()
        try:
            response = self.http.post(
                f"{self.rest_url}{method}.json",
                json=body,
                timeout=self.timeout,
                allow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": "telemost-bitrix-app"},
            )
        except requests.RequestException as exc:
            self._record(host, method, params, None, f"{type(exc).__name__}: {exc}", started)
            raise network_failure(SERVICE, exc, self.timeout[1]) from exc
        self._record(host, method, params, response.status_code, response.text, started)
        return response

    def _record(
        self,
        host: str,
        method: str,
        params: Mapping[str, Any] | None,
        status: int | None,
        answer: str,
        started: float,
    ) -> None:
        if self.recorder is not None:
            sent = json.dumps(dict(params or {}), ensure_ascii=False, default=str)
            self.recorder(RestCall(host, method, sent, status, answer, time.monotonic() - started))

    def _moved(self, method: str, location: str) -> str:
        """The REST root a redirect may send this call to: one that serves the same method path, over TLS when
        the old root was, and that the portal is confirmed to answer at (confirm_move)."""
        target = urljoin(f"{self.rest_url}{method}.json", location).split("?", 1)[0]
        suffix = f"{method}.json"
        root = target[: -len(suffix)] if location and target.endswith("/" + suffix) else ""
        downgrade = self.rest_url.startswith("https:") and not root.startswith(
            "https:"
        )  # the token stays on TLS
        confirmed = self.confirm_move(root) if web_host(root) is not None and not downgrade else None
        if confirmed is None:
            raise PermanentError(
                SERVICE,
                f"Bitrix24 redirected the request to {location[:200]!r}, which is not "
                "a REST endpoint of this portal",
                code="UNEXPECTED_REDIRECT",
                status=302,
            )
        return confirmed

    def confirm_move(self, root: str) -> str | None:
        """Where the call may go after a redirect to `root`, None when nowhere. A webhook (its secret rides in the
        path) follows only to another name under the same parent domain, as a renamed cloud portal moves from
        old.bitrix24.ru to new.bitrix24.ru; it is not kept: BITRIX24_WEBHOOK_URL is the operator's to change."""
        return root if sibling_hosts(web_host(self.rest_url), web_host(root)) else None

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
    details: TimedErrorDetails = {"code": code or None, "status": status, "retry_after": retry_after}
    if upper == "PORTAL_DELETED":
        return PortalDeleted(
            SERVICE,
            "The Bitrix24 portal was deleted (PORTAL_DELETED): the app no longer works with it.",
            **details,
        )
    if upper == "EXPIRED_TOKEN":
        return TokenExpired(
            SERVICE, "The Bitrix24 access token has expired; the app will try again", **details
        )
    if upper in TRANSIENT_CODES or (status is not None and (status == 429 or status >= 500)):
        return TransientError(
            SERVICE, f"Bitrix24 is busy or unavailable ({code or status}); the app will try again", **details
        )
    if upper in CREDENTIAL_CODES:
        return PermanentError(
            SERVICE,
            f"Bitrix24 did not accept the app's credentials ({code}): {text}. "
            "Reinstall the app or check BITRIX24_WEBHOOK_URL.",
            **details,
        )
    if upper in {"INSUFFICIENT_SCOPE", "ACCESS_DENIED", "WRONG_AUTH_TYPE", "USER_ACCESS_ERROR"}:
        return PermanentError(
            SERVICE,
            f"Bitrix24 refused ({code}): {text}. The app or webhook needs the calendar, im and user scopes.",
            **details,
        )
    return PermanentError(
        SERVICE, f"Bitrix24 rejected the request{f' ({code})' if code else ''}: {text}", **details
    )


class Bitrix24OAuthServer:
    """One Bitrix24 OAuth server: token refresh and the trusted app.info."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.timeout = (min(3.05, timeout), timeout)
        self.http = session or requests.Session()

    def refresh(self, refresh_token: str) -> dict:
        """A new pair for a refresh token (which stops working): access_token, refresh_token, expires_in, ..."""
        params = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": refresh_token,
        }
        try:
            # Never redirected: the query carries the client secret and the refresh token.
            response = self.http.get(
                f"{self.base_url}/oauth/token/", params=params, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise network_failure(SERVICE, exc, self.timeout[1]) from exc
        data = json_or_none(response)
        if response.status_code == 200 and isinstance(data, dict) and data.get("access_token"):
            return data
        data = data if isinstance(data, dict) else {}
        if response.status_code in REDIRECTS:  # not an answer about the token: it is not dropped for this
            raise TransientError(
                SERVICE,
                f"The Bitrix24 OAuth server redirected the refresh ({response.status_code}); "
                "the app will try again",
                code="UNEXPECTED_REDIRECT",
                status=response.status_code,
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise error_from(
                data.get("error"),
                data.get("error_description"),
                response.status_code,
                retry_after_seconds(response),
            )
        raise PermanentError(
            SERVICE,
            "Bitrix24 no longer accepts the app's authorisation for this portal "
            f"({data.get('error') or response.status_code}): open the app in the portal "
            "again, or reinstall it.",
            code=data.get("error"),
            status=response.status_code,
        )

    def app_info(self, auth: str) -> dict:
        """Which application, portal and user a token belongs to, from the OAuth server itself, asked as
        b24pysdk asks it: GET {oauth}/rest/app.info/?auth=... (bitrix_oauth_requester.py _APP_INFO_URL)."""
        try:
            response = self.http.get(
                f"{self.base_url}/rest/app.info/",
                params={"auth": auth},
                timeout=self.timeout,
                headers={"Accept": "application/json"},
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise network_failure(SERVICE, exc, self.timeout[1]) from exc
        data = json_or_none(response)
        if not isinstance(data, dict) or "error" in data or response.status_code >= 300:
            data = data if isinstance(data, dict) else {}
            raise error_from(
                data.get("error"),
                data.get("error_description") or response.reason,
                response.status_code,
                retry_after_seconds(response),
            )
        info = data.get("result")
        return info if isinstance(info, dict) else {}


class OAuthServers:
    """The OAuth servers the app trusts: the regional ones (Settings.bitrix24_oauth_servers) and the configured
    one (BITRIX24_OAUTH_URL). Which one issued a portal's tokens arrives as server_endpoint.

    A server_endpoint from a launch, an event or an answer names one of them, or is ignored: the launch's is
    posted by the browser, so it can only choose among servers that are Bitrix24's own.
    """

    def __init__(
        self,
        configured: str,
        regional: tuple[str, ...],
        client_id: str,
        client_secret: str,
        timeout: float,
        session: requests.Session,
    ) -> None:
        urls = dict.fromkeys(url.rstrip("/") for url in (configured, *regional))
        self.configured = configured.rstrip("/")
        self._servers = {
            url: Bitrix24OAuthServer(url, client_id, client_secret, timeout, session) for url in urls
        }

    def known(self, endpoint: Any) -> str | None:
        """The base URL of the known server that `endpoint` names (a server_endpoint such as
        https://oauth.bitrix.info/rest/, or a base URL); None for anything else."""
        if not isinstance(endpoint, str) or not endpoint.strip():
            return None
        wanted = _server_key(endpoint)
        return next((url for url in self._servers if _server_key(url) == wanted), None)

    def in_turn(self, *first: str | None) -> list[Bitrix24OAuthServer]:
        """Every known server, the ones named first (when known), then the configured one, then the others."""
        order = [self.known(url) for url in first] + [self.configured, *self._servers]
        return [self._servers[url] for url in dict.fromkeys(url for url in order if url)]


def _server_key(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    path = path[: -len("/rest")] if path.endswith("/rest") else path
    return parts.scheme.lower(), parts.netloc.lower(), path


def ask_in_turn(servers: list[Bitrix24OAuthServer], question: Callable[[Bitrix24OAuthServer], Any]):
    """(server, answer) of the first server that answers; a refusal moves on to the next, as tokens work only
    where they were issued. Raises when none answers: a transient failure first (the credential may still be
    good there), else the first refusal. expired_token comes from the server that knows the token: raised."""
    refused: PermanentError | None = None
    failed: TransientError | None = None
    for server in servers:
        try:
            return server, question(server)
        except TokenExpired:
            raise
        except TransientError as error:
            failed = failed or error
        except PermanentError as error:
            refused = refused or error
    raise failed or refused or PermanentError(SERVICE, "No Bitrix24 OAuth server is configured")
