"""A database that does not answer (PostgreSQL restarting, found by the PostgreSQL chaos run) is a 503 with
Retry-After that says nothing was applied, never a 500: a repeat with the same Idempotency-Key is safe."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError

import web.api.conferences as routes


def test_a_refused_database_connection_answers_503_with_retry_after(anna, monkeypatch):
    def refused(conference_id):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection failed: Connection refused"))

    monkeypatch.setattr(routes, "_own", refused)
    answer = anna.request("GET", "/api/conferences/1")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2"
    body = answer.json()["error"]
    assert body["code"] == "unavailable" and "not applied" in body["message"]
