"""Text the app writes into Bitrix24, made safe for where it lands: user text in BB code, and the
notifications (invitations, changes, cancels, reminders). The calendar event's fields are the calendar
step's (steps/calendar_event.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared import occurrences
from shared.models import Conference

LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Nothing in the docs says the messenger or the calendar decodes HTML entities (b24restdocs
# api-reference/chats/messages/formatting.md and chat-bots/.../message-formatting.md list BB codes only, and
# no way to escape one), so "&#91;" would show as typed and "Q&A" as "Q&amp;A". An invisible WORD JOINER
# (U+2060, no line break either) after every "[" means no tag can start, whatever the tag; after every "&"
# it means no entity can start, in case some view does decode them. Safe both ways, and it reads as typed.
WORD_JOINER = "\u2060"
DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month"}


def bb_text(text: str) -> str:
    """User text inside BB code (notifications, the calendar event): shown as typed, never a tag or an entity."""
    return text.replace("[", "[" + WORD_JOINER).replace("&", "&" + WORD_JOINER)


def local_times(conference: Conference) -> tuple[str, str]:
    assert conference.start_at is not None  # asked only of a conference with a time
    zone = ZoneInfo(conference.timezone)
    start = conference.start_at.astimezone(zone)
    end = start + timedelta(minutes=conference.duration_minutes)
    return start.strftime(LOCAL_TIME_FORMAT), end.strftime(LOCAL_TIME_FORMAT)


def links(conference: Conference) -> list[str]:
    lines = [f"Join: {conference.join_url}"]
    if conference.watch_url:
        lines.append(f"Watch the broadcast: {conference.watch_url}")
    return lines


def notice(conference: Conference) -> dict:
    """What invitees were told: when it changes, those who stay invited are told again. The recurrence only
    when there is one, so what single meetings were told before reads the same."""
    told: dict[str, Any] = {
        "name": conference.name,
        "start_at": conference.start_at.isoformat() if conference.start_at else None,
        "duration_minutes": conference.duration_minutes,
        "join_url": conference.join_url,
    }
    if conference.recurrence:
        told["recurrence"] = dict(conference.recurrence)
    return told


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def repeats(conference: Conference) -> str:
    """How a series repeats, in words: "every week on Monday and Wednesday, 10 times", "every 2 days until
    31 March"; "" for a single meeting."""
    recurrence = conference.recurrence
    if not recurrence or conference.start_at is None:
        return ""
    unit, interval = UNITS[recurrence["freq"]], recurrence.get("interval") or 1
    words = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
    if recurrence.get("byday"):
        order = list(DAY_NAMES)
        days = sorted(recurrence["byday"], key=order.index)
        words += " on " + _and([DAY_NAMES[day] for day in days])
    if recurrence.get("count"):
        words += f", {recurrence['count']} times"
    elif recurrence.get("until"):
        until = date.fromisoformat(str(recurrence["until"])[:10])
        words += f" until {until.day} {MONTH_NAMES[until.month - 1]}"
        if until.year != conference.start_at.astimezone(ZoneInfo(conference.timezone)).year:
            words += f" {until.year}"
    return words


def _when(conference: Conference, start_at: datetime | None = None) -> str:
    """When it is: " on <start> (<zone>)", for a series " from <first start> (<zone>), <how it repeats>"; with
    `start_at`, that occurrence alone."""
    if conference.start_at is None:
        return ""
    zone = ZoneInfo(conference.timezone)
    start = (start_at or conference.start_at).astimezone(zone).strftime(LOCAL_TIME_FORMAT)[:16]
    if start_at is None and conference.recurrence:
        return f" from {start} ({conference.timezone}), {repeats(conference)}"
    return f" on {start} ({conference.timezone})"


def _occurrence(conference: Conference, start_at: datetime) -> str:
    """Which one of a series `start_at` is: " (meeting 3 of 10)", or " (meeting 3 of the series)" when it
    has no count."""
    if not conference.recurrence:
        return ""
    number = 0
    for number, start in enumerate(occurrences.starts(conference), 1):  # noqa: B007 (the count is the point)
        if start >= start_at:
            break
    count = conference.recurrence.get("count")
    return f" (meeting {number} of {count})" if count else f" (meeting {number} of the series)"


def _message(
    conference: Conference,
    user_id: int,
    client_id: str | None,
    text: str,
    with_links: bool,
    tag_suffix: str = "",
) -> dict:
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
        "MESSAGE_OUT": plain + (" " + " ".join(links(conference)) if with_links else ""),
        # One TAG per conference and user: a repeat, an update or a cancellation replaces the
        # earlier notification instead of piling up next to it.
        "TAG": f"telemost|{conference.public_id}|{user_id}{tag_suffix}",
    }
    if client_id:
        params["CLIENT_ID"] = client_id
    return params


def invitation(conference: Conference, user_id: int, client_id: str | None) -> dict:
    kind = "broadcast" if conference.type == "broadcast" else "meeting"
    return _message(
        conference,
        user_id,
        client_id,
        f"[B]{bb_text(conference.owner_name)}[/B] invites you to the "
        f"{kind} «{bb_text(conference.name)}»{_when(conference)}.",
        with_links=True,
    )


def change_notice(conference: Conference, user_id: int, client_id: str | None) -> dict:
    return _message(
        conference,
        user_id,
        client_id,
        f"[B]{bb_text(conference.owner_name)}[/B] changed "
        f"«{bb_text(conference.name)}»: it is now{_when(conference) or ' without a set time'}.",
        with_links=True,
    )


def removal_notice(conference: Conference, user_id: int, client_id: str | None) -> dict:
    return _message(
        conference,
        user_id,
        client_id,
        f"[B]{bb_text(conference.owner_name)}[/B] no longer invites "
        f"you to «{bb_text(conference.name)}»{_when(conference)}.",
        with_links=False,
    )


def cancellation(conference: Conference, user_id: int, client_id: str | None) -> dict:
    return _message(
        conference,
        user_id,
        client_id,
        f"[B]{bb_text(conference.owner_name)}[/B] cancelled «{bb_text(conference.name)}»{_when(conference)}.",
        with_links=False,
    )


def reminder(
    conference: Conference, user_id: int, client_id: str | None, start_at: datetime | None = None
) -> dict:
    """Of the occurrence starting at `start_at` (the conference's start when not given)."""
    start_at = start_at or conference.start_at
    which = _occurrence(conference, start_at) if start_at else ""
    return _message(
        conference,
        user_id,
        client_id,
        f"Reminder: «{bb_text(conference.name)}» with "
        f"[B]{bb_text(conference.owner_name)}[/B] starts{_when(conference, start_at)}{which}.",
        with_links=True,
        tag_suffix="|reminder",
    )
