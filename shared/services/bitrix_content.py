"""What the app writes into Bitrix24: the calendar event and the invitation, with user text made safe."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from ..clients.bitrix24 import Bitrix24Client
from ..models import Conference

LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
REMIND_MINUTES_BEFORE = 15


def marker(conference: Conference) -> str:
    """A line in the event's description that says which conference made it (for crash recovery)."""
    return f"Telemost ref: {conference.public_id}"


def bb_text(text: str) -> str:
    """User text inside a BB-code message: brackets become entities so a name cannot open a [URL] tag."""
    return text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")


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
    start, end = _local_times(conference)
    description = "\n".join(filter(None, [conference.description, "", *_links(conference), "", marker(conference)]))
    params = {
        "type": "user",
        "ownerId": conference.owner_id,
        "name": conference.name,
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
                      meeting={"notify": "Y", "reinvite": "N", "allow_invite": "N", "hide_guests": "N"})
    return params


def invitation(conference: Conference, user_id: int, client_id: str | None) -> dict:
    when = ""
    if conference.start_at is not None:
        start, _ = _local_times(conference)
        when = f" on {start[:16]} ({conference.timezone})"
    kind = "broadcast" if conference.type == "broadcast" else "meeting"
    lines = [f"[B]{bb_text(conference.owner_name)}[/B] invites you to the {kind} "
             f"«{bb_text(conference.name)}»{when}.",
             f"[URL={conference.join_url}]Join the {kind}[/URL]"]
    if conference.watch_url:
        lines.append(f"[URL={conference.watch_url}]Watch the broadcast[/URL]")
    params = {
        "USER_ID": user_id,
        "MESSAGE": "\n".join(lines),
        "MESSAGE_OUT": f"{conference.owner_name} invites you to «{conference.name}»{when}. "
                       + " ".join(_links(conference)),
        # One TAG per conference and user: a repeat replaces the notification instead of adding one.
        "TAG": f"telemost|{conference.public_id}|{user_id}",
    }
    if client_id:
        params["CLIENT_ID"] = client_id
    return params


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
