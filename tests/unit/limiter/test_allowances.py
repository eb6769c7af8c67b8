"""The per-user and per-portal limits' policy (shared/limiter/allowances.py), without Redis; the limits at work are in
tests/security/test_limits.py."""
from __future__ import annotations

import logging

import pytest
from dotenv import dotenv_values

from shared.config import PROJECT_ROOT, SettingsError, load_settings
from shared.limiter.allowances import (CREATES, DEFAULT_SETTINGS, INVITATIONS, PORTAL, USER, Limit, Limiter, Policy,
                           quick_client)
from shared.limiter.cells import Cell

BASE = {"SECRET_KEY": "a-secret-key-long-enough"}


def test_every_limit_is_a_setting_listed_in_env_example_with_its_default():
    listed = dotenv_values(PROJECT_ROOT / ".env.example")
    assert {name: int(listed[name]) for name in DEFAULT_SETTINGS if name in listed} == DEFAULT_SETTINGS


def test_operators_set_limits_in_the_environment_and_a_bad_one_is_named():
    settings = load_settings({**BASE, "LIMIT_CREATES_PER_USER_PER_MINUTE": "5"}, env_file=None)
    assert settings.limits["LIMIT_CREATES_PER_USER_PER_MINUTE"] == 5
    assert settings.limits["LIMIT_CREATES_PER_USER_PER_DAY"] == DEFAULT_SETTINGS["LIMIT_CREATES_PER_USER_PER_DAY"]
    for bad in ("0", "lots", "-3"):
        with pytest.raises(SettingsError, match="LIMIT_EDITS_PER_PORTAL_PER_DAY"):
            load_settings({**BASE, "LIMIT_EDITS_PER_PORTAL_PER_DAY": bad}, env_file=None)


def test_no_default_is_below_what_one_request_may_need():
    # A conference has up to 100 invitees, and an edit may tell 100 removed and 100 invited.
    policy = Policy()
    assert all(limit.count >= 200 for limit in policy.limits if limit.action == INVITATIONS)
    assert all(limit.count >= 30 for limit in policy.limits if limit.action == CREATES and limit.scope == USER)


def test_a_request_touches_the_allowances_of_its_user_and_of_the_portal():
    policy = Policy({"LIMIT_CREATES_PER_USER_PER_MINUTE": 3})
    anna = {limit: cell for limit, cell in policy.cells("portal-a", 2, {CREATES: 1, INVITATIONS: 0})}
    ivan = {limit: cell for limit, cell in policy.cells("portal-a", 1, {CREATES: 1})}

    assert {(limit.scope, limit.window) for limit in anna} == {(USER, "minute"), (USER, "day"),
                                                               (PORTAL, "minute"), (PORTAL, "day")}
    assert all(limit.action == CREATES for limit in anna)  # nothing to invite: that allowance is untouched
    for limit in anna:
        same = limit.scope == PORTAL
        assert (anna[limit].key == ivan[limit].key) is same  # users share only the portal's allowance
    other_portal = {cell.key for _, cell in policy.cells("portal-b", 2, {CREATES: 1})}
    assert not other_portal & {cell.key for cell in anna.values()}


def test_an_allowance_is_a_burst_of_its_count_coming_back_evenly():
    cell = Cell.allowing("k", 3, 60)
    assert cell.interval_us == 20_000_000  # one back every 20 s
    assert cell.tolerance_us == 40_000_000  # the third of a burst may come 40 s "early"


def test_a_request_costing_more_than_a_whole_allowance_waits_for_all_of_it_rather_than_never_passing():
    policy = Policy({"LIMIT_INVITATIONS_PER_USER_PER_MINUTE": 50})
    costs = {limit: cell.cost for limit, cell in policy.cells("p", 2, {INVITATIONS: 100})}
    assert costs[Limit(INVITATIONS, USER, "minute", 50)] == 50
    assert costs[Limit(INVITATIONS, USER, "day", DEFAULT_SETTINGS["LIMIT_INVITATIONS_PER_USER_PER_DAY"])] == 100


@pytest.mark.parametrize("wait, retry_after, said", [(0.01, 1, "1 second"), (19.2, 20, "20 seconds"),
                                                     (119, 119, "119 seconds"), (600, 600, "10 minutes"),
                                                     (28_800, 28_800, "8 hours")])
def test_a_refusal_says_which_limit_and_when_to_try_again_in_whole_seconds(wait, retry_after, said):
    refusal = Policy.refusal(Limit(CREATES, USER, "minute", 30), wait)
    assert refusal.retry_after == retry_after
    assert refusal.message == f"You have reached your limit of 30 new conferences a minute. Try again in {said}."
    portal = Policy.refusal(Limit(INVITATIONS, PORTAL, "day", 100_000), wait).message
    assert portal == ("Your portal has reached its limit of 100,000 invitations and change notices a day, shared by "
                      f"everyone. Try again in {said}.")


def test_an_idempotency_key_marks_one_request_of_one_user():
    assert Policy.mark("p", 2, "key-1") != Policy.mark("p", 1, "key-1") != Policy.mark("p", 2, "key-2")
    assert "key-1" not in Policy.mark("p", 2, "key-1")  # what the client sent is hashed, not kept


def test_without_redis_everything_passes_and_the_log_says_so_once_in_a_while(caplog):
    limiter = Limiter(quick_client("redis://127.0.0.1:1/0"), {"LIMIT_CREATES_PER_USER_PER_MINUTE": 1})  # nothing there
    with caplog.at_level(logging.WARNING, logger="shared.limiter.allowances"):
        refusals = [limiter.charge("p", 2, {CREATES: 1}) for _ in range(5)]
    assert refusals == [None] * 5
    assert len([r for r in caplog.records if "limits unavailable" in r.getMessage()]) == 1


def test_nothing_to_charge_asks_nothing_of_redis():
    limiter = Limiter(quick_client("redis://127.0.0.1:1/0"))
    assert limiter.charge("p", 2, {INVITATIONS: 0}) is None
    assert limiter._warned_at == float("-inf")
