"""The short chaos run of `make test` (issue 6): 120 conferences while everything fails in turn, then
every promise checked. `make chaos` runs the long one (docs/chaos.md)."""

from __future__ import annotations

from .audit import table
from .run import Plan, chaos_run, describe


def test_a_meeting_asked_for_is_a_meeting_made_once_whatever_fails(tmp_path):
    plan = Plan(conferences=120)  # 48 s of load: each disruption at least once (disruptions.py)
    result = chaos_run(plan, tmp_path)

    print(f"\nchaos run: {describe(plan)}\n{table(result.figures)}")
    assert result.problems == [], "\n".join(result.problems)
