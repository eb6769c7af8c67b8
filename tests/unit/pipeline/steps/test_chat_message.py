"""chat_message's decisions: post once, update on change, mark cancelled, move, recover a lost post
(shared/pipeline/steps/chat_message.py). The message shapes follow b24restdocs
api-reference/chats/messages/im-message-add.md (ATTACH, KEYBOARD), keyboards.md (LINK buttons),
attachments.md (ID, COLOR_TOKEN, BLOCKS) and im-message-update.md (KEYBOARD "N" removes the buttons);
the real portal's emulator meets them in tests/integration/test_chat_meetings.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.clients.errors import TransientError
from shared.pipeline.step import Answers
from shared.pipeline.steps import chat_message, invitations
from tests.unit.pipeline.fakes import FakeBitrix, applied, conference, outside

STEP = chat_message.STEP
CHAT = {"dialog_id": "chat1", "title": "Sales", "members": [{"id": 3, "name": "Boris"}, {"id": 4, "name": "Vera"}]}


def run(made, found=None, results=None, errors=None):
    """One attempt: the commands, then what the portal answered to them (every command succeeds unless told)."""
    commands = STEP.commands(outside(conference_=made), made, found)
    answers = Answers(results=results if results is not None else {k: 101 if k == "add" else True for k in commands},
                      errors=errors or {})
    applied(STEP.record(outside(conference_=made), made, commands, answers), made)
    return commands


def test_a_meeting_from_a_chat_is_posted_there_once_with_a_card_and_a_join_button():
    made = conference(chat=CHAT)
    assert STEP.wanted(made)
    commands = run(made)
    method, params = commands["add"]
    assert method == "im.message.add" and params["DIALOG_ID"] == "chat1"
    assert params["KEYBOARD"]["BUTTONS"][0]["LINK"] == made.join_url
    assert params["ATTACH"]["BLOCKS"][0] == {"MESSAGE": "[B]Planning[/B]"}
    assert made.join_url in params["MESSAGE"]  # what a lost post is found by
    assert run(made) == {}  # nothing changed: nothing sent


def test_an_edit_updates_the_message_and_a_cancel_marks_it_cancelled_without_its_button():
    made = conference(chat=CHAT)
    run(made)
    made.name = "Planning, moved"
    update = run(made)["update_0"]
    assert update[0] == "im.message.update" and update[1]["MESSAGE_ID"] == 101
    assert "Planning, moved" in update[1]["ATTACH"]["BLOCKS"][0]["MESSAGE"]
    made.cancel_requested = True
    assert STEP.wanted(made)
    cancel = run(made)["update_0"]
    assert cancel[1]["KEYBOARD"] == "N" and "cancelled" in cancel[1]["MESSAGE"]
    assert run(made) == {}


def test_a_move_to_another_chat_marks_the_old_post_and_posts_in_the_new_one():
    made = conference(chat=CHAT)
    run(made)
    made.chat = {"dialog_id": "chat2", "title": "Dev", "members": []}
    commands = run(made, results={"update_0": True, "add": 202})
    assert commands["update_0"][1]["KEYBOARD"] == "N" and commands["add"][1]["DIALOG_ID"] == "chat2"
    assert [(m["dialog_id"], m["message_id"]) for m in made.applied["chat_messages"]] == [("chat1", 101), ("chat2", 202)]


def test_a_post_whose_answer_was_lost_is_noted_first_then_found_and_never_made_twice():
    made = conference(chat=CHAT)
    commands = STEP.commands(outside(conference_=made), made, None)
    assert STEP.before_sending(made, commands) == {"chat_posting": "chat1"}
    made.applied = {**made.applied, "chat_posting": "chat1"}
    lost = TransientError("bitrix24", "timed out")
    applied(STEP.record(outside(conference_=made), made, commands, Answers(errors={"add": lost})), made)
    assert made.applied["chat_posting"] == "chat1"  # it may have been made: looked for next time
    portal = FakeBitrix({"im.dialog.messages.get": {"messages": [
        {"id": 101, "author_id": 5, "text": f"see {made.join_url}"},  # someone quoting the link
        {"id": 100, "author_id": 1, "text": f"Meeting in Yandex Telemost: Planning\n{made.join_url}"},
    ]}})
    found = STEP.recover(outside(bitrix=portal, conference_=made), made)
    assert found == {"dialog_id": "chat1", "message_id": 100, "shows": None}
    commands = run(made, found=found)
    assert list(commands) == ["update_0"]  # brought up to date, not posted again
    assert made.applied["chat_messages"][0]["message_id"] == 100 and made.applied["chat_posting"] is None


def busy_chat(made, card_id: int, total: int, since: datetime):
    """A chat of `total` messages one a second from `since`, the card at `card_id`; answers im.dialog.messages.get
    as im-dialog-messages-get.md says: the newest LIMIT, or those below LAST_ID."""
    def text(number: int) -> str:
        return f"Meeting in Yandex Telemost: Planning\n{made.join_url}" if number == card_id else f"message {number}"

    history = [{"id": n, "date": (since + timedelta(seconds=n)).isoformat(), "text": text(n)} for n in range(1, total + 1)]

    def answer(params):
        below = [m for m in reversed(history) if m["id"] < int(params.get("LAST_ID") or total + 1)]
        return {"messages": below[: params["LIMIT"]]}
    return answer


def test_a_lost_post_buried_under_newer_messages_is_found_by_reading_back_page_by_page():
    made = conference(chat=CHAT, created_at=datetime(2031, 5, 1, 9, 0, tzinfo=timezone.utc))
    made.applied = {**made.applied, "chat_posting": "chat1"}
    portal = FakeBitrix({"im.dialog.messages.get": busy_chat(made, card_id=30, total=400, since=made.created_at)})
    found = STEP.recover(outside(bitrix=portal, conference_=made), made)
    assert found == {"dialog_id": "chat1", "message_id": 30, "shows": None}
    pages = [params.get("LAST_ID") for _, params in portal.calls]
    assert pages == [None, 351, 301, 251, 201, 151, 101, 51] and all(p["LIMIT"] == 50 for _, p in portal.calls)


def test_reading_back_stops_at_messages_older_than_the_conference_or_at_the_start_of_the_chat():
    created = datetime(2031, 5, 1, 9, 0, tzinfo=timezone.utc)
    made = conference(chat=CHAT, created_at=created)
    made.applied = {**made.applied, "chat_posting": "chat1"}
    # 400 messages a second apart, the first written an hour before the conference: no card among them.
    portal = FakeBitrix({"im.dialog.messages.get": busy_chat(made, 0, 400, created - timedelta(hours=1))})
    assert STEP.recover(outside(bitrix=portal, conference_=made), made) is None
    assert len(portal.calls) == 1  # the newest page already ends before the conference (and its clock margin)
    made.created_at = None  # no date to stop at: read to the start of the chat, then stop
    portal = FakeBitrix({"im.dialog.messages.get": busy_chat(made, 0, 120, created)})
    assert STEP.recover(outside(bitrix=portal, conference_=made), made) is None
    assert [params.get("LAST_ID") for _, params in portal.calls] == [None, 71, 21, 1]


def test_chat_members_who_are_invitees_are_told_in_the_chat_not_notified_again():
    made = conference(chat=CHAT, invitees=[3, 5], invite_users=True)
    assert invitations.wanted_invitees(made) == [5]
    # One told before the chat was set is not told "no longer invited": they still are, in the chat.
    made.applied = {**made.applied, "invitees": [3, 5], "notice": None}
    commands = invitations.STEP.commands(outside(conference_=made), made, None)
    assert "user_3" not in commands
    made.cancel_requested = True  # a cancel reaches everyone told, the chat's members too
    assert "user_3" in invitations.STEP.commands(outside(conference_=made), made, None)


def test_a_failed_update_fails_the_step_and_keeps_what_was_posted():
    made = conference(chat=CHAT)
    run(made)
    made.name = "Renamed"
    refused = TransientError("bitrix24", "busy")
    commands = STEP.commands(outside(conference_=made), made, None)
    outcome = STEP.record(outside(conference_=made), made, commands, Answers(errors={"update_0": refused}))
    assert outcome.error is refused
    applied(outcome, made)
    assert STEP.commands(outside(conference_=made), made, None).keys() == {"update_0"}  # sent again next time
