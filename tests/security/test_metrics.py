"""/metrics cannot be grown by what a client or an outside service sends (issue 12, finding 6).

Each label value is a time series that every scrape carries from then on: 200 made-up HTTP methods grew
/metrics from 27 KB to 409 KB. Every label must come from a fixed set.
"""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

import requests
from prometheus_client.parser import text_string_to_metric_families

from shared.metrics import STANDARD_STATUSES, STATUS_CLASSES
from tests.integration.test_pipeline import meeting

MADE_UP = 200
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def series(stack) -> dict[str, list[dict[str, str]]]:
    """{metric sample name: the labels of each of its series}, from the web's /metrics."""
    text = requests.get(stack.web_url + "/metrics", timeout=10).text
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample.labels)
    return found


def _raw(stack, request: str) -> None:
    """A request as an attacker writes it, past what a client library would check."""
    parts = urlsplit(stack.web_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request.encode())
        sock.recv(256)


def test_made_up_methods_and_paths_add_no_series(stack, anna):
    before = series(stack)["telemost_http_request_seconds_count"]
    for i in range(MADE_UP):
        _raw(stack, f"FAKE{i:03d} /api/conferences HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {anna.token}\r\n"
                    "Connection: close\r\n\r\n")
        _raw(stack, f"GET /made-up-{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    after = series(stack)["telemost_http_request_seconds_count"]

    assert {labels["method"] for labels in after} <= METHODS | {"other"}
    assert not any("made-up" in labels["route"] for labels in after)
    assert all(labels["status"] in {str(s) for s in STANDARD_STATUSES} for labels in after)
    # 400 requests of made-up kinds: at most a few new series ("other" or "unmatched", by status).
    assert len(after) - len(before) <= 4, [labels for labels in after if labels not in before]


def test_a_status_an_outside_service_made_up_is_counted_in_its_class(stack):
    maria = stack.login(6)  # with the organisation's token: no Yandex account of her own that others' tests change
    stack.telemost_faults(error_rate=1.0, status=477)  # no such status: Telemost, or a proxy before it, chose it
    done = maria.wait_final(maria.create(meeting(invitees=[]))["id"])
    stack.telemost_faults()
    assert done["status"] == "failed", done["steps"]

    calls = series(stack)["telemost_outside_calls"]
    telemost = {labels["status"] for labels in calls if labels["service"] == "telemost"}
    assert "4xx" in telemost and "477" not in telemost, done["steps"]
    allowed = {str(s) for s in STANDARD_STATUSES} | STATUS_CLASSES
    assert all(labels["status"] in allowed for labels in calls), calls
