"""The shape every step of the pipeline has: one outside effect of a conference (CONTRIBUTING.md, "Adding a step").

A step says what it is (`name`), what it waits for (`waits_for`), where it runs (`lane`), whether the
conference's current version wants it (`wanted`) and how it finds what an attempt whose answer was lost
made (`recover`). Then, by lane:
- a Telemost step makes its calls itself (`run`), one step after another on the conferences queue;
- a Bitrix24 step contributes batch commands (`commands`) and reads its slice of the answers (`record`):
  the runner puts every due Bitrix24 step of a conference into the same `batch` requests, one unit of
  the portal's rate limit for up to 50 commands (DESIGN §4 rule 7).

A step decides; it never claims, commits or catches. It answers an `Outcome`, which the runner records
in the step's own transaction (`state.succeed` / `state.fail`); an OutsideServiceError it raises fails
the attempt, transient or for good as the error says.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.errors import OutsideServiceError
from shared.clients.telemost import TelemostClient
from shared.models import Conference

# A batch command: (method, params), under a key of the step's own; the runner namespaces keys by step.
Commands = dict[str, tuple[str, dict]]
Apply = Callable[[Conference], None]


class Lane(enum.StrEnum):
    """Which worker queue runs a step (shared/jobs.py): Telemost's, or Bitrix24's behind its rate limit."""

    TELEMOST = "telemost"
    BITRIX24 = "bitrix24"


@dataclass(frozen=True)
class OutsideClients:
    """The ways out, chosen per conference: whose Telemost token, which way into the portal.

    Each raises PermanentError when there is no way (nothing configured, an account to reconnect).
    """

    telemost_for: Callable[[Conference], TelemostClient]
    bitrix_for: Callable[[Conference], Bitrix24Client]
    # im.notify* through a webhook honours TAG only with a CLIENT_ID (reference/bitrix24-rest.md §2).
    notify_client_id: str | None = None


class Outside:
    """The clients of one attempt, built when a step first asks: a step with nothing to do never needs one
    (and so never fails for want of a token)."""

    def __init__(self, clients: OutsideClients, conference: Conference) -> None:
        self._clients, self._conference = clients, conference
        self.notify_client_id = clients.notify_client_id

    @cached_property
    def telemost(self) -> TelemostClient:
        return self._clients.telemost_for(self._conference)

    @cached_property
    def bitrix(self) -> Bitrix24Client:
        return self._clients.bitrix_for(self._conference)


@dataclass(frozen=True)
class Outcome:
    """What an attempt did. `apply(conference)` writes what the outside world now has (in the transaction
    that records the step); with `error` the step fails, having done what `apply` says (a partial success)."""

    apply: Apply | None = None
    error: OutsideServiceError | None = None


@dataclass(frozen=True)
class Answers:
    """A Bitrix24 step's slice of a batch's answers, under its own keys."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, OutsideServiceError] = field(default_factory=dict)

    def first_error(self) -> OutsideServiceError | None:
        """The error the step fails with: a transient one first, so that the step is retried."""
        errors = list(self.errors.values())
        return next((e for e in errors if e.transient), errors[0] if errors else None)


def digest(content: Any) -> str:
    """A short fingerprint of what an outside thing was last written with (a chat card, a to-do): written
    again only when what it should show changes."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def remember(**values: Any) -> Apply:
    """An `apply` that records values in `conference.applied` (what the outside world was brought to)."""

    def apply(conference: Conference) -> None:
        conference.applied = {**(conference.applied or {}), **values}

    return apply


class Step:
    """What every step has. `waits_for` names a step that must be settled first (runner.runnable)."""

    name: ClassVar[str]
    waits_for: ClassVar[str | None] = None
    # Runs also when what it waits for failed for good without a room (an answer owed about the failure).
    runs_after_failure: ClassVar[bool] = False
    lane: ClassVar[Lane]

    def wanted(self, conference: Conference) -> bool:
        """Whether the conference's current version has anything for this step to bring about or undo.
        Decides the step's state when the conference is made and after each edit; a cancel reopens every
        step, each of which undoes its part."""
        raise NotImplementedError

    def done_count(self, conference: Conference) -> int | None:
        """How many of the things this step brings about the outside world now has (cohosts added,
        invitees told), for the page to say so; None for a step of one thing (a room, an event)."""
        return None

    def note(self, conference: Conference) -> str | None:
        """What a person should know of how the step went when it did not fail (a fallback it took), or None."""
        return None

    def recover(self, outside: Outside, conference: Conference) -> Any:
        """After an attempt whose answer may be lost: what that attempt made, looked up before anything is
        made again; None when there is nothing to look up (the step's calls are safe to repeat)."""
        return None


class TelemostStep(Step):
    lane = Lane.TELEMOST

    def run(self, outside: Outside, conference: Conference, found: Any) -> Outcome:
        """Makes the calls that bring Telemost to what the conference wants; `found` is what `recover` found."""
        raise NotImplementedError


class BitrixStep(Step):
    lane = Lane.BITRIX24

    def commands(self, outside: Outside, conference: Conference, found: Any) -> Commands:
        """The batch commands this attempt sends, under the step's own keys ($result[key] may name an earlier
        one of them); none when there is nothing to do (then `record` sees no answers)."""
        raise NotImplementedError

    def before_sending(self, conference: Conference, commands: Commands) -> dict | None:
        """What to note in `conference.applied`, committed before the batch goes: for what must be known even
        if no answer ever comes back."""
        return None

    def record(
        self, outside: Outside, conference: Conference, commands: Commands, answers: Answers
    ) -> Outcome:
        """What the answers to this step's commands mean."""
        raise NotImplementedError
