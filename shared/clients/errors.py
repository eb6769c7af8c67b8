"""One vocabulary of failure for every outside call, so the pipeline decides retry vs fail in one place."""

from __future__ import annotations

from typing import TypedDict

import requests


class OutsideServiceError(Exception):
    """A call to Telemost or Bitrix24 that did not succeed.

    `message` is written for a person (it ends up in the step's error); `code` is the service's own
    error code, kept for logs and tests; `retry_after` is the service's Retry-After in seconds.
    """

    transient = False

    def __init__(
        self,
        service: str,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        subjects: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.subjects = (
            subjects or []
        )  # what the error is about, e.g. the cohost addresses Yandex does not know
        self.service = service
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class ErrorDetails(TypedDict):
    """The keyword details an outside client passes on to every error it builds."""

    code: str | None
    status: int | None


class TimedErrorDetails(ErrorDetails):
    """ErrorDetails with the service's Retry-After."""

    retry_after: float | None


class TransientError(OutsideServiceError):
    """Worth another try later: timeouts, connection errors, 429, 5xx, rate limits."""

    transient = True


class PermanentError(OutsideServiceError):
    """Another try would fail the same way until a person changes something."""


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After as seconds; the HTTP-date form is rare for APIs and is treated as absent."""
    raw = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


def network_failure(service: str, exc: requests.RequestException, read_timeout: float) -> TransientError:
    kind = "did not answer in time" if isinstance(exc, requests.Timeout) else "could not be reached"
    # A request sent and not answered may still be carried out: the next try (which first looks for what
    # this one made) waits as long again, so that it does not look before the service has finished.
    unanswered = read_timeout if isinstance(exc, requests.ReadTimeout) else None
    return TransientError(
        service, f"{service} {kind}; the app will try again", code=type(exc).__name__, retry_after=unanswered
    )


def json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None
