"""sync_cohosts: the room's cohosts brought to the conference's list, added after the room is made."""

from __future__ import annotations

import logging

from shared.clients.errors import PermanentError
from shared.clients.telemost import TelemostClient
from shared.models import Conference
from shared.pipeline.step import Outcome, Outside, TelemostStep, remember
from shared.pipeline.steps import room
from shared.yandex import room_organiser

NAME = "sync_cohosts"

log = logging.getLogger(__name__)


def wanted_cohosts(conference: Conference) -> list[str]:
    return [] if conference.cancel_requested else list(conference.cohosts)


def applied_cohosts(conference: Conference) -> list[str]:
    return list((conference.applied or {}).get("cohosts", []))


class CohostsStep(TelemostStep):
    name = NAME
    # Added after the room is made, never with it: an unknown one cannot cost the room (Y3).
    waits_for = room.NAME

    def wanted(self, conference: Conference) -> bool:
        return bool(conference.cohosts) or bool(applied_cohosts(conference))

    def done_count(self, conference: Conference) -> int:
        return len(set(applied_cohosts(conference)) & set(wanted_cohosts(conference)))

    # recover: none needed. Each attempt sends only the difference between the list wanted and the one
    # last recorded, and adding or removing a cohost twice leaves the room the same.

    def run(self, outside: Outside, conference: Conference, found: object) -> Outcome:
        wanted, have = wanted_cohosts(conference), applied_cohosts(conference)
        if conference.telemost_id is None or wanted == have:
            return Outcome(apply=remember(cohosts=have))
        telemost = outside.telemost
        try:
            return _sync(conference, telemost, wanted, have)
        except PermanentError as error:
            raise room_organiser.explain_refusal(conference, telemost.organiser, error) from None


def _sync(conference: Conference, telemost: TelemostClient, wanted: list[str], have: list[str]) -> Outcome:
    room = conference.telemost_id
    assert room is not None
    if not wanted:
        telemost.clear_cohosts(room)
        return Outcome(apply=remember(cohosts=[]))
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
    return Outcome(apply=remember(cohosts=applied), error=unknown)


STEP = CohostsStep()
