"""create_room: the Telemost room, made once and then kept to the conference's settings (locked by a cancel)."""

from __future__ import annotations

import logging

from shared.clients.errors import PermanentError
from shared.clients.telemost import Room, TelemostClient
from shared.models import Conference
from shared.pipeline.step import Apply, Outcome, Outside, TelemostStep, remember
from shared.yandex import room_organiser

NAME = "create_room"

log = logging.getLogger(__name__)


def room_settings(conference: Conference) -> dict:
    """The room as it should be; a cancelled one lets nobody in without an organiser (no delete exists)."""
    if conference.cancel_requested:
        return {"waiting_room_level": "ADMINS"}
    settings: dict = {
        "waiting_room_level": conference.waiting_room_level,
        "is_auto_summarization_enabled": conference.auto_summary,  # meeting notes (create and PATCH)
    }
    if conference.type == "broadcast" and conference.live_stream:
        settings["live_stream"] = {k: v for k, v in conference.live_stream.items() if v is not None}
    return settings


class RoomStep(TelemostStep):
    name = NAME
    waits_for = None

    def wanted(self, conference: Conference) -> bool:
        return True  # every conference has a room, and every edit may change it

    def note(self, conference: Conference) -> str | None:
        return (conference.applied or {}).get("room_note")  # whose token made it, when not the one asked for

    # recover: Telemost has no idempotency key and no way to look a room up, so a room whose answer was
    # lost (a crash before the commit, a timeout after Telemost made it) is an orphan; its log line
    # below lets them be counted. Nothing to look up: the default None.

    def run(self, outside: Outside, conference: Conference, found: object) -> Outcome:
        if conference.telemost_id is None and conference.cancel_requested:
            return Outcome()  # cancelled before a room was made: nothing to close
        telemost = outside.telemost
        wanted = room_settings(conference)
        if conference.telemost_id is None:
            # Made without cohosts, which the cohosts step adds: whether Telemost makes the room anyway when
            # a cohost has no Yandex account (NoSuchUserPrincipalsFound) is unverified, and a room made
            # for a refused create would be an orphan at every retry. An unknown cohost fails that step only.
            room = telemost.create_room(
                waiting_room_level=conference.waiting_room_level,
                cohosts=[],
                live_stream=wanted.get("live_stream"),
                auto_summary=conference.auto_summary,
            )
            log.info("room %s made for conference %s", room.id, conference.id)
            if telemost.note:
                log.info("conference %s: %s", conference.id, telemost.note)
            return Outcome(apply=_store_room(room, wanted, telemost.organiser, telemost.note))
        if wanted != (conference.applied or {}).get("room"):
            try:
                telemost.update_room(conference.telemost_id, wanted)
            except PermanentError as error:
                if not room_organiser.room_is_gone(conference, telemost.organiser, error):
                    raise _why_not_changed(conference, telemost, error) from None
            log.info("room %s of conference %s updated: %s", conference.telemost_id, conference.id, wanted)
        return Outcome(apply=remember(room=wanted))


def _why_not_changed(
    conference: Conference, telemost: TelemostClient, error: PermanentError
) -> PermanentError:
    if conference.cancel_requested and error.code == "ApiRestrictedToOrganizations":
        # A personal account makes public meetings only (conference-create.md), and a cancel locks the
        # room with an admins-only waiting room: Telemost has no other way to close one.
        return PermanentError(
            "Telemost",
            "Telemost does not let a personal Yandex account lock a room, so this "
            "room's link still works; the rest of the cancel goes ahead. Tell the "
            "invitees not to use the link.",
            code=error.code,
            status=error.status,
        )
    return room_organiser.explain_refusal(conference, telemost.organiser, error)


def _store_room(room: Room, settings: dict, organiser: str | None, note: str | None) -> Apply:
    def apply(conference: Conference) -> None:
        conference.telemost_id, conference.join_url, conference.watch_url = (
            room.id,
            room.join_url,
            room.watch_url,
        )
        conference.room_organiser = organiser
        conference.applied = {
            **(conference.applied or {}),
            "room": settings,
            "cohosts": [],
            "room_note": note,
        }

    return apply


STEP = RoomStep()
