"""A meeting from a chat (issue 16): validated with the portal as the caller, posted into the chat as a card
with a Join button, updated by an edit, marked cancelled by a cancel; its members are not notified twice.
Through the real API, worker and the Bitrix24 emulator's chats (tests/sandbox/test_bitrix24_chats.py holds
the emulator to b24restdocs api-reference/chats/...)."""
from __future__ import annotations

import requests

from shared.clients.bitrix24 import php_query
from shared.models import Conference
from shared.pipeline.steps import chat_message
from tests.support.processes import wait_until

from .test_edit_cancel import edit, notifications, ready
from .test_pipeline import meeting, step


def chat(stack, dialog_id: str) -> dict:
    return next(c for c in stack.bitrix_state()["chats"] if c["dialog_id"] == dialog_id)


def a_chat_of(stack, user_id: int, without: int | None = None) -> dict:
    """A group chat the user is a member of (and, with `without`, that user is not)."""
    return next(c for c in stack.bitrix_state()["chats"]
                if user_id in c["members"] and (without is None or without not in c["members"]))


def test_the_chat_is_answered_to_its_members_only(stack, anna):
    mine = a_chat_of(stack, 2)
    answer = anna.request("GET", f"/api/bitrix/chats/{mine['dialog_id']}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["dialog_id"] == mine["dialog_id"] and body["title"] == mine["name"]
    assert {m["id"] for m in body["members"]} == set(mine["members"]) - {2}  # the caller is not their own invitee
    not_mine = next(c for c in stack.bitrix_state()["chats"] if 2 not in c["members"])
    assert anna.request("GET", f"/api/bitrix/chats/{not_mine['dialog_id']}").status_code == 404
    assert anna.request("GET", "/api/bitrix/chats/chat1;drop").status_code == 404


def test_a_meeting_for_a_chat_of_someone_else_is_refused_naming_the_field(stack, anna):
    not_mine = next(c for c in stack.bitrix_state()["chats"] if 2 not in c["members"])
    answer = anna.request("POST", "/api/conferences", json=meeting(chat={"dialog_id": not_mine["dialog_id"]}))
    assert answer.status_code == 422
    assert answer.json()["error"]["field_codes"]["chat.dialog_id"]["code"] == "not_a_chat_member"
    bad = anna.request("POST", "/api/conferences", json=meeting(chat={"dialog_id": "general"}))
    assert bad.status_code == 422 and bad.json()["error"]["field_codes"]["chat.dialog_id"]["code"] == "not_a_dialog"
    assert stack.telemost_state()["conferences"] == []  # nothing made


def test_a_meeting_from_a_chat_is_posted_there_updated_and_marked_cancelled(stack, anna):
    room = a_chat_of(stack, 2)
    members = [m for m in room["members"] if m != 2]
    outsider = next(u["id"] for u in stack.bitrix_state()["users"] if u["id"] not in room["members"])
    done = ready(anna, meeting(chat={"dialog_id": room["dialog_id"]}, invitees=[*members[:2], outsider]))
    assert done["chat"] == {"dialog_id": room["dialog_id"], "title": room["name"]}
    assert step(done, "chat_message")["state"] == "done"

    posts = chat(stack, room["dialog_id"])["messages"]
    assert len(posts) == 1
    post = posts[0]
    assert post["author_id"] == 2  # written as the organiser, with their own authorisation
    assert done["join_url"] in post["text"] and "Weekly sync" in str(post["attach"])
    assert post["keyboard"]["BUTTONS"][0]["LINK"] == done["join_url"]
    # Members of the chat learn of it there; only the one outside the chat gets a notification.
    assert set(notifications(stack)) == {outsider}

    assert edit(anna, done, name="Weekly sync (moved)", chat={"dialog_id": room["dialog_id"]}).status_code == 202
    edited = anna.wait_final(done["id"])
    assert edited["status"] == "ready", edited["steps"]
    posts = chat(stack, room["dialog_id"])["messages"]
    assert len(posts) == 1 and "Weekly sync (moved)" in str(posts[0]["attach"])

    assert anna.request("DELETE", f"/api/conferences/{done['id']}").status_code == 202
    cancelled = anna.wait_final(done["id"])
    assert cancelled["status"] == "cancelled", cancelled["steps"]
    posts = chat(stack, room["dialog_id"])["messages"]
    assert len(posts) == 1 and "cancelled" in posts[0]["text"] and not posts[0]["keyboard"]


def test_a_post_whose_answer_is_lost_is_found_again_not_made_twice(stack, database, anna):
    """The first batch reached the portal, which posted the card, while its answer was lost (a 503 with a
    Retry-After): the next attempt reads the chat, finds the post by its first line and link, updates it."""
    room = a_chat_of(stack, 2)
    # The room is slow, so the API's own look at the chat is past before the worker's first batch fails.
    stack.telemost_faults(latency_ms=1500)
    created = anna.create(meeting(chat={"dialog_id": room["dialog_id"]}, invitees=[], start_at=None))
    stack.bitrix_faults(error_rate=1, status=503, retry_after=3, path="batch", count=1)
    stack.telemost_faults()
    wait_until(lambda: step(anna.get(created["id"]), "chat_message")["attempts"] == 1
               and step(anna.get(created["id"]), "chat_message")["state"] == "pending", 20, "the first batch failed")
    with database.read() as session:
        card = chat_message.card(session.get(Conference, created["id"]))
    token = requests.post(f"{stack.bitrix_url}/_sandbox/tokens", json={"user_id": 2}, timeout=5).json()["access_token"]
    posted = requests.post(f"{stack.bitrix_url}/rest/im.message.add",
                           data=php_query({"DIALOG_ID": room["dialog_id"], **card, "auth": token}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
    assert posted.status_code == 200, posted.text

    done = anna.wait_final(created["id"], timeout=60)
    assert done["status"] == "ready", done["steps"]
    posts = chat(stack, room["dialog_id"])["messages"]
    assert [p["id"] for p in posts] == [posted.json()["result"]]
