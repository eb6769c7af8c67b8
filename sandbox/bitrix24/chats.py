"""The messenger: group chats with members and messages, and what the app calls on them (scope im).

Pages (b24restdocs): api-reference/chats/im-dialog-get.md, chats/chat-users/im-dialog-users-list.md,
chats/messages/im-message-add.md, im-message-update.md, im-dialog-messages-get.md, attachments.md and
keyboards.md. A caller who is not a member gets ACCESS_ERROR (403) from each, as the pages' error tables
say. A personal dialog (DIALOG_ID = a user's id) exists between any two active users; its data here is the
other user's name (INVENTED in detail: im-dialog-get.md shows a group chat only). Messages are kept with
ATTACH and KEYBOARD as sent, in `params` as im.dialog.messages.get shows a message's parameters; newest first.
"""
from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import RestError
from .methods import Caller, method
from .params import as_int, get_ci, is_yes

if TYPE_CHECKING:
    from .portal import Portal

GROUP = re.compile(r"(chat|sg)([1-9][0-9]*)")
MAX_USERS_PAGE = 200  # im-dialog-users-list.md: LIMIT "Maximum value: 200"


@dataclass
class Chat:
    id: int
    name: str
    owner: int
    members: list[int]

    @property
    def dialog_id(self) -> str:
        return f"chat{self.id}"


@dataclass
class Message:
    id: int
    dialog_id: str
    author_id: int
    text: str
    attach: Any
    keyboard: Any
    date: str
    edited: bool = False

    def as_rest(self, chat_id: int) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.attach:
            params["ATTACH"] = self.attach
        if self.keyboard:
            params["KEYBOARD"] = self.keyboard
        return {"id": self.id, "chat_id": chat_id, "author_id": self.author_id, "date": self.date,
                "text": self.text, "unread": False, "params": params or [], "replaces": []}

    def as_state(self) -> dict[str, Any]:
        return {"id": self.id, "author_id": self.author_id, "text": self.text, "attach": self.attach,
                "keyboard": self.keyboard, "edited": self.edited, "date": self.date}


@dataclass
class ChatStore:
    chats: list[Chat] = field(default_factory=lambda: [
        # Seeded so that every user is outside some chat (tests use both ways).
        Chat(1, "Отдел продаж", 1, [1, 2, 3, 4]),
        Chat(2, "Планёрка разработки", 3, [1, 3, 5, 6]),
    ])
    messages: list[Message] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1001))

    def state(self) -> list[dict[str, Any]]:
        return [{"dialog_id": chat.dialog_id, "name": chat.name, "members": list(chat.members),
                 "messages": [m.as_state() for m in self.messages if m.dialog_id == chat.dialog_id]}
                for chat in self.chats]


def _no_access() -> RestError:
    return RestError(403, "ACCESS_ERROR", "You do not have access to the specified dialog")


def _dialog(portal: "Portal", caller: Caller, params: dict[str, Any]) -> tuple[str, Chat | None, list[int]]:
    """(dialog id, the group chat or None for a personal dialog, its members); refused as the pages say."""
    dialog_id = str(get_ci(params, "DIALOG_ID") or "").strip()
    if not dialog_id:
        raise RestError(400, "DIALOG_ID_EMPTY", "Dialog ID can't be empty")
    group = GROUP.fullmatch(dialog_id)
    if group:
        chat = next((c for c in portal.chats.chats if c.id == int(group.group(2))), None)
        if chat is None or caller.user.id not in chat.members:
            raise _no_access()
        return dialog_id, chat, chat.members
    other = portal.users.get(int(dialog_id)) if dialog_id.isdigit() else None
    if other is None or not other.active:
        raise _no_access()
    return dialog_id, None, sorted({caller.user.id, other.id})


def dialog_get(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    dialog_id, chat, members = _dialog(portal, caller, params)
    if chat is None:
        other = portal.users.get(int(dialog_id))
        return {"id": 0, "dialog_id": dialog_id, "name": other.full_name, "type": "private",
                "user_counter": 2, "owner": 0, "entity_type": "", "entity_id": ""}
    return {"id": chat.id, "dialog_id": dialog_id, "name": chat.name, "owner": chat.owner, "type": "chat",
            "user_counter": len(members), "message_count": sum(m.dialog_id == dialog_id for m in portal.chats.messages),
            "entity_type": "", "entity_id": "", "extranet": False, "role": "owner" if chat.owner == caller.user.id
            else "member"}


def dialog_users_list(portal: "Portal", caller: Caller, params: dict[str, Any]) -> list[dict[str, Any]]:
    _, _, members = _dialog(portal, caller, params)
    limit = min(int(get_ci(params, "LIMIT") or 50), MAX_USERS_PAGE)
    offset = int(get_ci(params, "OFFSET") or 0)
    rows = []
    for user_id in members[offset:offset + limit]:
        user = portal.users.get(user_id)
        rows.append({"id": user.id, "active": user.active, "name": user.full_name, "first_name": user.name,
                     "last_name": user.last_name, "work_position": user.position, "email": user.email,
                     "bot": False, "extranet": False, "type": "user"})
    return rows


def _structure(params: dict[str, Any], name: str) -> Any:
    """ATTACH and KEYBOARD come as an object, or as its JSON text (the pages type them object and string)."""
    value = get_ci(params, name)
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            raise RestError(400, f"{name}_ERROR", f"Incorrect {name.lower()} params") from None
    return value


def _keyboard(params: dict[str, Any]) -> Any:
    keyboard = _structure(params, "KEYBOARD")
    if keyboard in (None, "", "N"):
        return None
    buttons = keyboard.get("BUTTONS") if isinstance(keyboard, dict) else keyboard
    buttons = list(buttons.values()) if isinstance(buttons, dict) else buttons  # a PHP array from a batch
    # keyboards.md, "Minimum Structure": each button has TEXT and one action (LINK, ACTION, COMMAND), or is
    # a NEWLINE.
    if not isinstance(buttons, list) or not all(
        isinstance(b, dict) and (b.get("TYPE") == "NEWLINE" or (b.get("TEXT") and (b.get("LINK") or b.get("ACTION")
                                                                               or b.get("COMMAND"))))
        for b in buttons
    ):
        raise RestError(400, "KEYBOARD_ERROR", "Incorrect keyboard params")
    return {"BUTTONS": buttons}


def _attach(params: dict[str, Any]) -> Any:
    attach = _structure(params, "ATTACH")
    if attach in (None, "", "N"):
        return None
    blocks = attach.get("BLOCKS") if isinstance(attach, dict) else attach
    if not isinstance(blocks, (list, dict)) or not blocks:  # attachments.md: blocks, short or full form
        raise RestError(400, "ATTACH_ERROR", "Incorrect attach params")
    return attach


def message_add(portal: "Portal", caller: Caller, params: dict[str, Any]) -> int:
    dialog_id, _, _ = _dialog(portal, caller, params)
    text = str(get_ci(params, "MESSAGE") or "")
    attach, keyboard = _attach(params), _keyboard(params)
    if not text.strip() and not attach:
        raise RestError(400, "MESSAGE_EMPTY", "Message can't be empty")
    message = Message(next(portal.chats.ids), dialog_id, caller.user.id, text, attach, keyboard,
                      datetime.fromtimestamp(portal.now(), timezone.utc).isoformat())
    portal.chats.messages.append(message)
    return message.id


def message_update(portal: "Portal", caller: Caller, params: dict[str, Any]) -> bool:
    raw = str(get_ci(params, "MESSAGE_ID") or "")
    message = next((m for m in portal.chats.messages if raw.isdigit() and m.id == int(raw)), None)
    if message is None:
        raise RestError(400, "MESSAGE_ID_ERROR", "Message ID can't be empty")
    if message.author_id != caller.user.id:  # "No permission to edit the message"
        raise RestError(400, "CANT_EDIT_MESSAGE", "Time has expired for modification or you don't have access")
    if get_ci(params, "MESSAGE") is not None:
        message.text = str(get_ci(params, "MESSAGE"))
    if get_ci(params, "ATTACH") is not None:  # "To remove the attachment, pass N or an empty value"
        message.attach = _attach(params)
    if get_ci(params, "KEYBOARD") is not None:  # "To disable button display, pass N or an empty value"
        message.keyboard = _keyboard(params)
    message.edited = is_yes(get_ci(params, "IS_EDITED") or "Y")
    return True


def dialog_messages_get(portal: "Portal", caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    dialog_id, chat, _ = _dialog(portal, caller, params)
    # b24restdocs api-reference/chats/messages/im-dialog-messages-get.md: LIMIT "Default 20. The maximum value
    # is 50"; LAST_ID "messages with an identifier smaller", FIRST_ID "larger". UNVERIFIED: the page does not
    # say the order of a FIRST_ID page (newest first here, as without it), which wins when both are given
    # (LAST_ID), nor what a non-number does (ignored). The app only pages backwards with LAST_ID.
    limit = max(1, min(as_int(get_ci(params, "LIMIT")) or 20, 50))
    last_id, first_id = as_int(get_ci(params, "LAST_ID")), as_int(get_ci(params, "FIRST_ID"))
    newest_first = sorted((m for m in portal.chats.messages if m.dialog_id == dialog_id), key=lambda m: -m.id)
    if last_id:  # "messages with an identifier smaller than the specified one"
        chosen = [m for m in newest_first if m.id < last_id][:limit]
    elif first_id:  # "up to LIMIT messages with an identifier larger than the specified one"
        chosen = [m for m in reversed(newest_first) if m.id > first_id][:limit][::-1]
    else:
        chosen = newest_first[:limit]
    chat_id = chat.id if chat else 0
    return {"chat_id": chat_id, "messages": [m.as_rest(chat_id) for m in chosen], "users": [], "files": []}


METHODS = {
    "im.dialog.get": method(dialog_get, "im"),
    "im.dialog.users.list": method(dialog_users_list, "im"),
    "im.message.add": method(message_add, "im"),
    "im.message.update": method(message_update, "im"),
    "im.dialog.messages.get": method(dialog_messages_get, "im"),
}
