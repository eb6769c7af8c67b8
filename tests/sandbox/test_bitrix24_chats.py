"""The emulated messenger (sandbox/bitrix24/chats.py) and the placement launch, held to b24restdocs."""
from __future__ import annotations

import json

from flask.testing import FlaskClient

from shared.clients.bitrix24 import php_query

from .test_bitrix24_emulator import call, client, token_for  # noqa: F401  (client is a fixture)

CARD = {"ID": 1, "COLOR_TOKEN": "primary", "BLOCKS": [{"MESSAGE": "[B]Planning[/B]"}]}
JOIN = {"BUTTONS": [{"TEXT": "Join", "LINK": "https://telemost.yandex.ru/j/1"}]}


def test_a_member_reads_the_chat_and_its_members_an_outsider_gets_access_error(client: FlaskClient) -> None:
    """im-dialog-get.md (fields id, name, owner, type; 403 ACCESS_ERROR "You do not have access to the specified
    dialog"; 400 DIALOG_ID_EMPTY) and im-dialog-users-list.md (id, name, first_name, ..., same ACCESS_ERROR)."""
    anna, dmitry = token_for(client, 2), token_for(client, 5)
    chat = call(client, "im.dialog.get", anna, DIALOG_ID="chat1").json["result"]
    assert (chat["id"], chat["name"], chat["type"]) == (1, "Отдел продаж", "chat")
    members = call(client, "im.dialog.users.list", anna, DIALOG_ID="chat1").json["result"]
    assert [m["id"] for m in members] == [1, 2, 3, 4] and members[1]["name"] == "Anna Smirnova"
    refused = call(client, "im.dialog.get", dmitry, DIALOG_ID="chat1")
    assert refused.status_code == 403 and refused.json["error"] == "ACCESS_ERROR"
    assert call(client, "im.dialog.users.list", dmitry, DIALOG_ID="chat1").json["error"] == "ACCESS_ERROR"
    assert call(client, "im.dialog.get", anna, DIALOG_ID="").json["error"] == "DIALOG_ID_EMPTY"
    # A personal dialog is a user's id (im-message-add.md, DIALOG_ID "XXX"): between any two active users.
    assert call(client, "im.dialog.get", dmitry, DIALOG_ID="2").json["result"]["name"] == "Anna Smirnova"


def test_a_message_with_a_card_and_a_button_is_posted_by_a_member_and_edited_only_by_its_author(client) -> None:
    """im-message-add.md (answers the message id; MESSAGE_EMPTY without MESSAGE and ATTACH; ACCESS_ERROR),
    attachments.md (ID, COLOR_TOKEN, BLOCKS), keyboards.md (BUTTONS with TEXT and LINK; KEYBOARD_ERROR),
    im-message-update.md (CANT_EDIT_MESSAGE for someone else's; KEYBOARD "N" removes the buttons)."""
    anna, sergey, dmitry = token_for(client, 2), token_for(client, 3), token_for(client, 5)
    posted = call(client, "im.message.add", anna, DIALOG_ID="chat1", MESSAGE="Planning", ATTACH=CARD, KEYBOARD=JOIN)
    message_id = posted.json["result"]
    assert isinstance(message_id, int)
    assert call(client, "im.message.add", anna, DIALOG_ID="chat1").json["error"] == "MESSAGE_EMPTY"
    assert call(client, "im.message.add", dmitry, DIALOG_ID="chat1", MESSAGE="hi").json["error"] == "ACCESS_ERROR"
    bad = call(client, "im.message.add", anna, DIALOG_ID="chat1", MESSAGE="x", KEYBOARD={"BUTTONS": [{"TEXT": "no action"}]})
    assert bad.json["error"] == "KEYBOARD_ERROR"
    assert call(client, "im.message.update", sergey, MESSAGE_ID=message_id, MESSAGE="mine").json["error"] == \
        "CANT_EDIT_MESSAGE"
    assert call(client, "im.message.update", anna, MESSAGE_ID=message_id, MESSAGE="Cancelled",
                KEYBOARD="N").json["result"] is True
    state = next(c for c in client.get("/_sandbox/state").json["chats"] if c["dialog_id"] == "chat1")
    assert state["messages"] == [{"id": message_id, "author_id": 2, "text": "Cancelled", "attach": CARD,
                                  "keyboard": None, "edited": True, "date": state["messages"][0]["date"]}]


def test_messages_are_read_newest_first_with_their_params_and_arrive_through_a_batch(client) -> None:
    """im-dialog-messages-get.md: {chat_id, messages: [{id, chat_id, author_id, date, text, params}], users};
    batch commands are PHP query strings (settings/how-to-call-rest-api/batch.md), nested KEYBOARD included."""
    anna = token_for(client, 2)
    command = "im.message.add?" + php_query({"DIALOG_ID": "chat1", "MESSAGE": "second", "KEYBOARD": JOIN})
    call(client, "im.message.add", anna, DIALOG_ID="chat1", MESSAGE="first")
    batch = call(client, "batch", anna, halt=0, cmd={"post": command}).json["result"]
    assert batch["result_error"] in ([], {})
    read = call(client, "im.dialog.messages.get", anna, DIALOG_ID="chat1", LIMIT=10).json["result"]
    assert read["chat_id"] == 1 and [m["text"] for m in read["messages"]] == ["second", "first"]
    assert read["messages"][0]["params"]["KEYBOARD"]["BUTTONS"][0]["LINK"] == JOIN["BUTTONS"][0]["LINK"]


def test_history_pages_backwards_with_last_id_and_forwards_with_first_id(client) -> None:
    """im-dialog-messages-get.md: LAST_ID "will return messages with an identifier smaller than the specified
    one" ("pass to LAST_ID the minimum id from the received messages"), FIRST_ID those larger, LIMIT at most 50."""
    anna = token_for(client, 2)
    for first in (0, 30):  # in batches: sixty calls in a row would meet the portal's rate limit
        posts = {f"m{n}": "im.message.add?" + php_query({"DIALOG_ID": "chat1", "MESSAGE": f"m{n}"})
                 for n in range(first, first + 30)}
        call(client, "batch", anna, halt=1, cmd=posts)

    def texts(**params):
        read = call(client, "im.dialog.messages.get", anna, DIALOG_ID="chat1", **params).json["result"]
        return [m["text"] for m in read["messages"]], [m["id"] for m in read["messages"]]

    newest, ids = texts(LIMIT=100)
    assert len(newest) == 50 and newest[0] == "m59" and newest[-1] == "m10"  # LIMIT capped at 50
    older, older_ids = texts(LIMIT=50, LAST_ID=min(ids))
    assert older == [f"m{n}" for n in range(9, -1, -1)]
    assert texts(LAST_ID=min(older_ids))[0] == []  # before the first message: nothing
    after, _ = texts(LIMIT=3, FIRST_ID=min(ids))
    assert after == ["m13", "m12", "m11"]  # the three next after m10, newest first like every answer


def test_a_bound_placement_opens_with_its_options_and_an_unbound_one_is_409(client) -> None:
    """widgets/im/textarea.md, "What the Handler Receives": the launch's fields with PLACEMENT=IM_TEXTAREA and
    PLACEMENT_OPTIONS a JSON string {"dialogId", ...}; placement-bind.md binds it (admin, app context)."""
    assert client.post("/_sandbox/placement", json={"user_id": 2, "placement": "IM_TEXTAREA"}).status_code == 409
    admin = token_for(client, 1, scope="bizproc,calendar,crm,im,placement,user")
    bound = call(client, "placement.bind", admin, PLACEMENT="IM_TEXTAREA", HANDLER="http://app.example/",
                 OPTIONS={"iconName": "fa-video-camera"})
    assert bound.json.get("result") is True, bound.json
    opened = client.post("/_sandbox/placement", json={"user_id": 2, "placement": "IM_TEXTAREA",
                                                      "options": {"dialogId": "chat1", "URI": "/online/"}}).json
    assert opened["url"].startswith("http://app.example/?")
    assert opened["form"]["PLACEMENT"] == "IM_TEXTAREA"
    assert json.loads(opened["form"]["PLACEMENT_OPTIONS"]) == {"dialogId": "chat1", "URI": "/online/"}
