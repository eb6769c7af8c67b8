"""The short chaos run on PostgreSQL, in `make test`'s PostgreSQL pass (scripts/with-postgres.sh): two hosts
(a web and both workers each) on one database and one Redis, PostgreSQL restarted fast and then as after a
crash, workers killed on both hosts, Redis stopped, the emulators failing, and a backup taken during the
load restored and audited. `make chaos DB=postgres` runs the long one (docs/chaos.md)."""

from __future__ import annotations

import pytest

from .audit import table
from .run import Plan, chaos_run, describe, on_postgres

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="needs TEST_DATABASE_URL (scripts/with-postgres.sh)"
)


def test_two_hosts_on_postgresql_lose_and_double_nothing_through_restarts(tmp_path):
    plan = Plan(conferences=50, per_second=2.5, kill_every=4.0, settle_timeout=120)
    result = chaos_run(plan, tmp_path)

    print(f"\nchaos run: {describe(plan)}\n{table(result.figures)}")
    assert result.problems == [], "\n".join(result.problems)
    assert "none" not in result.figures["PostgreSQL restarts (mode, time to accept connections again)"]
