"""What the sandbox portal page shows beside the app (DESIGN §6): the user's chats with their messages (cards
and buttons as the messenger draws them), the CRM records they may see with their timelines, the employees,
and the app's automation rules with a runner. Each entry of the app opens it as the portal does: the
page is rendered again with that placement's launch, a real form POST of PLACEMENT and PLACEMENT_OPTIONS to
the handler the app bound (`placement_launch`); an entry the app has not bound is not offered.
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from .portal import Portal
from .users import User

BB_TAG = re.compile(r"\[/?(?:B|I|S|U|URL(?:=[^\]]*)?|COLOR(?:=[^\]]*)?|SIZE(?:=[^\]]*)?)\]", re.I)
WORD_JOINER = "\u2060"
CRM_KINDS = ("deal", "lead", "contact", "company")
SHOWN_MESSAGES = 5
SHOWN_RESULTS = 3


def plain(text: Any) -> str:
    """A message's BB code as the messenger would show its words (the tags are not drawn here)."""
    return BB_TAG.sub("", str(text or "")).replace(WORD_JOINER, "")


def _card(message: dict[str, Any]) -> dict[str, Any]:
    attach = message.get("attach") or {}
    blocks = attach.get("BLOCKS", []) if isinstance(attach, dict) else attach
    lines, grid = [], []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("MESSAGE"):
            lines.append(plain(block["MESSAGE"]))
        for row in block.get("GRID", []) if isinstance(block, dict) else []:
            grid.append((plain(row.get("NAME")), plain(row.get("VALUE"))))
    keyboard = message.get("keyboard") or {}
    buttons = [b for b in keyboard.get("BUTTONS", []) if isinstance(b, dict) and b.get("LINK")] \
        if isinstance(keyboard, dict) else []
    return {"id": message["id"], "author_id": message["author_id"], "text": plain(message["text"]),
            "lines": lines, "grid": grid, "buttons": buttons, "edited": message.get("edited"),
            "color": attach.get("COLOR_TOKEN") if isinstance(attach, dict) else None}


def panels(portal: Portal, user: User) -> dict[str, Any]:
    state = portal.state()
    bound = {p["placement"] for p in state["placements"]}
    names = {u.id: u.full_name for u in portal.users.all()}
    chats = [{**chat, "messages": [_card(m) for m in chat["messages"][-SHOWN_MESSAGES:]]}
             for chat in state["chats"] if user.id in chat["members"]]
    records = [record for record in state["crm"]
               if user.is_admin or user.id == record["responsible_id"] or user.id in record["observers"]]
    for record in records:
        record["timeline"] = [{**todo, "description": plain(todo["description"])} for todo in record["timeline"]]
    robots = state.get("robots", {})
    results = [r for r in robots.get("results", []) if r.get("sent_by") == user.id][-SHOWN_RESULTS:][::-1]
    return {"bound": bound, "names": names, "chats": chats, "records": records,
            "people": [u for u in portal.users.all() if u.active and u.id != user.id],
            "robots": robots.get("registered", []), "results": results, "kinds": CRM_KINDS}


def entry(user_id: int, lang: str, placement: str, options: dict[str, Any]) -> str:
    """The page link that opens the app for the user in `placement` with these PLACEMENT_OPTIONS."""
    query = {"user_id": user_id, "placement": placement, "options": json.dumps(options, separators=(",", ":"))}
    return "/?" + urlencode({**query, **({"lang": lang} if lang else {})})


def placement_launch(portal: Portal, args: Any) -> tuple[str, dict[str, Any]] | None:
    """(the bound handler, {"placement", "placement_options"}) for a page link's ?placement=&options=, or
    None when it names none the app has bound."""
    code = str(args.get("placement") or "").upper()
    if not code:
        return None
    with portal.lock:
        handler = next((p.handler for p in portal.placements if p.placement == code), None)
    if handler is None:
        return None
    try:
        options = json.loads(args.get("options") or "{}")
    except ValueError:
        options = {}
    return handler, {"placement": code, "placement_options": options if isinstance(options, dict) else {}}
