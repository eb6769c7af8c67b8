"""The HTTP contract of the web tier (CONTRACT §3-4) where the web decides alone: tokens, bad input (never
a 500, nothing saved), scoping, listing and the documents. In-process with Flask's test client
(tests/api/conftest.py); the same tests ran against gunicorn before, and the stack's own are in
tests/integration/test_api.py."""
from __future__ import annotations

import pytest


# --- tokens and scoping --------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Bearer forged.token.here"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_api_routes_need_a_valid_app_token(anonymous, headers):
    for method, path in [("GET", "/api/conferences"), ("POST", "/api/conferences"), ("GET", "/api/conferences/1"),
                         ("POST", "/api/conferences/1/retry"), ("GET", "/api/current-user")]:
        response = anonymous.open(path, method=method, headers=headers, json={"name": "x"})
        assert response.status_code == 401, (method, path)
        assert response.get_json()["error"]["message"]


def test_another_users_conference_is_not_found(anna, ivan):
    mine = anna.create({"name": "Private"})
    for method, path in [("GET", f"/api/conferences/{mine['id']}"), ("POST", f"/api/conferences/{mine['id']}/retry")]:
        assert ivan.request(method, path).status_code == 404
    assert all(c["id"] != mine["id"] for c in ivan.request("GET", "/api/conferences").json()["items"])


# --- bad input never loses anything and never answers 500 ---------------------------------------

@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'"name"', b"null", b"", b"\xff\xfe", b'{"name": "x",}',
                                 b"[" * 60000, b'{"name": "x"} {"name": "y"}'])
def test_a_body_that_is_not_a_json_object_is_a_400(anna, raw):
    response = anna.request("POST", "/api/conferences", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_a_body_that_breaks_rules_is_a_422_naming_every_field(anna):
    response = anna.request("POST", "/api/conferences", json={
        "name": "", "type": "broadcast", "cohosts": ["x"], "invitees": [0], "waiting_room_level": "ALL"})
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert {"name", "cohosts.0", "invitees.0", "waiting_room_level"} <= set(fields)


@pytest.mark.parametrize("body, field", [
    ({"name": "nul\u0000byte"}, "name"),
    ({"name": "x", "start_at": "9999-12-31T23:59:59-05:00"}, "start_at"),
    ({"name": "x", "timezone": "z" * 300}, "timezone"),
    ({"name": "x", "invitees": [10**30]}, "invitees.0"),
    ({"name": {"nested": ["deep"]}}, "name"),
])
def test_odd_values_are_a_422_never_a_500(anna, body, field):
    response = anna.request("POST", "/api/conferences", json=body)
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


def test_a_bad_header_and_a_bad_body_are_reported_together(anna):
    response = anna.request("POST", "/api/conferences", json={"name": ""}, headers={"Idempotency-Key": "k" * 300})
    assert response.status_code == 422
    assert {"Idempotency-Key", "name"} <= set(response.json()["error"]["fields"])


def test_an_oversized_body_is_a_413(anna):
    response = anna.request("POST", "/api/conferences", json={"name": "x", "description": "y" * 200_000})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_bad_idempotency_key_is_a_422(anna):
    response = anna.request("POST", "/api/conferences", json={"name": "x"}, headers={"Idempotency-Key": "k" * 300})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["fields"]


def test_rejected_input_saves_nothing(anna):
    before = anna.request("GET", "/api/conferences").json()["total"]
    anna.request("POST", "/api/conferences", json={"name": ""})
    assert anna.request("GET", "/api/conferences").json()["total"] == before


@pytest.mark.parametrize("method, path", [("GET", "/api/conferences/abc"), ("GET", "/api/nothing-here"),
                                          ("PATCH", "/api/conferences"), ("GET", "/api/conferences/99999999999999999999")])
def test_unknown_routes_and_methods_answer_json(anna, method, path):
    response = anna.request(method, path)
    assert response.status_code in (404, 405)
    assert "error" in response.json()


# --- listing -------------------------------------------------------------------------------------

def test_list_is_newest_first_with_filters_and_pages(app):
    olga = app.api(4, "Olga Sidorova")
    made = [olga.create({"name": f"Standup {i}"})["id"] for i in range(3)]
    made.append(olga.create({"type": "broadcast", "name": "Town hall", "live_stream": {"title": "Town hall"}})["id"])

    everything = olga.request("GET", "/api/conferences?per_page=100").json()
    assert [c["id"] for c in everything["items"]][:4] == made[::-1]
    page = olga.request("GET", "/api/conferences?per_page=2&page=2").json()
    assert (page["page"], page["per_page"], len(page["items"])) == (2, 2, 2)
    assert page["total"] == everything["total"]
    broadcasts = olga.request("GET", "/api/conferences?type=broadcast").json()
    assert {c["type"] for c in broadcasts["items"]} == {"broadcast"}
    found = olga.request("GET", "/api/conferences?q=STANDUP%201").json()
    assert [c["name"] for c in found["items"]] == ["Standup 1"]
    assert olga.request("GET", "/api/conferences?q=100%25").json()["total"] == 0
    assert olga.request("GET", "/api/conferences?type=&status=&q=").json()["total"] == everything["total"]


def test_search_folds_case_beyond_ascii(app):
    maria = app.api(6, "Мария Кузнецова")
    maria.create({"name": "Встреча отдела"})
    assert [c["name"] for c in maria.request("GET", "/api/conferences?q=ВСТРЕЧА").json()["items"]] == ["Встреча отдела"]


def test_every_answer_matches_the_documented_schema(anna):
    from shared.schemas import ConferenceOut, ConferencePage
    created = anna.create({"type": "broadcast", "name": "Shaped", "live_stream": {"title": "t"},
                           "start_at": "2030-01-01T10:00:00+03:00", "invitees": [3]})
    ConferenceOut.model_validate(created)
    ConferencePage.model_validate(anna.request("GET", "/api/conferences").json())


@pytest.mark.parametrize("query", ["per_page=101", "page=0", "status=done", "type=meeting"])
def test_bad_list_parameters_are_a_422(anna, query):
    assert anna.request("GET", f"/api/conferences?{query}").status_code == 422


# --- documents -----------------------------------------------------------------------------------

def test_openapi_document_describes_the_routes_from_the_code(anonymous):
    document = anonymous.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    create = document["paths"]["/api/conferences"]["post"]
    assert set(create["responses"]) >= {"202", "422", "401"}
    assert "ConferenceIn" in document["components"]["schemas"]
    assert "/api/conferences/{conference_id}/retry" in document["paths"]
