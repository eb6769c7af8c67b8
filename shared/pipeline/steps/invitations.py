"""notify_invitees: Bitrix24 notifications to the invitees: invited, told of a change, told they are no
longer invited, told of a cancel. One TAG per conference and user, so a repeat replaces the first."""

from __future__ import annotations

from shared.models import Conference
from shared.pipeline import bitrix_text
from shared.pipeline.step import Answers, BitrixStep, Commands, Outcome, Outside, remember
from shared.pipeline.steps import room

NAME = "notify_invitees"

NOTIFY = "im.notify.system.add"

# The portal has no idempotency key for notifications, and a batch may stop halfway (a command that
# hangs times out the request after the earlier ones ran), so after a lost answer nothing proves who
# was told: invitations go out again (their TAG replaces the first), and before a batch that invites
# anyone, who it invites is noted ("sending"), so that a cancel or a removal that comes before any
# answer still reaches everyone that batch may have invited.


def chat_members(conference: Conference) -> set[int]:
    """The members of the chat the meeting is posted to, as read when it was set (web/api/chats.py): they
    learn of it from the post (steps/chat_message.py), so they are not notified separately as well."""
    if not conference.chat:
        return set()
    return {int(m["id"]) for m in conference.chat.get("members", []) if str(m.get("id", "")).isdigit()}


def wanted_invitees(conference: Conference) -> list[int]:
    """Who is told here: the invitees, but for members of the chat the meeting is posted to (chat_message)."""
    if conference.cancel_requested or not conference.invite_users:
        return []
    in_chat = chat_members(conference)
    return [user_id for user_id in conference.invitees if user_id not in in_chat]


def _still_invited(conference: Conference, user_id: int) -> bool:
    """Invited still, and told in the chat instead: no "no longer invited" for them."""
    return not conference.cancel_requested and conference.invite_users and user_id in conference.invitees


def told(conference: Conference) -> dict:
    """What the invitees know once this version's notifications are sent."""
    return {"invitees": wanted_invitees(conference), "notice": bitrix_text.notice(conference)}


def _told_before(conference: Conference) -> list[int]:
    return list((conference.applied or {}).get("invitees", []))


def _maybe_told(conference: Conference) -> list[int]:
    """Whoever a batch with a lost answer may have invited."""
    told_before = _told_before(conference)
    sending = (conference.applied or {}).get("sending") or {}
    return [u for u in sending.get("invitees", []) if u not in told_before]


def _key(user_id: int) -> str:
    return f"user_{user_id}"


class InvitationsStep(BitrixStep):
    name = NAME
    waits_for = room.NAME  # an invitation carries the room's link

    def wanted(self, conference: Conference) -> bool:
        return bool(wanted_invitees(conference) or _told_before(conference) or _maybe_told(conference))

    def done_count(self, conference: Conference) -> int:
        return len(set(_told_before(conference)) & set(wanted_invitees(conference)))

    # recover: nothing to look up (the portal cannot say who was notified); `commands` sends again to
    # everyone a lost batch may have reached, and the TAG makes each repeat replace the first.

    def commands(self, outside: Outside, conference: Conference, found: object) -> Commands:
        """New invitees are invited, removed ones told, staying ones told again only when the time or link changed."""
        client_id = outside.notify_client_id
        applied = conference.applied or {}
        wanted, told_before = wanted_invitees(conference), _told_before(conference)
        changed = applied.get("notice") != bitrix_text.notice(conference)
        commands: Commands = {}
        for user_id in wanted:
            if user_id not in told_before:
                commands[_key(user_id)] = (NOTIFY, bitrix_text.invitation(conference, user_id, client_id))
            elif changed:
                commands[_key(user_id)] = (NOTIFY, bitrix_text.change_notice(conference, user_id, client_id))
        gone = bitrix_text.cancellation if conference.cancel_requested else bitrix_text.removal_notice
        for user_id in told_before + _maybe_told(conference):
            if user_id not in wanted and not _still_invited(conference, user_id):
                commands[_key(user_id)] = (NOTIFY, gone(conference, user_id, client_id))
        return commands

    def before_sending(self, conference: Conference, commands: Commands) -> dict | None:
        told_before = _told_before(conference)
        inviting = any(u not in told_before and _key(u) in commands for u in wanted_invitees(conference))
        return {"sending": told(conference)} if inviting else None

    def record(
        self, outside: Outside, conference: Conference, commands: Commands, answers: Answers
    ) -> Outcome:
        failed = {key.removeprefix("user_"): error for key, error in answers.errors.items()}
        if not failed:
            return Outcome(apply=remember(**told(conference), sending=None))
        # A repeat replaces a notification with the same TAG, so re-sending to everyone is safe.
        first = answers.first_error()
        assert first is not None  # `failed` is not empty
        users = ", ".join(sorted(failed, key=int))
        return Outcome(
            error=type(first)(
                first.service,
                f"Could not notify users {users}: {first.message}",
                code=first.code,
                status=first.status,
                retry_after=first.retry_after,
            )
        )


STEP = InvitationsStep()
