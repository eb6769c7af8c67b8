"""Leases on a real Redis (shared/limiter/leases.py): one holder per key, or one of a few; only the holder
lets go; a holder that died keeps others out only as long as the lease lives. The Bitrix24 worker keeps one
sender per portal and owner, and at most two per portal, with them (worker/tasks/conferences.py)."""
from __future__ import annotations

import time

import pytest
import redis

from shared.limiter.leases import Leases


@pytest.fixture
def leases(stack, request):
    client = redis.Redis(port=stack.redis_port)
    prefix = f"test:leases:{request.node.name}:"
    yield Leases(client, prefix, seconds=0.3)
    for key in client.keys(prefix + "*"):
        client.delete(key)


def test_one_holder_per_key_and_the_next_gets_it_once_let_go(leases):
    with leases.held("portal:owner") as first:
        assert first is not None
        with leases.held("portal:owner") as second, leases.held("portal:other") as other:
            assert second is None and other is not None
    with leases.held("portal:owner") as again:
        assert again is not None


def test_a_few_holders_share_a_key_and_the_one_beyond_them_waits(leases):
    with leases.held("portal", 2) as a, leases.held("portal", 2) as b, leases.held("portal", 2) as c:
        assert a is not None and b is not None and a.key != b.key
        assert c is None
    with leases.held("portal", 2) as a:
        assert a is not None and a.key.endswith("#0")  # both let go: the first slot is free again


def test_a_lease_of_a_holder_that_died_lapses_and_renewing_keeps_a_live_one(leases):
    with leases.held("kept") as kept, leases.held("dropped") as dropped:
        for _ in range(4):
            time.sleep(0.1)
            kept.renew()
        with leases.held("kept") as rival_of_kept, leases.held("dropped") as rival_of_dropped:
            assert rival_of_kept is None  # renewed within its lifetime
            assert rival_of_dropped is not None  # 0.4 s without a renewal: lapsed
            # The first holder's leaving must not delete the lease its rival now holds.
    assert dropped is not None


def test_a_late_holder_does_not_delete_the_lease_another_took_after_it_lapsed(leases):
    with leases.held("slow") as slow:
        assert slow is not None
        time.sleep(0.4)
        with leases.held("slow") as rival:
            assert rival is not None
            slow.renew()  # renewing a lease it no longer holds does nothing
            leases.release_script(keys=[slow.key], args=[slow.token])  # as its leaving does: a no-op
            with leases.held("slow") as third:
                assert third is None


def test_without_redis_everyone_holds_and_the_work_goes_on_unshared():
    leases = Leases(redis.Redis(port=1, socket_connect_timeout=0.2), "test:", seconds=1)
    with leases.held("portal", 2) as a, leases.held("portal", 2) as b, leases.held("portal", 2) as c:
        assert None not in (a, b, c)
