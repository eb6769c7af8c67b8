"""The emulators' record of what they were sent (GET /_sandbox/requests), on Flask's test client.

It is a test aid, not platform behaviour: it keeps what a real server can see (method, path, query, the
body as its content type decodes it, the Authorization scheme) and nothing the service would answer
differently. Batch commands are read as PHP reads http_build_query text (b24restdocs
settings/how-to-call-rest-api/batch.md: "the called method with parameters as a string method?parameter=value").
"""
from __future__ import annotations

from sandbox.bitrix24 import create_app as create_portal
from sandbox.request_capture import RequestCapture
from sandbox.telemost import create_app as create_telemost


def requests_of(client) -> list[dict]:
    return client.get("/_sandbox/requests").json["requests"]


def test_the_portal_records_each_rest_call_with_its_batch_commands_as_text():
    portal = create_portal().test_client()
    portal.post("/rest/batch.json", json={"halt": 0, "auth": "x", "cmd": {
        "event": "calendar.event.add?type=user&ownerId=2&meeting%5Breinvite%5D=0&attendees%5B0%5D=2",
        "read": "calendar.event.getbyid?id=$result[event]"}})
    portal.post("/rest/1/sandboxwebhook/user.current", data={"x": "1"})
    portal.get("/healthz")  # not an API call: not recorded

    batch, webhook = requests_of(portal)
    assert (batch["method"], batch["transport"], batch["webhook"]) == ("batch", "json", False)
    assert batch["params"]["halt"] == 0  # a JSON body keeps its types
    assert batch["commands"] == [
        {"key": "event", "method": "calendar.event.add",
         "params": {"type": "user", "ownerId": "2", "meeting": {"reinvite": "0"}, "attendees": ["2"]}},
        {"key": "read", "method": "calendar.event.getbyid", "params": {"id": "$result[event]"}}]
    assert (webhook["method"], webhook["transport"], webhook["webhook"], webhook["params"]) == \
        ("user.current", "form", True, {"x": "1"})


def test_the_oauth_servers_requests_are_recorded_with_their_route():
    portal = create_portal().test_client()
    portal.get("/oauth-server/oauth/token/", query_string={"grant_type": "refresh_token", "refresh_token": "r"})
    (entry,) = requests_of(portal)
    assert (entry["service"], entry["server"], entry["route"]) == ("oauth", "/oauth-server", "/oauth/token/")
    assert entry["query"] == {"grant_type": "refresh_token", "refresh_token": "r"}


def test_telemost_records_a_refused_request_and_only_the_authorization_scheme():
    telemost = create_telemost({"TESTING": True}).test_client()
    telemost.post("/v1/telemost-api/conferences", json={"waiting_room_level": "PUBLIC"},
                  headers={"Authorization": "Bearer secret-token"})
    telemost.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "r"})

    create, token = requests_of(telemost)
    assert (create["http_method"], create["path"], create["authorization"]) == \
        ("POST", "/v1/telemost-api/conferences", "Bearer")
    assert "secret-token" not in str(create)
    assert (create["transport"], create["body"]) == ("json", {"waiting_room_level": "PUBLIC"})
    assert (token["transport"], token["body"]) == ("form", {"grant_type": "refresh_token", "refresh_token": "r"})


def test_delete_and_reset_clear_the_record():
    telemost = create_telemost({"TESTING": True}).test_client()
    telemost.get("/v1/telemost-api/conferences/1")
    assert telemost.delete("/_sandbox/requests").json == {"cleared": 1}
    telemost.get("/v1/telemost-api/conferences/1")
    telemost.post("/_sandbox/reset")
    assert requests_of(telemost) == []
    assert telemost.get("/_sandbox/requests?after=x").status_code == 400


def test_the_record_is_a_ring_buffer_with_numbers_that_never_repeat():
    capture = RequestCapture(limit=3)
    for index in range(5):
        capture.record({"path": f"/{index}"})
    assert [(e["seq"], e["path"]) for e in capture.entries()] == [(3, "/2"), (4, "/3"), (5, "/4")]
    assert [e["seq"] for e in capture.entries(after=4)] == [5]
