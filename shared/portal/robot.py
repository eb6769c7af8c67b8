"""The automation rule "Create a Telemost meeting": what is registered with bizproc.robot.add, and how what a
workflow sends it becomes a conference.

b24restdocs api-reference/bizproc/bizproc-robot/bizproc-robot-add.md: CODE, HANDLER (on the app's domain),
NAME, PROPERTIES and RETURN_PROPERTIES (each {Name, Type, Required, Multiple, Default, Options}), and
USE_SUBSCRIPTION Y: the workflow waits for bizproc.event.send (bizproc-event-send.md) with the values of
RETURN_PROPERTIES. Names are localised objects ({"ru": ..., "en": ...}), as the page allows.

What the handler receives is not on those pages: the field names (event_token, code, document_id,
properties, auth[...]) follow what applications in the wild read, and the values' formats (a user as
"user_5", a date as the portal prints it) are taken both ways: "user_5" or 5, ISO 8601 or 06.12.2026 15:00.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

CODE = "telemost_meeting"


def _text(en: str, ru: str) -> dict:
    return {"en": en, "ru": ru}


DEFINITION: dict[str, Any] = {
    "CODE": CODE,
    "NAME": _text("Create a Telemost meeting", "Создать встречу в Телемосте"),
    "DESCRIPTION": _text(
        "Creates a Yandex Telemost meeting and returns its link",
        "Создаёт встречу в Яндекс Телемосте и возвращает ссылку на неё",
    ),
    "USE_SUBSCRIPTION": "Y",
    "PROPERTIES": {
        "name": {"Name": _text("Name", "Название"), "Type": "string", "Required": "Y"},
        "start_at": {"Name": _text("Start", "Начало"), "Type": "datetime", "Required": "N"},
        "duration_minutes": {
            "Name": _text("Duration, minutes", "Длительность, минут"),
            "Type": "int",  # no Default: left empty, it is the portal's (GET /api/settings)
        },
        "invitees": {"Name": _text("Invitees", "Приглашённые"), "Type": "user", "Multiple": "Y"},
        "type": {
            "Name": _text("Type", "Тип"),
            "Type": "select",
            "Options": {"conference": "Meeting / Встреча", "broadcast": "Broadcast / Трансляция"},
            "Default": "conference",
        },
    },
    "RETURN_PROPERTIES": {
        "join_url": {"Name": _text("Join link", "Ссылка для входа"), "Type": "string"},
        "watch_url": {"Name": _text("Broadcast link", "Ссылка на трансляцию"), "Type": "string"},
        "conference_id": {"Name": _text("Meeting id", "Номер встречи"), "Type": "int"},
        "error": {"Name": _text("Error", "Ошибка"), "Type": "string"},
    },
}
# A CRM document the workflow runs on (document_id's third part, e.g. "DEAL_5"): the meeting is linked to it.
DOCUMENTS = {"DEAL": "deal", "LEAD": "lead", "CONTACT": "contact", "COMPANY": "company"}
DOCUMENT_ID = re.compile(r"(DEAL|LEAD|CONTACT|COMPANY)_([1-9][0-9]{0,9})")
USER = re.compile(r"(?:user_)?([1-9][0-9]{0,9})")
PORTAL_DATE_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def values_of(value: Any) -> list[Any]:
    """A Multiple property arrives as a list, as PHP-indexed keys ({"0": ..}), or as one value."""
    if isinstance(value, dict):
        return [value[k] for k in sorted(value, key=lambda k: (len(k), k))]
    if isinstance(value, list):
        return value
    return [] if value in (None, "") else [value]


def _start(value: Any, zone: str) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    for pattern in PORTAL_DATE_FORMATS:
        try:
            local = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return local.replace(tzinfo=ZoneInfo(zone)).isoformat()  # the portal's wall clock, in `zone`
    return text  # ISO 8601 or anything else: the schema says what is wrong with it


def conference_body(properties: Any, zone: str = "Europe/Moscow") -> dict:
    """The API body (ConferenceIn) for what the workflow sent; the schema checks it like any other."""
    given = properties if isinstance(properties, dict) else {}
    invitees = []
    for value in values_of(given.get("invitees")):
        match = USER.fullmatch(str(value).strip())
        invitees.append(int(match.group(1)) if match else value)
    duration = str(given.get("duration_minutes") or "").strip()
    kind = str(given.get("type") or "conference").strip()
    body: dict[str, Any] = {
        "type": kind,
        "name": str(given.get("name") or "").strip(),
        "start_at": _start(given.get("start_at"), zone),
        "timezone": zone,
        "invitees": list(dict.fromkeys(invitees)),
    }
    if duration:  # left out, it is the portal's default (portal/settings.py)
        body["duration_minutes"] = int(duration) if duration.isdigit() and len(duration) < 6 else duration
    if kind == "broadcast":
        body["live_stream"] = {"title": body["name"] or None}
    return body


def crm_record(document_id: Any) -> dict | None:
    """The CRM record of a workflow's document (["crm", "CCrmDocumentDeal", "DEAL_5"]), or None."""
    parts = values_of(document_id)
    match = DOCUMENT_ID.fullmatch(str(parts[-1])) if parts else None
    if not match:
        return None
    return {"entity_type": DOCUMENTS[match.group(1)], "entity_id": int(match.group(2))}
