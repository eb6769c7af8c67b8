"""sync_cohosts' decisions (shared/pipeline/steps/cohosts.py), without a stack."""
from __future__ import annotations

import pytest

from shared.clients.errors import PermanentError
from shared.pipeline.steps.cohosts import STEP
from tests.unit.pipeline.fakes import FakeTelemost, applied, conference, outside


def test_only_the_difference_is_sent_and_what_was_done_is_recorded():
    made = conference(cohosts=["b@example.com", "c@example.com"],
                      applied={"cohosts": ["a@example.com", "b@example.com"]})
    telemost = FakeTelemost()
    after = applied(STEP.run(outside(telemost, conference_=made), made, None), made)
    assert telemost.calls == [("remove_cohosts", ("room-1", ["a@example.com"])),
                              ("add_cohosts", ("room-1", ["c@example.com"]))]
    assert after.applied["cohosts"] == ["b@example.com", "c@example.com"]


def test_nothing_to_change_asks_for_no_client():
    made = conference(cohosts=["a@example.com"], applied={"cohosts": ["a@example.com"]})
    assert STEP.run(outside(conference_=made), made, None).error is None


def test_a_cancel_clears_every_cohost():
    made = conference(cancel_requested=True, cohosts=["a@example.com"], applied={"cohosts": ["a@example.com"]})
    telemost = FakeTelemost()
    after = applied(STEP.run(outside(telemost, conference_=made), made, None), made)
    assert telemost.calls == [("clear_cohosts", ("room-1",))] and after.applied["cohosts"] == []


def test_unknown_cohosts_fail_the_step_after_the_others_are_added():
    unknown = PermanentError("Telemost", "no such users", code="NoSuchUserPrincipalsFound", status=400,
                             subjects=["ghost@nowhere.example"])
    made = conference(cohosts=["ghost@nowhere.example", "b@example.com"], applied={"cohosts": []})
    telemost = FakeTelemost(refuse={"add_cohosts": unknown})
    outcome = STEP.run(outside(telemost, conference_=made), made, None)
    assert outcome.error is unknown
    assert telemost.calls[-1] == ("add_cohosts", ("room-1", ["b@example.com"]))
    assert applied(outcome, made).applied["cohosts"] == ["b@example.com"]  # a partial success is kept


def test_a_refusal_of_another_account_is_explained():
    refused = PermanentError("Telemost", "forbidden", status=403)
    made = conference(cohosts=["b@example.com"], applied={"cohosts": []}, room_organiser="account:anna@example.com")
    telemost = FakeTelemost(organiser="organisation:abc", refuse={"add_cohosts": refused})
    with pytest.raises(PermanentError, match="Only the Yandex account that made a room"):
        STEP.run(outside(telemost, conference_=made), made, None)


@pytest.mark.parametrize("cohosts, have, wanted", [([], [], False), (["a@example.com"], [], True),
                                                   ([], ["a@example.com"], True)])
def test_it_is_wanted_while_there_are_cohosts_to_add_or_remove(cohosts, have, wanted):
    assert STEP.wanted(conference(cohosts=cohosts, applied={"cohosts": have})) is wanted
    assert STEP.waits_for == "create_room"
