"""The chats a meeting can be posted to, as the portal shows them to the caller.

A chat's id reaches the app from a placement's PLACEMENT_OPTIONS (the portal's page posts it, and an
employee can post anything there) or from a request body: neither is trusted. The portal is asked with
the caller's own rights, im.dialog.get (b24restdocs api-reference/chats/im-dialog-get.md) and
im.dialog.users.list (chats/chat-users/im-dialog-users-list.md) in one batch: a chat the caller does not
belong to is refused there, and the app never posts where its user could not. The members read are kept
with the conference, so that those of them who are invitees learn of it in the chat and not twice.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from pydantic import BaseModel

from shared.clients.errors import OutsideServiceError
from shared.problems import Problem
from shared.schemas import DIALOG_ID, ErrorOut
from web.api.portal_answers import as_not_found, refusal
from web.auth import login_required
from web.errors import ApiError
from web.openapi import documented

bp = Blueprint("chats", __name__, url_prefix="/api/bitrix")
# im.dialog.users.list answers at most 200 a page: enough to leave out of the separate invitations anyone
# the form proposes (a chat's members up to the invitee limit of 100); in a bigger chat an invitee beyond
# the first 200 is only notified as well, never left out.
MEMBERS_READ = 200


class ChatMember(BaseModel):
    id: int
    name: str


class PortalChat(BaseModel):
    dialog_id: str
    title: str | None
    members: list[ChatMember]


def _members(rows: object, caller_id: int) -> list[dict]:
    people = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or row.get("bot") or row.get("active") is False:
            continue
        if str(row.get("id", "")).isdigit() and int(row["id"]) != caller_id:
            people.append({"id": int(row["id"]), "name": str(row.get("name") or f"User {row['id']}")})
    return people


def _refused(error: OutsideServiceError) -> ApiError:
    return refusal(error, "chat.dialog_id", Problem("is not a chat you are a member of", "not_a_chat_member"))


def chat_of(dialog_id: str) -> dict:
    """{"dialog_id", "title", "members": [{"id", "name"}]} as the portal answers the caller; raises ApiError
    422 naming chat.dialog_id when the portal says the caller has no such chat."""
    api = current_app.extensions["bitrix"].client(g.caller.portal, g.caller.user_id)
    try:
        answers = api.batch(
            {
                "dialog": ("im.dialog.get", {"DIALOG_ID": dialog_id}),
                "members": (
                    "im.dialog.users.list",
                    {"DIALOG_ID": dialog_id, "SKIP_EXTERNAL": "Y", "LIMIT": MEMBERS_READ},
                ),
            }
        )
    except OutsideServiceError as error:
        raise _refused(error) from None
    if answers.errors:
        raise _refused(answers.errors.get("dialog") or next(iter(answers.errors.values())))
    dialog = answers.results.get("dialog")
    if not isinstance(dialog, dict):
        raise _refused(OutsideServiceError("bitrix24", "no such dialog"))
    title = str(dialog.get("name") or "").strip() or None
    return {
        "dialog_id": dialog_id,
        "title": title,
        "members": _members(answers.results.get("members"), g.caller.user_id),
    }


@bp.get("/chats/<dialog_id>")
@login_required
@documented(
    "A chat the caller is a member of: its title and members (for a meeting started from it)",
    responses={200: PortalChat, 401: ErrorOut, 404: ErrorOut, 503: ErrorOut},
)
def chat(dialog_id: str):
    if not DIALOG_ID.fullmatch(dialog_id):
        raise ApiError(404, "No such chat", reason="no_such_chat")
    try:
        return jsonify(chat_of(dialog_id))
    except ApiError as error:
        raise as_not_found(error, "No such chat among yours", "no_such_chat") from None
