"""The conference pipeline (DESIGN §4): create the room, then the calendar event and the invitations.

`Provisioner.run` is what a worker task calls with a conference id. It runs every step that is due,
each claimed and recorded through `steps`, and answers when it should run again (or None).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.exc import SQLAlchemyError

from ..clients.bitrix24 import MAX_BATCH_COMMANDS, Bitrix24Client
from ..clients.errors import OutsideServiceError, PermanentError
from ..clients.telemost import Room, TelemostClient
from ..db import Database
from ..models import Conference, StepName, StepState, utcnow
from . import bitrix_content
from .steps import Claim, claim, fail, succeed

# The steps `Provisioner.run` runs, and what each waits for: the calendar event and the invitations
# need the room's link and not each other. (sync_cohosts follows edits and is not run here yet.)
DEPENDS_ON = {
    StepName.CREATE_ROOM: None,
    StepName.CALENDAR_EVENT: StepName.CREATE_ROOM,
    StepName.NOTIFY_INVITEES: StepName.CREATE_ROOM,
}
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
    if name not in DEPENDS_ON:
        return False
    needed = DEPENDS_ON[name]
    return needed is None or conference.step(needed).state == StepState.DONE.value


def next_due(conference: Conference) -> datetime | None:
    """When the earliest runnable pending step can run; None when nothing is left to run."""
    times = [s.next_attempt_at or utcnow() for s in conference.steps
             if s.state == StepState.PENDING.value and runnable(conference, StepName(s.name))]
    return min(times) if times else None


class Provisioner:
    def __init__(self, db: Database, clients: OutsideClients, stale_after: timedelta) -> None:
        self.db = db
        self.clients = clients
        self.stale_after = stale_after

    def _claim(self, conference_id: int, name: StepName) -> Claim | None:
        return claim(self.db, conference_id, name, self.stale_after)

    def run(self, conference_id: int) -> datetime | None:
        self._create_room(conference_id)
        self._bitrix_steps(conference_id)
        with self.db.read() as session:
            conference = session.get(Conference, conference_id)
            return None if conference is None else next_due(conference)

    def _load(self, conference_id: int) -> Conference | None:
        with self.db.read() as session:
            return session.get(Conference, conference_id)

    def _create_room(self, conference_id: int) -> None:
        claimed = self._claim(conference_id, StepName.CREATE_ROOM)
        if claimed is None:
            return
        conference = self._load(conference_id)
        try:
            room = self.clients.telemost_for(conference).create_room(
                waiting_room_level=conference.waiting_room_level, cohosts=conference.cohosts,
                live_stream=conference.live_stream if conference.type == "broadcast" else None)
        except OutsideServiceError as error:
            fail(self.db, claimed, error)
            return
        except Exception as error:  # a bug must end the step, not leave it running for the sweeper forever
            _fail_unexpectedly(self.db, [claimed], error)
            return
        # Telemost has no idempotency key: a room whose answer is lost (a crash before this commit, a
        # timeout after Telemost made it) is an orphan. The log line lets them be counted.
        log.info("room %s made for conference %s", room.id, conference_id)
        succeed(self.db, claimed, apply=_store_room(room))

    def _bitrix_steps(self, conference_id: int) -> None:
        conference = self._load(conference_id)
        if conference is None or not runnable(conference, StepName.CALENDAR_EVENT):
            return
        claims = {name: c for name in (StepName.CALENDAR_EVENT, StepName.NOTIFY_INVITEES)
                  if (c := self._claim(conference_id, name)) is not None}
        if not claims:
            return
        try:
            bitrix = self.clients.bitrix_for(conference)
        except OutsideServiceError as error:
            for claimed in claims.values():
                fail(self.db, claimed, error)
            return
        try:
            self._write_to_bitrix(bitrix, conference, claims)
        except SQLAlchemyError:
            raise  # the database is busy or gone: the steps stay running and the sweeper takes them over
        except Exception as error:  # a bug must end the steps, not leave them running for the sweeper forever
            _fail_unexpectedly(self.db, list(claims.values()), error)

    def _write_to_bitrix(self, bitrix: Bitrix24Client, conference: Conference, claims: dict[StepName, Claim]) -> None:
        """The calendar event and the invitations, in as few batch requests as the portal allows."""
        commands: dict[str, tuple[str, dict]] = {}
        calendar = claims.get(StepName.CALENDAR_EVENT)
        if calendar is not None and not self._reuse_existing_event(bitrix, calendar, conference):
            commands["calendar"] = ("calendar.event.add", bitrix_content.calendar_event(conference))
        notify = claims.get(StepName.NOTIFY_INVITEES)
        if notify is not None:
            for user_id in conference.invitees:
                commands[f"notify_{user_id}"] = (
                    "im.notify.system.add", bitrix_content.invitation(conference, user_id, self.clients.notify_client_id))
        results, errors = self._run_batches(bitrix, commands)
        if "calendar" in commands:
            if "calendar" in errors:
                fail(self.db, calendar, errors["calendar"])
            else:
                succeed(self.db, calendar, apply=_store_event_id(results.get("calendar")))
        if notify is not None:
            self._record_notifications(notify, errors)

    def _reuse_existing_event(self, bitrix: Bitrix24Client, calendar: Claim, conference: Conference) -> bool:
        """After a lost answer or a crash, the event may exist already: find it by its marker, not make another."""
        if not calendar.recovering:
            return False
        try:
            event_id = bitrix_content.find_event(bitrix, conference)
        except OutsideServiceError as error:
            fail(self.db, calendar, error)
            return True
        if event_id is None:
            return False
        succeed(self.db, calendar, apply=_store_event_id(event_id))
        return True

    @staticmethod
    def _run_batches(bitrix: Bitrix24Client, commands: dict[str, tuple[str, dict]]):
        results: dict[str, object] = {}
        errors: dict[str, OutsideServiceError] = {}
        keys = list(commands)
        for start in range(0, len(keys), MAX_BATCH_COMMANDS):
            chunk = {key: commands[key] for key in keys[start:start + MAX_BATCH_COMMANDS]}
            try:
                outcome = bitrix.batch(chunk)
            except OutsideServiceError as error:
                errors.update({key: error for key in chunk})
                continue
            results.update(outcome.results)
            errors.update(outcome.errors)
            errors.update({key: PermanentError("Bitrix24", f"Bitrix24 gave no answer for {key}")
                           for key in chunk if key not in outcome.results and key not in outcome.errors})
        return results, errors

    def _record_notifications(self, notify: Claim, errors: dict[str, OutsideServiceError]) -> None:
        failed = {key.removeprefix("notify_"): error for key, error in errors.items() if key.startswith("notify_")}
        if not failed:
            succeed(self.db, notify)
            return
        # A repeat replaces a notification with the same TAG, so re-sending to everyone is safe.
        transient = [e for e in failed.values() if e.transient]
        first = (transient or list(failed.values()))[0]
        users = ", ".join(sorted(failed, key=int))
        error_type = type(first)
        fail(self.db, notify, error_type(first.service, f"Could not notify users {users}: {first.message}",
                                         code=first.code, status=first.status, retry_after=first.retry_after))


def _fail_unexpectedly(db: Database, claims: list[Claim], error: Exception) -> None:
    log.exception("unexpected error in a step of conference %s", claims[0].conference_id, exc_info=error)
    message = f"The app hit an unexpected error ({type(error).__name__}); it is logged for the team. Retry later."
    for claimed in claims:
        fail(db, claimed, PermanentError("app", message))  # no-op for a claim already recorded


def _store_room(room: Room) -> Callable[[Conference], None]:
    def apply(conference: Conference) -> None:
        conference.telemost_id, conference.join_url, conference.watch_url = room.id, room.join_url, room.watch_url
    return apply


def _store_event_id(event_id) -> Callable[[Conference], None]:
    def apply(conference: Conference) -> None:
        conference.calendar_event_id = int(event_id) if str(event_id).isdigit() else None
    return apply
