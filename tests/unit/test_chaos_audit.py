"""The chaos audit's chat, timeline and notification checks find what they are there to find: a check
that never fires would let the chaos run pass whatever the app did (tests/chaos/audit.py)."""
from __future__ import annotations

from shared.models import Conference
from tests.chaos.audit import Audit, _chats, _notifications, _timelines

JOIN = "https://telemost.yandex.ru/j/12345678901234"


def conference(status: str = "ready", **fields) -> Conference:
    return Conference(**{"id": 1, "public_id": "p1", "name": "Planning", "status": status, "join_url": JOIN,
                         "invitees": [], "invite_users": False, **fields})


def portal(messages: list[dict] | None = None, todos: list[dict] | None = None, notifications=()) -> dict:
    return {"chats": [{"dialog_id": "chat1", "messages": messages or []}],
            "crm": [{"entity_type": "deal", "entity_id": 1, "timeline": todos or []}],
            "notifications": list(notifications)}


def card(text: str = f"Meeting in Yandex Telemost: [B]Planning[/B]\n[URL={JOIN}]{JOIN}[/URL]") -> dict:
    return {"id": 7, "text": text}


def todo(title: str = "Meeting in Yandex Telemost: Planning", completed: bool = False) -> dict:
    return {"id": 9, "title": title, "description": f"Join: {JOIN}", "completed": completed}


IN_CHAT = {"dialog_id": "chat1", "members": [{"id": 3}]}
ABOUT_DEAL = {"entity_type": "deal", "entity_id": 1}


def checked(check, conferences: list[Conference], bitrix: dict) -> Audit:
    result = Audit()
    check(result, conferences, bitrix)
    return result


def test_one_card_as_named_now_passes_and_a_second_card_is_a_problem():
    assert checked(_chats, [conference(chat=IN_CHAT)], portal([card()])).problems == []
    twice = checked(_chats, [conference(chat=IN_CHAT)], portal([card(), card()]))
    assert twice.figures["chat cards posted twice"] == 1 and "2 cards" in twice.problems[0]


def test_a_ready_meeting_without_its_card_or_with_an_old_name_is_a_problem():
    assert checked(_chats, [conference(chat=IN_CHAT)], portal([])).problems
    old = card(f"Meeting in Yandex Telemost: [B]Old name[/B]\n{JOIN}")
    assert checked(_chats, [conference(chat=IN_CHAT)], portal([old])).problems


def test_a_cancelled_meeting_still_showing_its_join_card_is_a_problem():
    assert checked(_chats, [conference("cancelled", chat=IN_CHAT)], portal([card()])).problems
    marked = card(f"[S]Planning[/S] is cancelled.\n{JOIN}")
    assert checked(_chats, [conference("cancelled", chat=IN_CHAT)], portal([marked])).problems == []


def test_timeline_one_open_todo_passes_two_or_an_open_one_after_a_cancel_do_not():
    assert checked(_timelines, [conference(crm=ABOUT_DEAL)], portal(todos=[todo()])).problems == []
    assert checked(_timelines, [conference(crm=ABOUT_DEAL)], portal(todos=[todo(), todo()])).problems
    assert checked(_timelines, [conference(crm=ABOUT_DEAL)], portal(todos=[todo(completed=True)])).problems
    assert checked(_timelines, [conference("cancelled", crm=ABOUT_DEAL)], portal(todos=[todo()])).problems
    done = todo("Cancelled: Planning", completed=True)
    assert checked(_timelines, [conference("cancelled", crm=ABOUT_DEAL)], portal(todos=[done])).problems == []


def test_an_invitee_in_the_chat_is_not_notified_and_one_outside_it_is():
    invited = conference(chat=IN_CHAT, invitees=[3, 4], invite_users=True)
    told_outside = {"user_id": 4, "tag": "telemost|p1|4"}
    assert checked(_notifications, [invited], portal(notifications=[told_outside])).problems == []
    assert checked(_notifications, [invited], portal()).problems  # 4 was never told
    told_in_chat_too = {"user_id": 3, "tag": "telemost|p1|3"}
    assert checked(_notifications, [invited], portal(notifications=[told_outside, told_in_chat_too])).problems
