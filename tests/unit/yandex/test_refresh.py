"""When beat renews a connected Yandex account's pair (Y2).

A refresh token lives exactly as long as its access token ("Время жизни токенов совпадает") and Yandex
recommends refreshing long-lived tokens every three months (yandex.ru/dev/id/doc/ru/tokens/refresh-client):
a pair is renewed at three months, or two thirds through its life if that comes first.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from shared.models import YandexAccount, utcnow
from shared.yandex.accounts import _refresh_due


def pair(age: timedelta, lifetime: timedelta) -> YandexAccount:
    issued = utcnow() - age
    return YandexAccount(token_issued_at=issued, expires_at=issued + lifetime, connected_at=issued)


@pytest.mark.parametrize("age, lifetime, due", [
    (timedelta(days=89), timedelta(days=365), False),
    (timedelta(days=91), timedelta(days=365), True),  # Yandex's three months, long before the year ends
    (timedelta(minutes=39), timedelta(hours=1), False),
    (timedelta(minutes=41), timedelta(hours=1), True),  # a short pair: two thirds through its life
    (timedelta(days=400), timedelta(days=365), True),  # already dead: tried, and marked for reconnecting
])
def test_a_pair_is_due_at_three_months_or_two_thirds_of_its_life(age, lifetime, due):
    assert _refresh_due(pair(age, lifetime)) is due


def test_a_pair_from_before_issue_times_were_kept_counts_from_its_connection():
    account = pair(timedelta(days=100), timedelta(days=365))
    account.token_issued_at = None
    assert _refresh_due(account) is True
