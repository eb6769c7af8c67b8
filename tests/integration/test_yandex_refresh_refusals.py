"""Which refused refresh asks the user to reconnect (Y2).

yandex.ru/dev/id/doc/ru/tokens/refresh-client lists the refresh answer's error codes: invalid_grant is the
refresh token itself (revoked, expired or invalid), so the user must connect again (test_yandex_accounts.py);
invalid_client and unauthorized_client refuse the app's own client_id/client_secret, which only the app's
operator can fix; the rest (invalid_request, unsupported_grant_type, ...) refuse that one request. The
emulator refuses unknown client credentials with invalid_client (sandbox/telemost/oauth.py,
authenticate_client) and answers an injected 400 with invalid_request (oauth_routes.py, _FAULT_CODES).
"""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, update

from shared.clients.errors import PermanentError
from shared.models import YandexAccount, utcnow

from .test_yandex_accounts import accounts, age_the_pair, connect

WRONG_SECRET = "not-the-registered-secret"


def account_id(database) -> int:
    with database.read() as session:
        return session.scalars(select(YandexAccount.id)).one()


def needs_reconnect(anna) -> bool:
    return anna.request("GET", "/api/yandex/account").json()["needs_reconnect"]


def test_beat_with_the_apps_credentials_refused_keeps_the_account_and_logs_an_error(stack, anna, database,
                                                                                     caplog):
    connect(stack, anna)
    age_the_pair(database, days=91)
    refused = accounts(stack, database, yandex_client_secret=WRONG_SECRET)

    with caplog.at_level(logging.WARNING, logger="shared.yandex.accounts"):
        assert refused.refresh_ahead() == 0
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    assert "invalid_client" in caplog.text and WRONG_SECRET not in caplog.text
    assert needs_reconnect(anna) is False
    assert accounts(stack, database).refresh_ahead() == 1  # once the operator fixes the secret


def test_beat_with_another_refusal_keeps_the_account_and_warns(stack, anna, database, caplog):
    connect(stack, anna)
    age_the_pair(database, days=91)
    stack.telemost_faults(status=400, error_rate=1.0, path="/oauth/token", count=1)  # invalid_request

    with caplog.at_level(logging.WARNING, logger="shared.yandex.accounts"):
        assert accounts(stack, database).refresh_ahead() == 0
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "invalid_request" in caplog.text
    assert needs_reconnect(anna) is False
    assert accounts(stack, database).refresh_ahead() == 1  # the next run tries again


def test_a_live_call_with_the_apps_credentials_refused_blames_the_app_not_the_user(stack, anna, database):
    connect(stack, anna)
    with database.write() as session:  # the access token is about to expire, so the call must refresh it
        session.execute(update(YandexAccount).values(expires_at=utcnow()))

    with pytest.raises(PermanentError) as refused:
        accounts(stack, database, yandex_client_secret=WRONG_SECRET).token(account_id(database))
    assert refused.value.code == "yandex_app_refused"
    assert "app's own Yandex credentials" in str(refused.value) and "reconnect" not in str(refused.value)
    assert needs_reconnect(anna) is False

