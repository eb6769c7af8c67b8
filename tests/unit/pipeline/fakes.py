"""Stand-ins for the two outside clients in unit tests of step decisions: they record the calls a step
makes and answer what a test tells them. The real clients meet the emulators in tests/integration."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from shared.clients.bitrix24 import BatchResult
from shared.clients.telemost import Room
from shared.models import Conference, Step, StepState
from shared.pipeline import registry
from shared.pipeline.step import Outside, OutsideClients


class FakeTelemost:
    def __init__(self, organiser: str | None = "organisation:abc", refuse: dict[str, Exception] | None = None,
                 note: str | None = None):
        self.organiser, self.note = organiser, note
        self.calls: list[tuple[str, Any]] = []
        self.refuse = refuse or {}  # method -> the error it raises (once)

    def _call(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        if method in self.refuse:
            raise self.refuse.pop(method)

    def create_room(self, *, waiting_room_level: str, cohosts: list[str], live_stream: dict | None,
                    auto_summary: bool | None = None) -> Room:
        self._call("create_room", waiting_room_level, cohosts, live_stream, auto_summary)
        return Room("room-1", "https://telemost.example/j/1", "https://telemost.example/live/1" if live_stream else None)

    def update_room(self, room_id: str, changes: dict) -> None:
        self._call("update_room", room_id, changes)

    def add_cohosts(self, room_id: str, emails: list[str]) -> None:
        self._call("add_cohosts", room_id, emails)

    def remove_cohosts(self, room_id: str, emails: list[str]) -> None:
        self._call("remove_cohosts", room_id, emails)

    def clear_cohosts(self, room_id: str) -> None:
        self._call("clear_cohosts", room_id)


class FakeBitrix:
    def __init__(self, answers: dict[str, Any] | None = None):
        self.answers = answers or {}  # method -> what `result` answers, or a function of the params that does
        self.calls: list[tuple[str, Any]] = []
        self.batches: list[dict] = []
        self.batch_answer: BatchResult | Exception | None = None

    def result(self, method: str, params: dict) -> Any:
        self.calls.append((method, params))
        answer = self.answers.get(method)
        if isinstance(answer, Exception):
            raise answer
        return answer(params) if callable(answer) else answer

    def batch(self, commands: dict, halt: bool = False) -> BatchResult:
        self.batches.append(dict(commands))
        if isinstance(self.batch_answer, Exception):
            raise self.batch_answer
        return self.batch_answer or BatchResult(results={key: True for key in commands})


def conference(steps: dict[str, str] | None = None, **fields: Any) -> Conference:
    """A conference as a step sees it (not saved): a room made, one hour tomorrow, fields as given."""
    values: dict[str, Any] = dict(
        id=7, public_id="abc123", portal="portal.example", owner_id=2, owner_name="Anna Smirnova",
        type="conference", name="Planning", description=None,
        start_at=datetime(2031, 5, 6, 7, 0, tzinfo=timezone.utc), duration_minutes=60, timezone="Europe/Moscow",
        waiting_room_level="PUBLIC", live_stream=None, cohosts=[], invitees=[], create_calendar_event=False,
        invite_users=False, telemost_id="room-1", join_url="https://telemost.example/j/1", watch_url=None,
        calendar_event_id=None, room_organiser="organisation:abc", version=1, cancel_requested=False,
        recurrence=None, auto_summary=False, reminder_minutes=15,
        applied={"room": {"waiting_room_level": "PUBLIC", "is_auto_summarization_enabled": False}, "cohosts": []})
    values.update(fields)
    made = Conference(**values)
    states = {step.name: StepState.PENDING.value for step in registry.steps()} | (steps or {})
    made.steps = [Step(name=name, state=state, attempts=0, attempts_at_retry=0) for name, state in states.items()]
    return made


def outside(telemost: FakeTelemost | None = None, bitrix: FakeBitrix | None = None,
            conference_: Conference | None = None) -> Outside:
    def no_telemost(_: Conference) -> Any:
        raise AssertionError("the step asked for Telemost")

    def no_bitrix(_: Conference) -> Any:
        raise AssertionError("the step asked for Bitrix24")

    clients = OutsideClients(telemost_for=(lambda _: telemost) if telemost else no_telemost,
                             bitrix_for=(lambda _: bitrix) if bitrix else no_bitrix, notify_client_id="app")
    return Outside(clients, conference_ or conference())


def applied(outcome, made: Conference) -> Conference:
    """The conference after the outcome's `apply`, as the runner would record it."""
    if outcome.apply is not None:
        outcome.apply(made)
    return made
