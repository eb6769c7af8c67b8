"""Pure parts of the clients: how answers become errors, and how batch commands are encoded."""
import json
from urllib.parse import parse_qsl, unquote

import pytest
import requests

from shared.clients.bitrix24 import TokenExpired, error_from, php_query
from shared.clients.errors import PermanentError, TransientError, retry_after_seconds
from shared.clients.telemost import _error_from


def response(status: int, body=None, headers=None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = json.dumps(body).encode() if body is not None else b"<html>oops</html>"
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_telemost_overload_and_server_errors_are_transient(status):
    assert isinstance(_error_from(response(status)), TransientError)


def test_telemost_retry_after_is_kept():
    assert _error_from(response(429, {}, {"Retry-After": "7"})).retry_after == 7


@pytest.mark.parametrize("status, code, words", [
    (403, "ApiRestrictedToOrganizations", "Yandex 360 for Business"),
    (402, "PaymentRequiredToUseLiveStreams", "plan"),
    (401, "Unauthorized", "YANDEX_OAUTH_TOKEN"),
    (400, "BadRequest", "rejected"),
])
def test_telemost_refusals_are_permanent_with_a_message_a_person_can_act_on(status, code, words):
    error = _error_from(response(status, {"error": code, "message": "m", "description": "d"}))
    assert isinstance(error, PermanentError) and words in error.message


def test_unknown_cohosts_are_named():
    error = _error_from(response(404, {"error": "NoSuchUserPrincipalsFound", "details": {"emails": "a@x.ru;b@y.ru"}}))
    assert isinstance(error, PermanentError) and "a@x.ru, b@y.ru" in error.message


def test_a_non_json_error_body_is_still_classified():
    assert isinstance(_error_from(response(404)), PermanentError)


@pytest.mark.parametrize("code, status, kind", [
    ("QUERY_LIMIT_EXCEEDED", 503, TransientError),
    ("OPERATION_TIME_LIMIT", 429, TransientError),
    ("INTERNAL_SERVER_ERROR", 500, TransientError),
    ("expired_token", 401, TokenExpired),
    ("invalid_token", 401, PermanentError),
    ("insufficient_scope", 403, PermanentError),
    ("", 400, PermanentError),
    ("QUERY_LIMIT_EXCEEDED", None, TransientError),  # inside a batch there is no HTTP status
])
def test_bitrix_errors_are_sorted_into_transient_and_permanent(code, status, kind):
    assert type(error_from(code, "text", status, None)) is kind


def test_php_query_encodes_nested_values_as_php_reads_them():
    # PHP http_build_query writes booleans as 1 / 0 (php.net), which the calendar core's (bool) reads as meant.
    encoded = php_query({"ownerId": 2, "attendees": [2, 3], "meeting": {"notify": True, "hide_guests": False},
                         "remind": [{"type": "min", "count": 15}], "name": "Plan & do", "skip": None})
    assert parse_qsl(encoded) == [("ownerId", "2"), ("attendees[0]", "2"), ("attendees[1]", "3"),
                                  ("meeting[notify]", "1"), ("meeting[hide_guests]", "0"), ("remind[0][type]", "min"), ("remind[0][count]", "15"),
                                  ("name", "Plan & do")]


def test_retry_after_in_http_date_form_is_ignored():
    assert retry_after_seconds(response(429, {}, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})) is None

