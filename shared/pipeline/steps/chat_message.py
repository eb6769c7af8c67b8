"""chat_message: the meeting posted into the chat it was started from, as a card with a Join button, written
as its organiser; an edit updates the card, a cancel (or a move to another chat) marks it cancelled.

The message is im.message.add with ATTACH (a card: b24restdocs api-reference/chats/messages/attachments.md)
and KEYBOARD (LINK buttons: chats/messages/keyboards.md); it is changed with im.message.update, where
KEYBOARD "N" removes the buttons (chats/messages/im-message-update.md). A message has no idempotency key,
so before a batch that posts one the chat is noted ("chat_posting"); after a lost answer the chat's
history is read back from the newest (chats/messages/im-dialog-messages-get.md: LAST_ID pages backwards) and
the message that begins as the card does and carries this room's join link is taken as posted: never two
cards for one meeting in one chat, even in a busy chat where the lost post is no longer among the newest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from shared.models import Conference
from shared.pipeline.bitrix_text import bb_text, local_times
from shared.pipeline.step import Answers, BitrixStep, Commands, Outcome, Outside, digest, remember
from shared.pipeline.steps import room

NAME = "chat_message"
PAGE = 50  # im-dialog-messages-get.md: LIMIT is at most 50
PAGES_READ = 20  # how far back a lost post is looked for, at most: 1000 messages
# A card cannot be older than its conference; the margin covers the portal's clock running ahead of ours.
CLOCK_MARGIN = timedelta(minutes=10)
COLOR = "primary"
CARD_PREFIXES = ("Meeting in Yandex Telemost:", "Broadcast in Yandex Telemost:")


def wanted_dialog(conference: Conference) -> str | None:
    if conference.cancel_requested or not conference.chat:
        return None
    return str(conference.chat["dialog_id"])


def _posted(conference: Conference) -> list[dict]:
    return list((conference.applied or {}).get("chat_messages", []))


def _when(conference: Conference) -> str:
    if conference.start_at is None:
        return "Any time"
    start, _ = local_times(conference)
    return f"{start[:16]} ({conference.timezone}), {conference.duration_minutes} min"


def card(conference: Conference) -> dict:
    """What the message shows now: the meeting's name, time and organiser, and its Join (and Watch) button."""
    kind = "Broadcast" if conference.type == "broadcast" else "Meeting"
    name = bb_text(conference.name)
    blocks: list[dict[str, Any]] = [
        {"MESSAGE": f"[B]{name}[/B]"},
        {
            "GRID": [
                {"NAME": "When", "VALUE": _when(conference), "DISPLAY": "LINE"},
                {"NAME": "Organiser", "VALUE": bb_text(conference.owner_name), "DISPLAY": "LINE"},
            ]
        },
    ]
    buttons = [{"TEXT": f"Join the {kind.lower()}", "LINK": conference.join_url, "BG_COLOR_TOKEN": "primary"}]
    if conference.watch_url:
        buttons.append({"TEXT": "Watch the broadcast", "LINK": conference.watch_url})
    return {
        # The text carries the link too: it is what a notification or a search shows, and how a lost post is found.
        "MESSAGE": f"{kind} in Yandex Telemost: [B]{name}[/B]\n[URL={conference.join_url}]{conference.join_url}[/URL]",
        "ATTACH": {"ID": 1, "COLOR_TOKEN": COLOR, "BLOCKS": blocks},
        "KEYBOARD": {"BUTTONS": buttons},
        "URL_PREVIEW": "N",
    }


def cancelled_card(conference: Conference) -> dict:
    name = bb_text(conference.name)
    return {
        "MESSAGE": f"[S]{name}[/S] is cancelled.\n[URL={conference.join_url}]{conference.join_url}[/URL]",
        "ATTACH": {"ID": 1, "COLOR_TOKEN": "alert", "BLOCKS": [{"MESSAGE": f"[B]Cancelled:[/B] {name}"}]},
        "KEYBOARD": "N",  # the Join button goes (im-message-update.md: N removes the buttons)
        "URL_PREVIEW": "N",
    }


def _target(conference: Conference, message: dict) -> dict:
    same = message["dialog_id"] == wanted_dialog(conference)
    return card(conference) if same else cancelled_card(conference)


def _page(outside: Outside, dialog: str, before: int | None) -> list[dict]:
    """One page of the chat's history, newest first: the latest messages, or those older than `before`."""
    params: dict[str, Any] = {"DIALOG_ID": dialog, "LIMIT": PAGE} | ({"LAST_ID": before} if before else {})
    answer = outside.bitrix.result("im.dialog.messages.get", params)
    messages = answer.get("messages") if isinstance(answer, dict) else None
    return [m for m in messages or [] if isinstance(m, dict) and str(m.get("id", "")).isdigit()]


def _older_than(message: dict, moment: datetime | None) -> bool:
    """Whether the message was written before `moment`; a date that cannot be read is taken as not older."""
    try:  # the portal writes ISO 8601 with its offset ("2024-05-06T10:00:00+03:00")
        written = datetime.fromisoformat(str(message.get("date")))
    except ValueError:
        return False
    # created_at is aware UTC (models.UTCDateTime); a date without an offset cannot be compared with it
    return moment is not None and written.tzinfo is not None and written < moment - CLOCK_MARGIN


def _history(outside: Outside, dialog: str, conference: Conference) -> Iterator[dict]:
    """The chat's messages from the newest back to the conference's creation (PAGES_READ pages at most):
    "pass to LAST_ID the minimum id from the received messages" (im-dialog-messages-get.md)."""
    before: int | None = None
    for _ in range(PAGES_READ):
        page = _page(outside, dialog, before)
        yield from page
        oldest = min(page, key=lambda m: int(m["id"]), default=None)
        if oldest is None or (before and int(oldest["id"]) >= before):
            return  # the start of the chat, or a portal that ignores LAST_ID: nothing older to read
        if _older_than(oldest, conference.created_at):
            return
        before = int(oldest["id"])


class ChatMessageStep(BitrixStep):
    name = NAME
    waits_for = room.NAME  # the card carries the room's link

    def wanted(self, conference: Conference) -> bool:
        return bool(conference.chat) or bool(_posted(conference))

    def recover(self, outside: Outside, conference: Conference) -> dict | None:
        """The post a batch with a lost answer made, found in the chat's history by its first line and link."""
        dialog = (conference.applied or {}).get("chat_posting")
        if (
            not dialog
            or any(m["dialog_id"] == dialog for m in _posted(conference))
            or not conference.join_url
        ):
            return None
        for message in _history(outside, dialog, conference):
            # The card's own first line and this room's link. Not the author: through a webhook the post is
            # the webhook user's, not the organiser's. A person pasting the card's text would at worst be
            # taken for it, and the update of a message of theirs is refused: the step fails, never posts twice.
            text = str(message.get("text") or "")
            if text.startswith(CARD_PREFIXES) and conference.join_url in text:
                return {"dialog_id": dialog, "message_id": int(message["id"]), "shows": None}
        return None

    def commands(self, outside: Outside, conference: Conference, found: dict | None) -> Commands:
        posted = _posted(conference) + ([found] if found else [])
        commands: Commands = {}
        for index, message in enumerate(posted):
            target = _target(conference, message)
            if message.get("shows") != digest(target):
                commands[f"update_{index}"] = (
                    "im.message.update",
                    {"MESSAGE_ID": message["message_id"], **target},
                )
        dialog = wanted_dialog(conference)
        if dialog and not any(m["dialog_id"] == dialog for m in posted):
            commands["add"] = ("im.message.add", {"DIALOG_ID": dialog, **card(conference)})
        return commands

    def before_sending(self, conference: Conference, commands: Commands) -> dict | None:
        return {"chat_posting": commands["add"][1]["DIALOG_ID"]} if "add" in commands else None

    def record(
        self, outside: Outside, conference: Conference, commands: Commands, answers: Answers
    ) -> Outcome:
        applied = conference.applied or {}
        messages = [dict(m) for m in _posted(conference)]
        # The note before_sending made is committed apart from this conference object: read it from the commands.
        posting = commands["add"][1]["DIALOG_ID"] if "add" in commands else applied.get("chat_posting")
        for key, (method, params) in commands.items():
            if key in answers.errors or key not in answers.results:
                continue
            if method == "im.message.update":
                shows = digest({k: v for k, v in params.items() if k != "MESSAGE_ID"})
                mine = [m for m in messages if m["message_id"] == params["MESSAGE_ID"]]
                if mine:
                    mine[0]["shows"] = shows
                else:  # the post a lost batch made (recover), now brought up to date
                    messages.append(
                        {"dialog_id": posting, "message_id": params["MESSAGE_ID"], "shows": shows}
                    )
                    posting = None
            elif str(answers.results[key]).isdigit():
                shows = digest({k: v for k, v in params.items() if k != "DIALOG_ID"})
                messages.append(
                    {
                        "dialog_id": params["DIALOG_ID"],
                        "message_id": int(answers.results[key]),
                        "shows": shows,
                    }
                )
                posting = None
        # A post whose answer failed may still have been made: "chat_posting" stays, and recover looks for it.
        apply = remember(chat_messages=messages, chat_posting=posting)
        return Outcome(apply=apply, error=answers.first_error())


STEP = ChatMessageStep()
