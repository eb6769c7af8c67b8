"""Bitrix24 error codes, texts and HTTP statuses (reference/bitrix24-rest.md §3, §2 OAuth-server errors)."""
from __future__ import annotations

from typing import Any


class RestError(Exception):
    """A REST answer {"error", "error_description"}; core RestException defaults to HTTP 400."""

    def __init__(self, status: int, code: str, description: str, **extra: Any) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "error_description": self.description, **self.extra}


class OAuthError(RestError):
    """An answer of the OAuth server (/oauth/token/): same shape, RFC 6749 codes."""


class GatewayTimeout(RestError):
    """An injected hang: the whole HTTP request times out, even when it happened inside a batch."""

    def __init__(self) -> None:
        super().__init__(504, "GATEWAY_TIMEOUT", "Gateway timeout")


def no_auth_found() -> RestError:
    return RestError(401, "NO_AUTH_FOUND", "Wrong authorization data")


def invalid_token() -> RestError:
    # The text is UNVERIFIED in the reference; this is the presumed one.
    return RestError(401, "invalid_token", "The access token provided is invalid.")


def expired_token() -> RestError:
    return RestError(401, "expired_token", "The access token provided has expired.")


def invalid_credentials() -> RestError:
    """A webhook path whose user id or key does not match."""
    return RestError(401, "INVALID_CREDENTIALS", "Invalid request credentials")


def method_not_found() -> RestError:
    return RestError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")


def insufficient_scope() -> RestError:
    return RestError(403, "insufficient_scope", "The request requires higher privileges than provided by the webhook token")


def wrong_auth_type() -> RestError:
    return RestError(403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method")


def access_denied(description: str = "Access denied!") -> RestError:
    return RestError(403, "ACCESS_DENIED", description)


def query_limit_exceeded() -> RestError:
    return RestError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")


def portal_deleted() -> RestError:
    """b24restdocs _includes/system-errors.md: 500 PORTAL_DELETED "Portal was deleted"."""
    return RestError(500, "PORTAL_DELETED", "Portal was deleted")


def argument_error(argument: str, description: str) -> RestError:
    return RestError(400, "ERROR_ARGUMENT", description, argument=argument)


# What an injected fault of a given status looks like, so clients meet the codes they must handle.
_FAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("ERROR_CORE", "Bad request"),
    401: ("expired_token", "The access token provided has expired."),
    403: ("ACCESS_DENIED", "Access denied!"),
    404: ("ERROR_NOT_FOUND", "Not found"),
    405: ("ERROR_METHOD_NOT_ALLOWED", "Method not allowed"),
    413: ("ERROR_REQUEST_TOO_LARGE", "Request entity too large"),
    429: ("OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit."),
    500: ("INTERNAL_SERVER_ERROR", "Internal server error"),
    502: ("ERROR_UNEXPECTED_ANSWER", "Bad gateway"),
    503: ("QUERY_LIMIT_EXCEEDED", "Too many requests"),
    504: ("GATEWAY_TIMEOUT", "Gateway timeout"),
}


def error_for_status(status: int, description: str = "") -> RestError:
    code, default_text = _FAULT_ERRORS.get(status, ("ERROR_CORE" if status < 500 else "INTERNAL_SERVER_ERROR", "Error"))
    return RestError(status, code, description or default_text)
