"""The conference pipeline (DESIGN §4): bring the room, the cohosts, the calendar event and the invitees
to the conference's desired state, whether it was just created, edited or cancelled.

`Provisioner.run` is what a worker task calls with a conference id. It runs every step that is due,
each claimed and recorded through `steps`, and answers when it should run again (or None). Each step
compares what the conference wants with what `conference.applied` says the outside world has, and
sends only the difference.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.exc import SQLAlchemyError

from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.errors import OutsideServiceError, PermanentError
from shared.clients.telemost import Room, TelemostClient
from shared.db import Database
from shared.models import Conference, StepName, StepState, utcnow
from shared.pipeline import bitrix_text as bitrix_content
from shared.yandex import room_organiser
from shared.pipeline.bitrix_lane import BitrixSync
from shared.pipeline.state import Claim, claim, fail, is_stale, succeed

# What each step waits for: everything after the room needs the room (or its absence) settled.
DEPENDS_ON = {
    StepName.CREATE_ROOM: None,
    StepName.SYNC_COHOSTS: StepName.CREATE_ROOM,
    StepName.CALENDAR_EVENT: StepName.CREATE_ROOM,
    StepName.NOTIFY_INVITEES: StepName.CREATE_ROOM,
}
# Which worker queue runs which steps (shared/jobs.py): Telemost's, and Bitrix24's behind its rate limit.
TELEMOST_STEPS = (StepName.CREATE_ROOM, StepName.SYNC_COHOSTS)
BITRIX_STEPS = (StepName.CALENDAR_EVENT, StepName.NOTIFY_INVITEES)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutsideClients:
    """The ways out, chosen per conference: whose Telemost token, which way into the portal.

    Each raises PermanentError when there is no way (nothing configured, an account to reconnect).
    """

    telemost_for: Callable[[Conference], TelemostClient]
    bitrix_for: Callable[[Conference], Bitrix24Client]
    # im.notify* through a webhook honours TAG only with a CLIENT_ID (reference/bitrix24-rest.md §2).
    notify_client_id: str | None = None


def runnable(conference: Conference, name: StepName) -> bool:
    """A step runs once the room is settled: done, or failed where a room exists or is being cancelled
    (a cancel whose room cannot be closed still deletes the event and tells the invitees)."""
    needed = DEPENDS_ON[name]
    if needed is None:
        return True
    state = conference.step(needed).state
    if state == StepState.FAILED.value:
        return conference.cancel_requested or conference.telemost_id is not None
    return state == StepState.DONE.value


def next_due(conference: Conference, names: tuple[StepName, ...] = tuple(StepName),
             stale_after: timedelta | None = None) -> datetime | None:
    """When the earliest runnable pending step of `names` can run; None when none is left to run.
    With `stale_after`, a step whose worker died (running that long) is due now, to be taken over."""
    now = utcnow()
    times = [s.next_attempt_at or now for s in conference.steps
             if s.state == StepState.PENDING.value and s.name in names and runnable(conference, StepName(s.name))]
    if stale_after is not None and any(s.name in names and is_stale(s, now, stale_after) for s in conference.steps):
        times.append(now)
    return min(times) if times else None


def room_settings(conference: Conference) -> dict:
    """The room as it should be; a cancelled one lets nobody in without an organiser (no delete exists)."""
    if conference.cancel_requested:
        return {"waiting_room_level": "ADMINS"}
    settings = {"waiting_room_level": conference.waiting_room_level}
    if conference.type == "broadcast" and conference.live_stream:
        settings["live_stream"] = {k: v for k, v in conference.live_stream.items() if v is not None}
    return settings


def _remember(key: str, value) -> Callable[[Conference], None]:
    def apply(conference: Conference) -> None:
        conference.applied = {**(conference.applied or {}), key: value}
    return apply


class Provisioner:
    def __init__(self, db: Database, clients: OutsideClients, stale_after: timedelta) -> None:
        self.db = db
        self.clients = clients
        self.stale_after = stale_after
        self.bitrix = BitrixSync(self)

    def claim(self, conference_id: int, name: StepName) -> Claim | None:
        return claim(self.db, conference_id, name, self.stale_after)

    def load(self, conference_id: int) -> Conference | None:
        with self.db.read() as session:
            return session.get(Conference, conference_id)

    def run(self, conference_id: int) -> datetime | None:
        """Every due step in one go; the worker runs the two halves below from separate queues."""
        self.run_telemost(conference_id)
        conference = self.run_bitrix(conference_id)
        return None if conference is None else next_due(conference)

    def run_telemost(self, conference_id: int) -> Conference | None:
        """The room, then its cohosts. Answers the conference as they left it, for the caller to see
        what is due next on either queue."""
        self._guarded(conference_id, StepName.CREATE_ROOM, self._room)
        self._guarded(conference_id, StepName.SYNC_COHOSTS, self._cohosts)
        return self.load(conference_id)

    def due(self, conference: Conference, names: tuple[StepName, ...]) -> datetime | None:
        """When a step of `names` should run next, counting one left running by a dead worker."""
        return next_due(conference, names, self.stale_after)

    def run_bitrix(self, conference_id: int) -> Conference | None:
        """The calendar event and the invitations, in one batch; answers the conference as they left it."""
        self.bitrix.run(conference_id)
        return self.load(conference_id)

    def _guarded(self, conference_id: int, name: StepName, body: Callable[[Claim, Conference], None]) -> None:
        """Claims the step if it can run, and turns every failure into a recorded one."""
        conference = self.load(conference_id)
        if conference is None or not runnable(conference, name):
            return
        claimed = self.claim(conference_id, name)
        if claimed is None:
            return
        try:
            body(claimed, self.load(conference_id))
        except OutsideServiceError as error:
            fail(self.db, claimed, error)
        except SQLAlchemyError:
            raise  # the database is busy or gone: the step stays running and the sweeper takes it over
        except Exception as error:  # a bug must end the step, not leave it running for the sweeper forever
            fail_unexpectedly(self.db, [claimed], error)

    def _room(self, claimed: Claim, conference: Conference) -> None:
        if conference.telemost_id is None and conference.cancel_requested:
            succeed(self.db, claimed)  # cancelled before a room was made: nothing to close
            return
        telemost = self.clients.telemost_for(conference)
        wanted = room_settings(conference)
        if conference.telemost_id is None:
            # Made without cohosts, which the cohosts step adds: whether Telemost makes the room anyway when
            # a cohost has no Yandex account (NoSuchUserPrincipalsFound) is unverified, and a room made
            # for a refused create would be an orphan at every retry. An unknown cohost fails that step only.
            room = telemost.create_room(waiting_room_level=conference.waiting_room_level, cohosts=[],
                                        live_stream=wanted.get("live_stream"))
            # Telemost has no idempotency key: a room whose answer is lost (a crash before this commit,
            # a timeout after Telemost made it) is an orphan. The log line lets them be counted.
            log.info("room %s made for conference %s", room.id, conference.id)
            succeed(self.db, claimed, apply=_store_room(room, wanted, telemost.organiser))
            return
        if wanted != (conference.applied or {}).get("room"):
            try:
                telemost.update_room(conference.telemost_id, wanted)
            except PermanentError as error:
                if not room_organiser.room_is_gone(conference, telemost.organiser, error):
                    raise _why_not_changed(conference, telemost, error) from None
            log.info("room %s of conference %s updated: %s", conference.telemost_id, conference.id, wanted)
        succeed(self.db, claimed, apply=_remember("room", wanted))

    def _cohosts(self, claimed: Claim, conference: Conference) -> None:
        wanted = [] if conference.cancel_requested else list(conference.cohosts)
        have = list((conference.applied or {}).get("cohosts", []))
        if conference.telemost_id is None or wanted == have:
            succeed(self.db, claimed, apply=_remember("cohosts", have))
            return
        telemost = self.clients.telemost_for(conference)
        try:
            self._sync_cohosts(claimed, conference, telemost, wanted, have)
        except PermanentError as error:
            raise room_organiser.explain_refusal(conference, telemost.organiser, error) from None

    def _sync_cohosts(self, claimed: Claim, conference: Conference, telemost: TelemostClient, wanted: list[str],
                      have: list[str]) -> None:
        room = conference.telemost_id
        if not wanted:
            telemost.clear_cohosts(room)
            succeed(self.db, claimed, apply=_remember("cohosts", []))
            return
        removed = [e for e in have if e not in wanted]
        if removed:
            telemost.remove_cohosts(room, removed)
        added = [e for e in wanted if e not in have]
        unknown: PermanentError | None = None
        try:
            telemost.add_cohosts(room, added)
        except PermanentError as error:
            if not error.subjects:
                raise
            unknown = error  # Yandex knows none of them: add the rest, then say which ones failed
            rest = [e for e in added if e not in error.subjects]
            if rest:
                telemost.add_cohosts(room, rest)
            added = rest
        applied = [e for e in have if e not in removed] + added
        log.info("cohosts of conference %s: +%s -%s", conference.id, added, removed)
        if unknown is None:
            succeed(self.db, claimed, apply=_remember("cohosts", applied))
        else:
            fail(self.db, claimed, unknown, apply=_remember("cohosts", applied))


def fail_unexpectedly(db: Database, claims: list[Claim], error: Exception) -> None:
    log.exception("unexpected error in a step of conference %s", claims[0].conference_id, exc_info=error)
    message = f"The app hit an unexpected error ({type(error).__name__}); it is logged for the team. Retry later."
    for claimed in claims:
        fail(db, claimed, PermanentError("app", message))  # no-op for a claim already recorded


def _why_not_changed(conference: Conference, telemost: TelemostClient, error: PermanentError) -> PermanentError:
    if conference.cancel_requested and error.code == "ApiRestrictedToOrganizations":
        # A personal account makes public meetings only (conference-create.md), and a cancel locks the
        # room with an admins-only waiting room: Telemost has no other way to close one.
        return PermanentError("Telemost", "Telemost does not let a personal Yandex account lock a room, so this "
                                          "room's link still works; the rest of the cancel goes ahead. Tell the "
                                          "invitees not to use the link.", code=error.code, status=error.status)
    return room_organiser.explain_refusal(conference, telemost.organiser, error)


def _store_room(room: Room, settings: dict, organiser: str | None) -> Callable[[Conference], None]:
    def apply(conference: Conference) -> None:
        conference.telemost_id, conference.join_url, conference.watch_url = room.id, room.join_url, room.watch_url
        conference.room_organiser = organiser
        conference.applied = {**(conference.applied or {}), "room": settings, "cohosts": []}
        cohosts = conference.step(StepName.SYNC_COHOSTS)
        if conference.cohosts and cohosts.state == StepState.SKIPPED.value:
            cohosts.state = StepState.PENDING.value  # queued before cohosts followed the room: they do now
    return apply
