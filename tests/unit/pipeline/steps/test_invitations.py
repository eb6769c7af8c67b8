"""notify_invitees' decisions (shared/pipeline/steps/invitations.py), without a stack."""
from __future__ import annotations

from shared.clients.errors import PermanentError, TransientError
from shared.pipeline import bitrix_text
from shared.pipeline.step import Answers
from shared.pipeline.steps.invitations import STEP, told
from tests.unit.pipeline.fakes import applied, conference, outside


def planned(made):
    return STEP.commands(outside(conference_=made), made, None)


def kinds(commands) -> dict[str, str]:
    """Which message each key carries, by its first words."""
    return {key: params["MESSAGE"].split("]", 2)[-1].split("«")[0].strip() for key, (_, params) in commands.items()}


def test_new_invitees_are_invited_with_the_apps_client_id_and_one_tag_each():
    commands = planned(conference(invite_users=True, invitees=[3, 4]))
    assert list(commands) == ["user_3", "user_4"]
    method, params = commands["user_3"]
    assert method == "im.notify.system.add" and params["CLIENT_ID"] == "app"
    assert params["TAG"] == "telemost|abc123|3" and "invites you" in params["MESSAGE"]


def test_after_an_edit_only_the_removed_and_those_to_tell_again_hear_of_it():
    before = conference(invite_users=True, invitees=[3, 4])
    was_told = told(before)
    same_time = conference(invite_users=True, invitees=[3, 5], applied=was_told)
    assert kinds(planned(same_time)) == {"user_5": "invites you to the meeting", "user_4": "no longer invites you to"}
    moved = conference(invite_users=True, invitees=[3], applied=was_told, duration_minutes=90)
    assert kinds(planned(moved)) == {"user_3": "changed", "user_4": "no longer invites you to"}


def test_a_cancel_reaches_everyone_told_and_everyone_a_lost_batch_may_have_invited():
    made = conference(cancel_requested=True, invite_users=True, invitees=[3],
                      applied={"invitees": [3], "sending": {"invitees": [3, 6]}})
    assert kinds(planned(made)) == {"user_3": "cancelled", "user_6": "cancelled"}


def test_who_a_batch_invites_is_noted_before_it_goes():
    made = conference(invite_users=True, invitees=[3])
    assert STEP.before_sending(made, planned(made)) == {"sending": told(made)}
    again = conference(invite_users=True, invitees=[3], applied=told(made), name="Renamed")
    assert STEP.before_sending(again, planned(again)) is None  # a change notice invites no one new


def test_success_records_what_the_invitees_now_know():
    made = conference(invite_users=True, invitees=[3], applied={"sending": {"invitees": [3]}})
    after = applied(STEP.record(outside(conference_=made), made, planned(made), Answers(results={"user_3": 1})), made)
    assert after.applied["invitees"] == [3] and after.applied["notice"] == bitrix_text.notice(made)
    assert after.applied["sending"] is None


def test_failed_notifications_name_the_users_and_a_transient_one_decides_the_retry():
    made = conference(invite_users=True, invitees=[3, 4])
    outcome = STEP.record(outside(conference_=made), made, planned(made), Answers(errors={
        "user_4": PermanentError("Bitrix24", "no such user"), "user_3": TransientError("Bitrix24", "busy")}))
    assert outcome.error.transient and outcome.error.message.startswith("Could not notify users 3, 4: busy")
    assert outcome.apply is None  # nothing proves who was told: everyone hears again (the TAG replaces)


def test_it_is_wanted_while_someone_is_to_be_told():
    assert not STEP.wanted(conference(invitees=[3]))  # invite_users off
    assert STEP.wanted(conference(invite_users=True, invitees=[3]))
    assert STEP.wanted(conference(applied={"invitees": [3]}))  # told before: hears of the change
    assert STEP.wanted(conference(applied={"sending": {"invitees": [3]}}))  # a lost batch may have told them
