"""Strict reading of request bodies and query strings (reference/telemost-api.md §2, §4).

Strict means: where the real service's tolerance is UNVERIFIED, the emulator enforces the documented
rule, so a client that passes here sends only what the docs describe. In particular, fields the docs
do not list (a meeting "title", say) are rejected rather than silently ignored, and `null` counts as
"not given" (the PHP client in the reference sends nulls for fields it leaves at the default).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from flask import request

from .errors import bad_request

WAITING_ROOM_LEVELS = ("PUBLIC", "ORGANIZATION", "ADMINS")
ACCESS_LEVELS = ("PUBLIC", "ORGANIZATION")
MAX_COHOSTS = 30
MAX_LIVE_STREAM_TITLE = 1024
MAX_LIVE_STREAM_DESCRIPTION = 2048
MAX_PAGE_LIMIT = 256
DEFAULT_PAGE_LIMIT = 50

_CONFERENCE_FIELDS = frozenset({
    "access_level", "waiting_room_level", "live_stream", "cohosts", "is_auto_summarization_enabled",
    # In the newer docs' PATCH schema [D8]; accepted on create too, which uses the same fields.
    "should_create_public_chat_if_not_exists",
})
_LIVE_STREAM_FIELDS = frozenset({"access_level", "title", "description"})


@dataclass(frozen=True)
class LiveStreamChanges:
    access_level: str | None = None
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class ConferenceChanges:
    """The fields a create or PATCH body sets; None means "leave as it is" (or the default)."""

    waiting_room_level: str | None = None
    access_level: str | None = None
    live_stream: LiveStreamChanges | None = None
    cohosts: tuple[str, ...] | None = None
    is_auto_summarization_enabled: bool | None = None
    should_create_public_chat_if_not_exists: bool | None = None


def read_json_object() -> dict[str, Any]:
    """The request body, which must be a JSON object sent as application/json [D1]."""
    if not request.is_json:
        raise bad_request("Content-Type must be application/json.")
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except ValueError:
        raise bad_request("Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object.")
    return body


def read_conference_changes(body: Mapping[str, Any]) -> ConferenceChanges:
    _reject_unknown_fields(body, _CONFERENCE_FIELDS)
    waiting_room_level, access_level = _room_levels(body)
    cohosts = body.get("cohosts")
    return ConferenceChanges(
        waiting_room_level=waiting_room_level,
        access_level=access_level,
        live_stream=_live_stream(body.get("live_stream")),
        cohosts=None if cohosts is None else _cohost_emails(cohosts),
        is_auto_summarization_enabled=_optional_bool(body, "is_auto_summarization_enabled"),
        should_create_public_chat_if_not_exists=_optional_bool(body, "should_create_public_chat_if_not_exists"),
    )


def read_cohosts_body(body: Mapping[str, Any]) -> tuple[str, ...]:
    """`{"cohosts": [{"email": …}]}` of PUT and PATCH …/cohosts [D11][D12]; the list is required."""
    _reject_unknown_fields(body, frozenset({"cohosts"}))
    if body.get("cohosts") is None:
        raise bad_request("Field cohosts is required.", "cohosts")
    return _cohost_emails(body["cohosts"])


def read_page(args: Mapping[str, str]) -> tuple[int, int]:
    """offset >= 0 (default 0) and limit 1..256 (default 50) of GET …/cohosts [D10]."""
    offset = _int_arg(args, "offset", 0)
    limit = _int_arg(args, "limit", DEFAULT_PAGE_LIMIT)
    if offset < 0:
        raise bad_request("offset must be >= 0.", "offset")
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise bad_request(f"limit must be from 1 to {MAX_PAGE_LIMIT}.", "limit")
    return offset, limit


def read_emails_query(raw: str | None) -> tuple[str, ...]:
    """`cohost_emails=a@x,b@y` of DELETE …/cohosts: required, at most 30 addresses [D3][D4]."""
    if not raw:
        raise bad_request("Query parameter cohost_emails is required.", "cohost_emails")
    emails = [email.strip() for email in raw.split(",")]
    if any(not email for email in emails):
        raise bad_request("cohost_emails holds an empty address.", "cohost_emails")
    if len(emails) > MAX_COHOSTS:
        raise bad_request(f"At most {MAX_COHOSTS} cohost_emails per request.", "cohost_emails")
    return _unique_lowercase(emails)


def _room_levels(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(waiting_room_level, access_level) to store.

    The deprecated access_level is ignored when waiting_room_level is given, and any value other
    than PUBLIC or ORGANIZATION reads as UNKNOWN [D1]; it then leaves the waiting room alone.
    """
    waiting_room_level = body.get("waiting_room_level")
    if waiting_room_level is not None:
        if waiting_room_level not in WAITING_ROOM_LEVELS:
            raise bad_request(f"waiting_room_level must be one of {', '.join(WAITING_ROOM_LEVELS)}.",
                              "waiting_room_level")
        return waiting_room_level, waiting_room_level if waiting_room_level in ACCESS_LEVELS else "UNKNOWN"
    access_level = body.get("access_level")
    if access_level is None:
        return None, None
    if isinstance(access_level, str) and access_level in ACCESS_LEVELS:
        return access_level, access_level
    return None, "UNKNOWN"


def _live_stream(value: Any) -> LiveStreamChanges | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("live_stream must be an object.", "live_stream")
    _reject_unknown_fields(value, _LIVE_STREAM_FIELDS, "live_stream.")
    access_level = value.get("access_level")
    if access_level is not None and access_level not in ACCESS_LEVELS:
        raise bad_request(f"live_stream.access_level must be one of {', '.join(ACCESS_LEVELS)}.",
                          "live_stream.access_level")
    return LiveStreamChanges(
        access_level=access_level,
        title=_optional_text(value, "title", MAX_LIVE_STREAM_TITLE, "live_stream."),
        description=_optional_text(value, "description", MAX_LIVE_STREAM_DESCRIPTION, "live_stream."),
    )


def _cohost_emails(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise bad_request("cohosts must be a list.", "cohosts")
    if len(value) > MAX_COHOSTS:
        raise bad_request(f"At most {MAX_COHOSTS} cohosts per request.", "cohosts")
    for item in value:
        if not (isinstance(item, dict) and set(item) == {"email"} and isinstance(item["email"], str)):
            raise bad_request('Each cohost must be {"email": "<address>"}.', "cohosts")
    return _unique_lowercase(item["email"] for item in value)


def _unique_lowercase(emails: Any) -> tuple[str, ...]:
    # Addresses compare case-insensitively; a repeat keeps the place of its first occurrence.
    return tuple(dict.fromkeys(email.lower() for email in emails))


def _optional_bool(body: Mapping[str, Any], field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"{field} must be true or false.", field)
    return value


def _optional_text(body: Mapping[str, Any], field: str, max_length: int, prefix: str) -> str | None:
    value = body.get(field)
    if value is not None and not (isinstance(value, str) and len(value) <= max_length):
        raise bad_request(f"{prefix}{field} must be a string of at most {max_length} characters.",
                          prefix + field)
    return value


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer.", name) from None


def _reject_unknown_fields(body: Mapping[str, Any], known: frozenset[str], prefix: str = "") -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise bad_request(f"Unknown field {prefix}{unknown[0]}.", prefix + unknown[0])
