"""crm_link: the meeting in the timeline of the CRM record it is about (a deal, lead, contact or company), as a
to-do with the join link at the meeting's time; an edit updates it, a cancel (or a move to another record)
marks it cancelled and completes it.

The to-do is crm.activity.todo.add, changed with crm.activity.todo.update (b24restdocs api-reference/crm/
timeline/activities/todo/); it is completed with crm.activity.update COMPLETED=Y (activity-base/
crm-activity-update.md: the todo pages have no way to complete one). Its responsible person is the
organiser. A to-do has no idempotency key, so before a batch that adds one the record is noted
("crm_adding"); after a lost answer the record's open to-dos are listed (crm-activity-list.md, filtered by
owner and by this room's link in the description) and the one found is taken as added: never two.
The calendar event is linked to the record by the calendar step (crm_fields).
"""

from __future__ import annotations

from datetime import UTC

from shared.models import Conference
from shared.pipeline.bitrix_text import bb_text, local_times
from shared.pipeline.step import Answers, BitrixStep, Commands, Outcome, Outside, digest, remember
from shared.pipeline.steps import room
from shared.schemas import CRM_TYPES

NAME = "crm_link"
TITLE_PREFIXES = {"conference": "Meeting in Yandex Telemost", "broadcast": "Broadcast in Yandex Telemost"}
CLOSED = "CAN_NOT_UPDATE_COMPLETED_TODO"
PING_MINUTES = [15]  # a reminder to the organiser 15 minutes before, as the calendar event has


def _record(crm: dict) -> tuple[str, int]:
    return str(crm["entity_type"]), int(crm["entity_id"])


def wanted_record(conference: Conference) -> tuple[str, int] | None:
    if conference.cancel_requested or not conference.crm:
        return None
    return _record(conference.crm)


def _todos(conference: Conference) -> list[dict]:
    return list((conference.applied or {}).get("crm_todos", []))


def _owner(entity_type: str, entity_id: int) -> dict:
    return {"ownerTypeId": CRM_TYPES[entity_type][0], "ownerId": entity_id}


def _deadline(conference: Conference) -> str:
    """The meeting's start with its offset (data-types.md datetime, ISO 8601); a meeting at any time is due
    from when it was made."""
    moment = conference.start_at or conference.created_at.replace(tzinfo=conference.created_at.tzinfo or UTC)
    return moment.isoformat(timespec="seconds")


def _description(conference: Conference) -> str:
    lines = [f"Join: {conference.join_url}"]
    if conference.watch_url:
        lines.append(f"Watch the broadcast: {conference.watch_url}")
    if conference.start_at is not None:
        start, _ = local_times(conference)
        lines.append(f"When: {start[:16]} ({conference.timezone}), {conference.duration_minutes} min")
    lines.append(f"Organiser: {bb_text(conference.owner_name)}")
    return "\n".join(lines)


def todo(conference: Conference) -> dict:
    """What the to-do shows now."""
    return {
        "deadline": _deadline(conference),
        "title": f"{TITLE_PREFIXES[conference.type]}: {bb_text(conference.name)}",
        "description": _description(conference),
        "responsibleId": conference.owner_id,
        "pingOffsets": PING_MINUTES,
    }


def cancelled_todo(conference: Conference) -> dict:
    return {
        "deadline": _deadline(conference),
        "title": f"Cancelled: {bb_text(conference.name)}",
        "description": f"The meeting is cancelled.\n{conference.join_url}",
        "responsibleId": conference.owner_id,
        "pingOffsets": [],
    }


def _target(conference: Conference, entry: dict) -> dict:
    same = (entry["entity_type"], entry["entity_id"]) == wanted_record(conference)
    return todo(conference) if same else cancelled_todo(conference)


class CrmLinkStep(BitrixStep):
    name = NAME
    waits_for = room.NAME  # the to-do carries the room's link

    def wanted(self, conference: Conference) -> bool:
        return bool(conference.crm) or bool(_todos(conference))

    def recover(self, outside: Outside, conference: Conference) -> dict | None:
        """The to-do a batch with a lost answer added, found among the record's to-dos by this room's link."""
        adding = (conference.applied or {}).get("crm_adding")
        if not adding or not conference.join_url:
            return None
        entity_type, entity_id = _record(adding)
        if any((t["entity_type"], t["entity_id"]) == (entity_type, entity_id) for t in _todos(conference)):
            return None
        owner = _owner(entity_type, entity_id)
        rows = outside.bitrix.result(
            "crm.activity.list",
            {
                "filter": {
                    "OWNER_TYPE_ID": owner["ownerTypeId"],
                    "OWNER_ID": entity_id,
                    "PROVIDER_ID": "CRM_TODO",
                    "%DESCRIPTION": conference.join_url,
                },
                "select": ["ID", "DESCRIPTION"],
            },
        )
        for row in rows if isinstance(rows, list) else []:
            found = isinstance(row, dict) and str(row.get("ID", "")).isdigit()
            if found and conference.join_url in str(row.get("DESCRIPTION") or ""):
                return {
                    "entity_type": entity_type,
                    "entity_id": entity_id,
                    "activity_id": int(row["ID"]),
                    "shows": None,
                }
        return None

    def commands(self, outside: Outside, conference: Conference, found: dict | None) -> Commands:
        entries = _todos(conference) + ([found] if found else [])
        commands: Commands = {}
        for index, entry in enumerate(entries):
            target = _target(conference, entry)
            if entry.get("shows") == digest(target):
                continue
            owner = _owner(entry["entity_type"], entry["entity_id"])
            commands[f"update_{index}"] = (
                "crm.activity.todo.update",
                {"id": entry["activity_id"], **owner, **target},
            )
            if target["title"].startswith("Cancelled:"):
                # Completed as well: a cancelled meeting is no open to-do (crm-activity-update.md, COMPLETED).
                commands[f"complete_{index}"] = (
                    "crm.activity.update",
                    {
                        "id": entry["activity_id"],
                        # RESPONSIBLE_ID: starred on the page, and the one field its own example sends.
                        "fields": {**_upper(owner), "RESPONSIBLE_ID": conference.owner_id, "COMPLETED": "Y"},
                    },
                )
        record = wanted_record(conference)
        if record and not any((e["entity_type"], e["entity_id"]) == record for e in entries):
            commands["add"] = ("crm.activity.todo.add", {**_owner(*record), **todo(conference)})
        return commands

    def before_sending(self, conference: Conference, commands: Commands) -> dict | None:
        if "add" not in commands:
            return None
        entity_type, entity_id = wanted_record(conference) or ("", 0)
        return {"crm_adding": {"entity_type": entity_type, "entity_id": entity_id}}

    def record(
        self, outside: Outside, conference: Conference, commands: Commands, answers: Answers
    ) -> Outcome:
        applied = conference.applied or {}
        entries = [dict(t) for t in _todos(conference)]
        # A to-do already completed (by a person in the CRM, or by a completion whose answer was lost) cannot
        # be changed (crm-activity-todo-update.md, CAN_NOT_UPDATE_COMPLETED_TODO): it is left as it is.
        closed = {k for k, e in answers.errors.items() if e.code == CLOSED and k.startswith("update_")}
        closed |= {k.replace("update_", "complete_") for k in closed}
        answers = Answers(
            results={**answers.results, **dict.fromkeys(closed, True)},
            errors={k: e for k, e in answers.errors.items() if k not in closed},
        )
        adding = applied.get("crm_adding")
        if "add" in commands:  # the note before_sending committed is not on this conference object
            adding = (self.before_sending(conference, commands) or {})["crm_adding"]
        for key, (method, params) in commands.items():
            if key in answers.errors or key not in answers.results or method == "crm.activity.update":
                continue
            shown = {k: v for k, v in params.items() if k not in ("id", "ownerTypeId", "ownerId")}
            if method == "crm.activity.todo.update":
                mine = [e for e in entries if e["activity_id"] == params["id"]]
                if not mine and adding:  # the to-do a lost batch added (recover), now brought up to date
                    mine = [{**adding, "activity_id": params["id"]}]
                    entries.append(mine[0])
                    adding = None
                for entry in mine:
                    entry["shows"] = digest(shown)
            else:
                answer = answers.results[key]
                activity_id = str(answer.get("id", "") if isinstance(answer, dict) else answer)
                if activity_id.isdigit() and adding:
                    entries.append({**adding, "activity_id": int(activity_id), "shows": digest(shown)})
                    adding = None
        for key in [k for k in commands if k.startswith("complete_") and k in answers.errors]:
            # Not completed: written again (and completed) on the next attempt.
            index = key.removeprefix("complete_")
            entry_id = commands[f"update_{index}"][1]["id"]
            for entry in entries:
                if entry["activity_id"] == entry_id:
                    entry["shows"] = None
        # An add whose answer failed may still have been made: "crm_adding" stays, and recover looks for it.
        return Outcome(apply=remember(crm_todos=entries, crm_adding=adding), error=answers.first_error())


def _upper(owner: dict) -> dict:
    return {"OWNER_TYPE_ID": owner["ownerTypeId"], "OWNER_ID": owner["ownerId"]}


STEP = CrmLinkStep()
