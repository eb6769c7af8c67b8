"""After a chaos run has settled: what the database and the emulated services hold, against what people
asked for. Each broken promise is a problem; the figures go in one table."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shared.db import Database
from shared.models import Conference, StepState
from shared.pipeline.steps.chat_message import CARD_PREFIXES
from shared.pipeline.steps.invitations import chat_members, wanted_invitees

from .disruptions import Tally
from .load import LoadRecord

DOWN_GRACE_SECONDS = 2.0  # a request that met the server going down is answered just after it is up again
FINAL = {"ready", "partially_failed", "failed", "cancelled"}
MARKER = re.compile(r"Telemost ref: (\S+)")


@dataclass
class Audit:
    figures: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)
        self.figures["problems"] = self.figures.get("problems", 0) + 1


def audit(load: LoadRecord, tally: Tally, database: Database, telemost: dict, bitrix: dict) -> Audit:
    result = Audit()
    result.figures["problems"] = 0
    with database.read() as session:
        conferences = session.scalars(select(Conference).options(selectinload(Conference.steps))).all()
    by_id = {c.id: c for c in conferences}
    _requests(result, load, by_id, tally)
    _statuses(result, load, by_id)
    _calendar(result, conferences, bitrix)
    _notifications(result, conferences, bitrix)
    _rooms(result, conferences, telemost, tally)
    _chats(result, conferences, bitrix)
    _timelines(result, conferences, bitrix)
    result.figures["QUERY_LIMIT_EXCEEDED answers"] = bitrix.get("rejected", {}).get("QUERY_LIMIT_EXCEEDED", 0)
    return result


def _requests(result: Audit, load: LoadRecord, by_id: dict[int, Conference], tally: Tally) -> None:
    accepted = [a for a in load.asked if a.id is not None]
    result.figures.update(
        {
            "conferences asked for": len(load.asked),
            "accepted (202)": len(accepted),
            "in the database": len(by_id),
            "edits accepted": sum(a.edits for a in accepted),
            "cancels accepted": sum(a.cancelled for a in accepted),
        }
    )
    for asked in load.asked:
        if asked.id is None:
            result.problem(f"'{asked.body['name']}' was never accepted")
        elif asked.id not in by_id:
            result.problem(f"conference {asked.id} was accepted and is not in the database")
    if len(by_id) != len({a.id for a in accepted}):
        result.problem(f"{len(by_id)} conferences in the database for {len(accepted)} accepted requests")
    # The web answers a database that does not answer 503 (web/errors.py, since this run found it
    # answering 500): a 500 while PostgreSQL restarts is still counted apart, in case a driver error of
    # another kind slips through, and reported (docs/chaos.md). Any other 500 is a problem.
    during = [
        label
        for label, at in load.errors_at
        if any(start <= at <= end + DOWN_GRACE_SECONDS for start, end in tally.postgres_down)
    ]
    if tally.postgres_down:
        result.figures["500 answers while PostgreSQL restarted"] = len(during)
    if len(load.errors_at) > len(during):
        result.problem(f"the app answered 500: {dict(load.answers)}")


def _statuses(result: Audit, load: LoadRecord, by_id: dict[int, Conference]) -> None:
    statuses = Counter(c.status for c in by_id.values())
    result.figures.update(
        {f"status {s}": statuses.get(s, 0) for s in ("ready", "partially_failed", "failed", "cancelled")}
    )
    for conference in by_id.values():
        if conference.status not in FINAL:
            result.problem(f"conference {conference.id} is still {conference.status}")
        if conference.status in ("failed", "partially_failed") and not any(
            s.error for s in conference.steps if s.state == StepState.FAILED.value
        ):
            result.problem(f"conference {conference.id} is {conference.status} without a reason")
    for asked in load.asked:
        conference = by_id.get(asked.id)
        if conference is None:
            continue
        if asked.cancelled and conference.status != "cancelled":
            result.problem(f"conference {asked.id} was cancelled and is {conference.status}")
        if not asked.cancelled and conference.name != asked.body["name"]:
            result.problem(
                f"conference {asked.id} is named '{conference.name}', its owner's last word was "
                f"'{asked.body['name']}'"
            )


def _calendar(result: Audit, conferences: list[Conference], bitrix: dict) -> None:
    events = defaultdict(list)
    for event in bitrix["events"]:
        found = MARKER.search(event.get("description") or "")
        events[found.group(1) if found else None].append(event)
    doubles = [public_id for public_id, made in events.items() if public_id and len(made) > 1]
    result.figures["conferences with two calendar events"] = len(doubles)
    for public_id in doubles[:5]:
        result.problem(f"conference {public_id} has {len(events[public_id])} calendar events")
    for conference in conferences:
        made = events.get(conference.public_id, [])
        if conference.status == "cancelled" and made:
            result.problem(f"cancelled conference {conference.id} still has calendar event {made[0]['id']}")
        if conference.status == "ready" and conference.create_calendar_event and conference.start_at:
            if [e["id"] for e in made] != [conference.calendar_event_id]:
                result.problem(
                    f"conference {conference.id} points at event {conference.calendar_event_id}, "
                    f"the portal has {[e['id'] for e in made]}"
                )
            elif made[0]["name"] != conference.name:
                result.problem(
                    f"event of conference {conference.id} is '{made[0]['name']}', not '{conference.name}'"
                )


def _notifications(result: Audit, conferences: list[Conference], bitrix: dict) -> None:
    visible = Counter((n["user_id"], n["tag"]) for n in bitrix["notifications"])
    result.figures["notifications shown twice"] = sum(n - 1 for n in visible.values() if n > 1)
    # im.notify has no idempotency key: a batch whose answer was lost is sent again, and its TAG makes
    # the repeat replace the first in place (docs/chaos.md). Counted, not a broken promise.
    repeats = bitrix.get("repeated_notifications", [])
    result.figures["notifications re-sent and replaced in place (TAG)"] = sum(r["times"] - 1 for r in repeats)
    for (user_id, tag), count in visible.items():
        if count > 1:
            result.problem(f"user {user_id} sees {count} notifications tagged {tag}")
    for conference in conferences:
        if conference.status != "ready" or not conference.invite_users:
            continue
        for user_id in wanted_invitees(conference):
            if (user_id, f"telemost|{conference.public_id}|{user_id}") not in visible:
                result.problem(f"invitee {user_id} of conference {conference.id} has no notification of it")
        for user_id in chat_members(conference) & set(conference.invitees):
            if (user_id, f"telemost|{conference.public_id}|{user_id}") in visible:
                result.problem(
                    f"invitee {user_id} of conference {conference.id} was told in its chat and "
                    f"notified as well"
                )


def _rooms(result: Audit, conferences: list[Conference], telemost: dict, tally: Tally) -> None:
    rooms = {room["id"]: room for room in telemost["conferences"]}
    ours = {c.telemost_id for c in conferences if c.telemost_id}
    orphans = len(set(rooms) - ours)
    bound = tally.in_flight_at_kills["worker"]
    result.figures.update(
        {"Telemost rooms": len(rooms), "orphan rooms": orphans, "room steps in flight at worker kills": bound}
    )
    if orphans > bound:
        result.problem(f"{orphans} orphan rooms, more than the {bound} room steps a kill interrupted")
    for conference in conferences:
        room = rooms.get(conference.telemost_id)
        if conference.telemost_id and room is None:
            result.problem(
                f"conference {conference.id} points at room {conference.telemost_id}, unknown to Telemost"
            )
        elif room and conference.status == "cancelled" and room["waiting_room_level"] != "ADMINS":
            result.problem(f"cancelled conference {conference.id} left room {room['id']} open")
        elif room and conference.status == "ready" and sorted(room["cohosts"]) != sorted(conference.cohosts):
            result.problem(
                f"room of conference {conference.id} has cohosts {room['cohosts']}, not {conference.cohosts}"
            )


def _by_link(conferences: list[Conference], entries: list[dict], text) -> dict[int, list[dict]]:
    """The entries (chat messages, to-dos) that carry each conference's join link, by conference id."""
    found: dict[int, list[dict]] = defaultdict(list)
    for conference in conferences:
        if conference.join_url:
            found[conference.id] = [e for e in entries if conference.join_url in (text(e) or "")]
    return found


def _chats(result: Audit, conferences: list[Conference], bitrix: dict) -> None:
    messages = [m for chat in bitrix["chats"] for m in chat["messages"]]
    posted = _by_link(conferences, messages, lambda m: m["text"])
    asked = [c for c in conferences if c.chat]
    result.figures.update(
        {
            "conferences posted to a chat": len(asked),
            "chat cards posted twice": sum(len(m) - 1 for m in posted.values() if len(m) > 1),
        }
    )
    for conference in asked:
        cards = posted.get(conference.id, [])
        if len(cards) > 1:
            result.problem(f"conference {conference.id} has {len(cards)} cards in its chat")
        elif conference.status == "ready" and not (
            cards and cards[0]["text"].startswith(CARD_PREFIXES) and conference.name in cards[0]["text"]
        ):
            result.problem(f"chat card of conference {conference.id} is {cards}, not its card as named now")
        elif conference.status == "cancelled" and cards and "is cancelled" not in cards[0]["text"]:
            result.problem(f"cancelled conference {conference.id} still shows a Join card in its chat")


def _timelines(result: Audit, conferences: list[Conference], bitrix: dict) -> None:
    todos = [t for record in bitrix["crm"] for t in record["timeline"]]
    linked = _by_link(conferences, todos, lambda t: t["description"])
    asked = [c for c in conferences if c.crm]
    result.figures.update(
        {
            "conferences about a CRM record": len(asked),
            "timeline to-dos added twice": sum(len(t) - 1 for t in linked.values() if len(t) > 1),
        }
    )
    for conference in asked:
        made = linked.get(conference.id, [])
        if len(made) > 1:
            result.problem(f"conference {conference.id} has {len(made)} to-dos in its record's timeline")
        elif conference.status == "ready" and not (
            made and not made[0]["completed"] and conference.name in made[0]["title"]
        ):
            result.problem(
                f"timeline to-do of conference {conference.id} is {made}, not an open one as named now"
            )
        elif conference.status == "cancelled" and made and not made[0]["completed"]:
            result.problem(f"cancelled conference {conference.id} left an open to-do {made[0]['id']}")


def audit_copy(result: Audit, load: LoadRecord, backup_started: float, copy: Database) -> None:
    """The restored backup: every conference acknowledged (202) before the backup started is in it, once,
    as its owner asked for it then, and every conference in it reads whole (its steps with it)."""
    with copy.read() as session:
        conferences = session.scalars(select(Conference).options(selectinload(Conference.steps))).all()
    by_id = {c.id: c for c in conferences}
    before = [a for a in load.asked if a.accepted_at is not None and a.accepted_at < backup_started]
    missing = [a for a in before if a.id not in by_id]
    accepted = {a.id for a in load.asked if a.id is not None}
    result.figures.update(
        {
            "restore: conferences acknowledged before the backup": len(before),
            "restore: conferences in the restored copy": len(by_id),
            "restore: acknowledged before the backup and missing": len(missing),
        }
    )
    for asked in missing[:20]:
        result.problem(f"conference {asked.id}, acknowledged before the backup, is not in the restored copy")
    for conference in conferences:
        if conference.id not in accepted:
            result.problem(f"the restored copy has conference {conference.id}, which nobody was told of")
        elif not conference.steps:
            result.problem(f"conference {conference.id} has no steps in the restored copy")


def table(figures: dict[str, object]) -> str:
    width = max(len(k) for k in figures)
    lines = [f"| {'figure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {key.ljust(width)} | {value} |" for key, value in figures.items()]
    return "\n".join(lines)
