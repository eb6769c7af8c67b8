"""What the app writes into Bitrix24: the calendar event and the invitation, with user text made safe."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from shared.clients.bitrix24 import Bitrix24Client
from shared.models import Conference

LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
REMIND_MINUTES_BEFORE = 15
# The core reads these with PHP's (bool), where the string "N" is TRUE (b24restdocs calendar-event-add.md and
# calendar-event-update.md type them boolean; findings B2). 1 and 0 mean the same in both ways the app
# sends them: as JSON numbers, and as "1"/"0" in a batch command's query string. Guests see each other,
# nobody invites others, nobody is asked to confirm again after each edit, the organiser hears who accepts.
MEETING_FLAGS = {"notify": 1, "reinvite": 0, "allow_invite": 0, "hide_guests": 0}


def marker(conference: Conference) -> str:
    """A line in the event's description that says which conference made it (for crash recovery)."""
    return f"Telemost ref: {conference.public_id}"


# Nothing in the docs says the messenger or the calendar decodes HTML entities (b24restdocs
# api-reference/chats/messages/formatting.md and chat-bots/.../message-formatting.md list BB codes only, and
# no way to escape one), so "&#91;" would show as typed and "Q&A" as "Q&amp;A". An invisible WORD JOINER
# (U+2060, no line break either) after every "[" means no tag can start, whatever the tag; after every "&"
# it means no entity can start, in case some view does decode them. Safe both ways, and it reads as typed.
WORD_JOINER = "\u2060"


def bb_text(text: str) -> str:
    """User text inside BB code (notifications, the calendar event): shown as typed, never a tag or an entity."""
    return text.replace("[", "[" + WORD_JOINER).replace("&", "&" + WORD_JOINER)


def _local_times(conference: Conference) -> tuple[str, str]:
    zone = ZoneInfo(conference.timezone)
    start = conference.start_at.astimezone(zone)
    end = start + timedelta(minutes=conference.duration_minutes)
    return start.strftime(LOCAL_TIME_FORMAT), end.strftime(LOCAL_TIME_FORMAT)


def _links(conference: Conference) -> list[str]:
    links = [f"Join: {conference.join_url}"]
    if conference.watch_url:
        links.append(f"Watch the broadcast: {conference.watch_url}")
    return links


def calendar_event(conference: Conference) -> dict:
    """calendar.event.add. Without `section` the docs say the method detects one, but the core copy does so
    only with auto_detect_section=Y (b24restdocs calendar-event-add.md; reference/real-platform-findings.md
    B5): sent always, it is right either way. update.md has no such parameter, so calendar_update leaves it out."""
    return {**_event_fields(conference), "auto_detect_section": "Y"}


def _event_fields(conference: Conference) -> dict:
    """The event's name and description are BB code where the portal shows them: the user's text goes in
    neutralised as in notifications (a typed [URL=javascript:…] stays text), and the app's own links come
    first, so that no "Join:" line a user types can stand above the real one."""
    start, end = _local_times(conference)
    typed = bb_text(conference.description) if conference.description else None
    parts = ["\n".join(_links(conference)), typed, marker(conference)]
    description = "\n\n".join(part for part in parts if part)
    params = {
        "type": "user",
        "ownerId": conference.owner_id,
        "name": bb_text(conference.name),
        "description": description.strip(),
        "from": start,
        "to": end,
        # Local wall-clock time plus the zone: the event keeps its hour across DST changes.
        "timezone_from": conference.timezone,
        "timezone_to": conference.timezone,
        "location": conference.join_url,
        "remind": [{"type": "min", "count": REMIND_MINUTES_BEFORE}],
        "accessibility": "busy",
    }
    if conference.invitees:
        params.update(is_meeting="Y", attendees=[conference.owner_id, *conference.invitees],
                      meeting=dict(MEETING_FLAGS))
    return params


def calendar_update(conference: Conference, event_id: int, host_id: int | None) -> dict:
    params = {**_event_fields(conference), "id": event_id}
    if not conference.invitees:
        # is_meeting=Y with attendees replaces the list; N turns a meeting back into a plain event.
        params.update(is_meeting="N", attendees=[conference.owner_id])
    if host_id:
        params["host"] = host_id  # required when someone other than the organiser edits a meeting
    return params


def notice(conference: Conference) -> dict:
    """What invitees were told: when it changes, those who stay invited are told again."""
    return {"name": conference.name, "start_at": conference.start_at.isoformat() if conference.start_at else None,
            "duration_minutes": conference.duration_minutes, "join_url": conference.join_url}


def _when(conference: Conference) -> str:
    if conference.start_at is None:
        return ""
    start, _ = _local_times(conference)
    return f" on {start[:16]} ({conference.timezone})"


def _message(conference: Conference, user_id: int, client_id: str | None, text: str, with_links: bool,
             tag_suffix: str = "") -> dict:
    lines = [text]
    kind = "broadcast" if conference.type == "broadcast" else "meeting"
    if with_links:
        lines.append(f"[URL={conference.join_url}]Join the {kind}[/URL]")
        if conference.watch_url:
            lines.append(f"[URL={conference.watch_url}]Watch the broadcast[/URL]")
    # MESSAGE_OUT is plain text (e-mail, push): the app's own bold goes, the user's text reads as typed.
    plain = text.replace("[B]", "").replace("[/B]", "").replace(WORD_JOINER, "")
    params = {
        "USER_ID": user_id,
        "MESSAGE": "\n".join(lines),
        "MESSAGE_OUT": plain + (" " + " ".join(_links(conference)) if with_links else ""),
        # One TAG per conference and user: a repeat, an update or a cancellation replaces the
        # earlier notification instead of piling up next to it.
        "TAG": f"telemost|{conference.public_id}|{user_id}{tag_suffix}",
    }
    if client_id:
        params["CLIENT_ID"] = client_id
    return params


def invitation(conference: Conference, user_id: int, client_id: str | None) -> dict:
    kind = "broadcast" if conference.type == "broadcast" else "meeting"
    return _message(conference, user_id, client_id, f"[B]{bb_text(conference.owner_name)}[/B] invites you to the "
                    f"{kind} «{bb_text(conference.name)}»{_when(conference)}.", with_links=True)


def change_notice(conference: Conference, user_id: int, client_id: str | None) -> dict:
    return _message(conference, user_id, client_id, f"[B]{bb_text(conference.owner_name)}[/B] changed "
                    f"«{bb_text(conference.name)}»: it is now{_when(conference) or ' without a set time'}.",
                    with_links=True)


def removal_notice(conference: Conference, user_id: int, client_id: str | None) -> dict:
    return _message(conference, user_id, client_id, f"[B]{bb_text(conference.owner_name)}[/B] no longer invites "
                    f"you to «{bb_text(conference.name)}»{_when(conference)}.", with_links=False)


def cancellation(conference: Conference, user_id: int, client_id: str | None) -> dict:
    return _message(conference, user_id, client_id, f"[B]{bb_text(conference.owner_name)}[/B] cancelled "
                    f"«{bb_text(conference.name)}»{_when(conference)}.", with_links=False)


def reminder(conference: Conference, user_id: int, client_id: str | None) -> dict:
    return _message(conference, user_id, client_id, f"Reminder: «{bb_text(conference.name)}» with "
                    f"[B]{bb_text(conference.owner_name)}[/B] starts{_when(conference)}.", with_links=True,
                    tag_suffix="|reminder")


def find_event(bitrix: Bitrix24Client, conference: Conference) -> int | None:
    """The id of the event this conference made earlier, looked up by its marker around its date."""
    zone = ZoneInfo(conference.timezone)
    day = conference.start_at.astimezone(zone).date()
    params = {"type": "user", "ownerId": conference.owner_id,
              "from": (day - timedelta(days=1)).isoformat(), "to": (day + timedelta(days=2)).isoformat()}
    for event in bitrix.result("calendar.event.get", params) or []:
        if marker(conference) in str(event.get("DESCRIPTION") or ""):
            return int(event["ID"])
    return None
