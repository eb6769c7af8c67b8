"""im.notify.system.add, im.notify.personal.add and im.notify (reference §4 Notifications).

TAG is unique within the app: a notification with a tag the same user already has from the same app
replaces the older one. A webhook has no app, so there TAG and SUB_TAG count only with CLIENT_ID
(reference §2 "Inbound webhooks"), which then plays the app's part.

Each notification is also kept as the recipient sees it (`shown`, `links`): the BB codes that
b24restdocs api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/message-formatting.md lists for
im.notify.* (any case) are rendered, anything else stays text. No page of the docs says HTML entities are
decoded, so they are not: "&amp;" shows as "&amp;".
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import RestError
from .methods import Caller, method
from .params import as_int, get_ci

if TYPE_CHECKING:
    from .portal import Portal


@dataclass
class Notification:
    id: int
    user_id: int
    message: str
    tag: str | None
    sub_tag: str | None
    type: str  # SYSTEM | USER
    from_user_id: int | None
    created_at: str
    message_out: str | None
    app: str  # the app client_id, or the webhook's CLIENT_ID; "" when none
    shown: str = ""  # the text on the recipient's screen
    links: list[dict[str, str]] = field(default_factory=list)  # {"url", "text"} of each [URL] it shows

    def as_state(self) -> dict[str, Any]:
        return asdict(self)


# message-formatting.md "Supported BB Codes" and "Service Elements".
BB_TAGS = ("b", "i", "u", "s", "size", "color", "url", "user", "chat", "context", "code", "img", "icon", "put",
           "send", "call", "timestamp", "disk", "br")
_URL = re.compile(r"\[url(?:=([^\]]*))?\](.*?)\[/url\]", re.I | re.S)
_TAG = re.compile(r"\[/?(?:%s)(?:[= ][^\]]*)?\]" % "|".join(BB_TAGS), re.I)


def render(message: str) -> tuple[str, list[dict[str, str]]]:
    """What a BB-code message shows, and its links. Invisible format characters (Unicode category Cf, such
    as U+2060 WORD JOINER) take no room on the screen, so they are left out of the shown text."""
    links: list[dict[str, str]] = []

    def link(match: re.Match[str]) -> str:
        url, text = match.group(1), match.group(2)
        links.append({"url": (text if url is None else url).strip(), "text": _visible(text)})
        return text

    shown = _TAG.sub(lambda tag: "\n" if tag.group(0).lower() == "[br]" else "", _URL.sub(link, message))
    return _visible(shown), links


def _visible(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


class NotificationStore:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.items: list[Notification] = []
        # Every delivery, replaced or not: a user sees each one arrive, so a repeat is a second popup.
        self.deliveries: Counter[tuple[int, str, str | None, str]] = Counter()

    def repeats(self) -> list[dict[str, Any]]:
        """Notifications delivered more than once to the same user (same app, tag and text)."""
        return [{"user_id": user_id, "tag": tag, "times": times}
                for (user_id, _, tag, _), times in self.deliveries.items() if times > 1]

    def add(self, notification_fields: dict[str, Any]) -> Notification:
        notification = Notification(id=next(self._ids), **notification_fields)
        self.deliveries[(notification.user_id, notification.app, notification.tag, notification.message)] += 1
        if notification.tag:
            self.items = [n for n in self.items if (n.user_id, n.app, n.tag) != (notification.user_id, notification.app, notification.tag)]
        self.items.append(notification)
        return notification


def _notify(portal: "Portal", caller: Caller, params: dict[str, Any], kind: str) -> int:
    user_id = as_int(get_ci(params, "USER_ID"))
    if not user_id or user_id <= 0:
        raise RestError(400, "USER_ID_EMPTY", "User ID can't be empty")
    recipient = portal.users.get(user_id)
    if recipient is None or not recipient.active:
        raise RestError(400, "USER_ID_EMPTY", f"User {user_id} does not exist")
    message = str(get_ci(params, "MESSAGE") or "").strip()
    if not message:
        raise RestError(400, "MESSAGE_EMPTY", "Message can't be empty")
    app = caller.client_id if caller.is_app else str(get_ci(params, "CLIENT_ID") or "")
    tags_count = bool(app)
    notification = portal.notifications.add({
        "user_id": user_id,
        "message": message,
        "tag": (str(get_ci(params, "TAG") or "") or None) if tags_count else None,
        "sub_tag": (str(get_ci(params, "SUB_TAG") or "") or None) if tags_count else None,
        "type": kind,
        "from_user_id": caller.user.id if kind == "USER" else None,
        "created_at": datetime.fromtimestamp(portal.now(), timezone.utc).isoformat(timespec="seconds"),
        "message_out": get_ci(params, "MESSAGE_OUT"),
        "app": app,
        **dict(zip(("shown", "links"), render(message))),
    })
    return notification.id


def notify_system_add(portal: "Portal", caller: Caller, params: dict[str, Any]) -> int:
    return _notify(portal, caller, params, "SYSTEM")


def notify_personal_add(portal: "Portal", caller: Caller, params: dict[str, Any]) -> int:
    return _notify(portal, caller, params, "USER")


def notify(portal: "Portal", caller: Caller, params: dict[str, Any]) -> int:
    kind = str(get_ci(params, "TYPE") or "USER").upper()
    if kind not in ("USER", "SYSTEM"):
        raise RestError(400, "ERROR_ARGUMENT", "TYPE must be USER or SYSTEM", argument="TYPE")
    return _notify(portal, caller, params, kind)


METHODS = {
    "im.notify.system.add": method(notify_system_add, "im"),
    "im.notify.personal.add": method(notify_personal_add, "im"),
    "im.notify": method(notify, "im"),
}
