"""The REST log Bitrix24 Market asks for: "Solutions making requests to the Bitrix24 REST API from the server
must keep logs of API requests and responses for at least the last 3 days" (b24restdocs
market/preparing-to-publish/common-requirements.md). Against the whole stack: what the app really sends."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from shared.clients.bitrix24 import Bitrix24Client
from shared.models import BitrixRestCall, utcnow
from shared.portal import rest_log


def calls(database, method: str) -> list[BitrixRestCall]:
    with database.read() as session:
        return list(session.scalars(select(BitrixRestCall).where(BitrixRestCall.method == method)))


def test_each_request_and_its_answer_is_kept_without_the_token(stack, database, anna):
    before = len(calls(database, "user.search"))
    found = anna.request("GET", "/api/bitrix/users", params={"q": "Sokolov logged"})
    assert found.status_code == 200, found.text
    logged = calls(database, "user.search")[before:]
    assert len(logged) == 1
    call = logged[0]
    assert call.status == 200 and json.loads(call.response)["result"] is not None
    assert "Sokolov logged" in call.request and "auth" not in json.loads(call.request)
    assert call.host == stack.bitrix_url.split("//")[1] and call.milliseconds >= 0


def test_a_request_that_got_no_answer_is_kept_too(database):
    client = Bitrix24Client("http://127.0.0.1:9/rest/", auth="secret-token", timeout=1,
                            recorder=rest_log.RestLog(database))
    try:
        client.call("no.answer", {"x": 1})
    except Exception:  # noqa: BLE001 (the failure itself is not what is tested)
        pass
    [call] = calls(database, "no.answer")
    assert call.status is None and "Connection" in call.response and "secret-token" not in call.request


def test_rows_older_than_three_days_go_and_newer_ones_stay(database):
    with database.write() as session:
        for age in (timedelta(days=3, minutes=1), timedelta(days=2, hours=23)):
            session.add(BitrixRestCall(at=utcnow() - age, host="x", method="old.or.not", status=200,
                                       milliseconds=1, request="{}", response="{}"))
    assert rest_log.forget_old(database) >= 1
    assert [utcnow() - c.at < timedelta(days=3) for c in calls(database, "old.or.not")] == [True]


def test_long_bodies_are_cut():
    assert len(rest_log._cut("x" * 10_000)) < 4100 and rest_log._cut("short") == "short"
