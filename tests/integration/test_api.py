"""The HTTP contract of the web process (CONTRACT §3-4): errors, limits, scoping, listing, documents."""
from __future__ import annotations

import pytest
import requests

from tests.support.processes import wait_until

from .stack import ApiClient


@pytest.fixture
def anonymous(stack):
    return ApiClient(stack.web_url, None)


# --- sessions and tokens ------------------------------------------------------------------------

def test_a_launch_the_portal_vouches_for_gets_a_token_for_that_user(stack):
    launch = stack.launch(3)
    response = requests.post(f"{stack.web_url}/api/session", json={
        "auth_id": launch["form"]["AUTH_ID"], "domain": launch["query"]["DOMAIN"],
        "member_id": launch["form"]["member_id"]})

    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"id": 3, "name": "Sergey Ivanov", "email": "sergey.ivanov@example.com", "is_admin": False}
    assert body["expires_in"] > 0 and body["token"]


def test_the_administrator_is_recognised(ivan):
    assert ivan.request("GET", "/api/current-user").json()["is_admin"] is True


@pytest.mark.parametrize("change", [
    {"auth_id": "made-up-token"},
    {"domain": "evil.bitrix24.ru"},
    {"member_id": "another-portal-member-id"},
])
def test_a_launch_the_portal_does_not_vouch_for_is_refused(stack, change):
    launch = stack.launch(2)
    body = {"auth_id": launch["form"]["AUTH_ID"], "domain": launch["query"]["DOMAIN"],
            "member_id": launch["form"]["member_id"], **change}
    response = requests.post(f"{stack.web_url}/api/session", json=body)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


# --- health and metrics (the validation, scoping, listing and documents are in tests/api/, in-process) ---

def test_health_checks_the_database_and_redis(stack):
    wait_until(lambda: requests.get(f"{stack.web_url}/health").json()["worker_heartbeat_age_seconds"] is not None,
               10, "a worker heartbeat")
    body = requests.get(f"{stack.web_url}/health").json()
    age = body.pop("worker_heartbeat_age_seconds")
    assert body == {"status": "healthy", "service": "telemost-bitrix-app", "base_path": "",
                    "checks": {"database": "ok", "schema": "ok", "redis": "ok"}}
    assert age is not None and 0 <= age < 10  # the sweeper, every second in tests, is the heartbeat


def test_health_names_redis_when_it_is_down(stack):
    stack.stop("redis")
    try:
        response = requests.get(f"{stack.web_url}/health")
    finally:
        stack.start("redis")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["checks"]["redis"] != "ok" and response.json()["checks"]["database"] == "ok"


def test_metrics_show_conferences_queues_outside_calls_and_request_latency(stack, anna):
    anna.wait_final(anna.create({"name": "Counted"})["id"])
    text = requests.get(f"{stack.web_url}/metrics").text
    assert "# TYPE telemost_conferences gauge" in text
    assert 'telemost_queue_depth{queue="conferences"}' in text
    assert 'telemost_outside_calls{service="telemost",status="201"}' in text
    assert 'telemost_outside_call_seconds{service="telemost",status="201"}' in text
    assert "telemost_http_request_seconds_bucket" in text
    assert stack.env["SECRET_KEY"] not in text
