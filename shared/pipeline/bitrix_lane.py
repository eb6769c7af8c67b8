"""The two Bitrix24 steps, calendar_event and notify_invitees, which travel together in `batch` requests
(one unit of the portal's rate limit for up to 50 commands, DESIGN §4 rule 7)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from shared.clients.bitrix24 import MAX_BATCH_COMMANDS, Bitrix24Client
from shared.clients.errors import OutsideServiceError, PermanentError
from shared.models import Conference, StepName
from shared.pipeline import bitrix_text as bitrix_content
from shared.pipeline.state import Claim, fail, succeed

if TYPE_CHECKING:
    from shared.pipeline.runner import Provisioner

log = logging.getLogger(__name__)
Commands = dict[str, tuple[str, dict]]


def wants_event(conference: Conference) -> bool:
    return conference.create_calendar_event and not conference.cancel_requested and conference.start_at is not None


def wanted_invitees(conference: Conference) -> list[int]:
    if conference.cancel_requested or not conference.invite_users:
        return []
    return list(conference.invitees)


class BitrixSync:
    def __init__(self, provisioner: "Provisioner") -> None:
        self.provisioner = provisioner
        self.db = provisioner.db

    def run(self, conference_id: int) -> None:
        from shared.pipeline.runner import fail_unexpectedly, runnable
        conference = self.provisioner.load(conference_id)
        if conference is None or not runnable(conference, StepName.CALENDAR_EVENT):
            return
        claims = {name: c for name in (StepName.CALENDAR_EVENT, StepName.NOTIFY_INVITEES)
                  if (c := self.provisioner.claim(conference_id, name)) is not None}
        if not claims:
            return
        conference = self.provisioner.load(conference_id)
        try:
            bitrix = self.provisioner.clients.bitrix_for(conference)
            self._sync(bitrix, conference, claims)
        except OutsideServiceError as error:
            for claimed in claims.values():
                fail(self.db, claimed, error)
        except SQLAlchemyError:
            raise  # the database is busy or gone: the steps stay running and the sweeper takes them over
        except Exception as error:  # a bug must end the steps, not leave them running for the sweeper forever
            fail_unexpectedly(self.db, list(claims.values()), error)

    def _sync(self, bitrix: Bitrix24Client, conference: Conference, claims: dict[StepName, Claim]) -> None:
        commands: Commands = {}
        calendar = claims.get(StepName.CALENDAR_EVENT)
        if calendar is not None:
            commands.update(self._calendar_commands(bitrix, calendar, conference))
        notify = claims.get(StepName.NOTIFY_INVITEES)
        if notify is not None:
            commands.update(self._notify_commands(conference))
            invites = any(key.startswith("notify_") for key in commands)
            if invites and commands.get("calendar", ("",))[0] == "calendar.event.add":
                self._note_sending(conference)
        results, errors = run_batches(bitrix, commands)
        if calendar is not None:
            self._record_calendar(bitrix, calendar, conference, commands, results, errors)
        if notify is not None:
            self._record_notifications(notify, conference, errors)

    # --- calendar_event ----------------------------------------------------------------------------

    def _calendar_commands(self, bitrix: Bitrix24Client, calendar: Claim, conference: Conference) -> Commands:
        event_id = conference.calendar_event_id
        if event_id is None:
            # After a lost answer or a crash the event may exist already: found by its marker, it is
            # brought to the current version (an edit may have come since) or deleted, never made twice.
            event_id = self._lost_event(bitrix, calendar, conference)
            if event_id is not None and wants_event(conference):
                return {"calendar": ("calendar.event.update", bitrix_content.calendar_update(conference, event_id, None)),
                        "calendar_host": ("calendar.event.getbyid", {"id": event_id})}
        if event_id is None:
            if not wants_event(conference):
                return {}
            # The organiser is whoever the token belongs to: read it back in the same batch, since a
            # later update by anyone else must name them as `host`.
            return {"calendar": ("calendar.event.add", bitrix_content.calendar_event(conference)),
                    "calendar_host": ("calendar.event.getbyid", {"id": "$result[calendar]"})}
        if wants_event(conference):
            host = (conference.applied or {}).get("calendar_host")
            return {"calendar": ("calendar.event.update", bitrix_content.calendar_update(conference, event_id, host))}
        return {"calendar": ("calendar.event.delete", {"id": event_id})}

    @staticmethod
    def _lost_event(bitrix: Bitrix24Client, calendar: Claim, conference: Conference) -> int | None:
        if not calendar.recovering or conference.start_at is None:
            return None
        return bitrix_content.find_event(bitrix, conference)

    def _record_calendar(self, bitrix: Bitrix24Client, calendar: Claim, conference: Conference, commands: Commands,
                         results: dict, errors: dict) -> None:
        if "calendar" not in commands:
            succeed(self.db, calendar)  # nothing to do
            return
        method, params = commands["calendar"]
        if "calendar" in errors:
            if method == "calendar.event.delete" and _event_is_gone(bitrix, params["id"]):
                succeed(self.db, calendar, apply=_store_event(None, None))  # already gone counts as done
            else:
                fail(self.db, calendar, calendar_refusal(errors["calendar"], conference.owner_id))
            return
        host = results["calendar_host"].get("MEETING_HOST") if isinstance(results.get("calendar_host"), dict) else None
        if method == "calendar.event.add":
            succeed(self.db, calendar, apply=_store_event(results.get("calendar"), host))
        elif conference.calendar_event_id is None and method == "calendar.event.update":
            succeed(self.db, calendar, apply=_store_event(params["id"], host))  # a lost event, found and updated
        elif method == "calendar.event.delete":
            succeed(self.db, calendar, apply=_store_event(None, None))
        else:
            succeed(self.db, calendar)
        log.info("calendar of conference %s: %s done", conference.id, method)

    # --- notify_invitees ---------------------------------------------------------------------------

    # The portal has no idempotency key for notifications, and a batch may stop halfway (a command that
    # hangs times out the request after the earlier ones ran), so after a lost answer nothing proves who
    # was told: invitations go out again (their TAG replaces the first), and before a batch that makes
    # the event and invites people, who it invites is noted, so that a cancel or a removal that comes
    # before any answer still reaches everyone that batch may have invited.

    def _note_sending(self, conference: Conference) -> None:
        sending = _told(conference)
        with self.db.write() as session:
            locked = session.scalars(select(Conference).where(Conference.id == conference.id).with_for_update()).one_or_none()
            if locked is not None:
                locked.applied = {**(locked.applied or {}), "sending": sending}

    def _notify_commands(self, conference: Conference) -> Commands:
        """New invitees are invited, removed ones told, staying ones told again only when the time or link changed."""
        client_id = self.provisioner.clients.notify_client_id
        applied = conference.applied or {}
        wanted, told = wanted_invitees(conference), list(applied.get("invitees", []))
        changed = applied.get("notice") != bitrix_content.notice(conference)
        commands: Commands = {}
        for user_id in wanted:
            if user_id not in told:
                commands[f"notify_{user_id}"] = ("im.notify.system.add",
                                                 bitrix_content.invitation(conference, user_id, client_id))
            elif changed:
                commands[f"notify_{user_id}"] = ("im.notify.system.add",
                                                 bitrix_content.change_notice(conference, user_id, client_id))
        gone = bitrix_content.cancellation if conference.cancel_requested else bitrix_content.removal_notice
        # Whoever a batch with a lost answer may have invited hears of a removal or a cancel too.
        maybe_told = [u for u in (applied.get("sending") or {}).get("invitees", []) if u not in told]
        for user_id in told + maybe_told:
            if user_id not in wanted:
                commands[f"notify_{user_id}"] = ("im.notify.system.add", gone(conference, user_id, client_id))
        return commands

    def _record_notifications(self, notify: Claim, conference: Conference, errors: dict) -> None:
        failed = {key.removeprefix("notify_"): error for key, error in errors.items() if key.startswith("notify_")}
        if not failed:
            succeed(self.db, notify, apply=_remember_all({**_told(conference), "sending": None}))
            return
        # A repeat replaces a notification with the same TAG, so re-sending to everyone is safe.
        transient = [e for e in failed.values() if e.transient]
        first = (transient or list(failed.values()))[0]
        users = ", ".join(sorted(failed, key=int))
        fail(self.db, notify, type(first)(first.service, f"Could not notify users {users}: {first.message}",
                                          code=first.code, status=first.status, retry_after=first.retry_after))


def _told(conference: Conference) -> dict:
    """What the invitees know once this version's notifications are sent."""
    return {"invitees": wanted_invitees(conference), "notice": bitrix_content.notice(conference)}


def calendar_refusal(error: OutsideServiceError, owner_id: int) -> OutsideServiceError:
    """The step's message when the portal will not let the app write into the owner's calendar.

    The core lets only a portal administrator and the calendar's owner write into a user calendar, and
    answers "Access denied" with an empty code (b24restdocs calendar-event-add.md, error table; the
    organiser is always the caller, "Event Organizer"). With the owner's own authorisation that does not
    happen; through a webhook made by an employee who is not an administrator it always does. The
    event is then not made at all rather than made in the webhook user's own calendar with the owner
    invited: there the webhook user would organise it, the owner could neither move nor rename it
    (calendar-event-update.md: only the organiser, or someone naming them as `host`), the app's recovery
    and the portal's change events look for it in the owner's calendar, and one account's calendar would
    fill with everyone's meetings. The message says who can fix it and how."""
    if error.transient or error.code or not error.message.rstrip(".").endswith("Access denied"):  # update.md ends "."
        return error
    return PermanentError(error.service, "Bitrix24 did not let the app write into the calendar of user "
                                         f"{owner_id} (Access denied): only its owner, a portal administrator or "
                                         "someone the owner gave edit access to that calendar may. If the app "
                                         "works through a webhook (BITRIX24_WEBHOOK_URL), an administrator must "
                                         "create it under their own account; then retry this step.",
                          status=error.status)


def run_batches(bitrix: Bitrix24Client, commands: Commands) -> tuple[dict, dict]:
    """Runs commands in batches of 50; answers (results, errors) by key. A failed request fails its keys."""
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


def _event_is_gone(bitrix: Bitrix24Client, event_id: int | None) -> bool:
    try:
        return event_id is None or not bitrix.result("calendar.event.getbyid", {"id": event_id})
    except OutsideServiceError:
        return False


def _store_event(event_id, host) -> Callable[[Conference], None]:
    def apply(conference: Conference) -> None:
        conference.calendar_event_id = int(event_id) if str(event_id).isdigit() else None
        if host is not None and str(host).isdigit():
            conference.applied = {**(conference.applied or {}), "calendar_host": int(host)}
    return apply


def _remember_all(values: dict) -> Callable[[Conference], None]:
    def apply(conference: Conference) -> None:
        conference.applied = {**(conference.applied or {}), **values}
    return apply
