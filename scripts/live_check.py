"""`make live-check`: one short run of the app's own calls against a real Bitrix24 portal and Yandex Telemost.

With LIVE_CHECK_BITRIX24_WEBHOOK (an inbound webhook of a test portal, scopes calendar, im, user),
LIVE_CHECK_YANDEX_TOKEN (a Yandex 360 organisation's OAuth token, telemost-api:conferences.*) and
LIVE_CHECK_COHOST_EMAIL (a second Yandex account of that organisation), from the environment or .env:
makes a PUBLIC Telemost room, reads it back, adds and removes the cohost, creates an event in the webhook
user's own calendar and deletes it, sends that user one notification, and closes the room as a cancel does.
Nobody else is touched: no attendees, no invitations. The same calls then run against the sandbox
emulators, started here, and a table shows each call, its HTTP status, and every field of the real answer
that the emulator's lacks, or the reverse. Exits 1 when a call failed, 2 without the credentials.
LIVE_CHECK_TELEMOST_API_URL points it at another Telemost (`make test` runs it against the emulators).
"""
from __future__ import annotations

import logging
import socket
import sys
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from shared.clients.bitrix24 import Bitrix24Client  # noqa: E402
from shared.clients.errors import OutsideServiceError  # noqa: E402
from shared.clients.telemost import TelemostClient  # noqa: E402
from shared.config import PROJECT_ROOT, SANDBOX_TELEMOST_TOKEN, read_environment  # noqa: E402
from shared.models import Conference  # noqa: E402
from shared.pipeline import bitrix_text  # noqa: E402
from shared.pipeline.steps.calendar_event import calendar_event  # noqa: E402
from shared.pipeline.steps.room import room_settings  # noqa: E402

REAL_TELEMOST_API = "https://cloud-api.yandex.net/v1/telemost-api"
CREDENTIALS = {
    "LIVE_CHECK_BITRIX24_WEBHOOK": "an inbound webhook of a test portal: https://<portal>/rest/<user id>/<key>/",
    "LIVE_CHECK_YANDEX_TOKEN": "an OAuth token of a Yandex 360 organisation (telemost-api:conferences.*)",
    "LIVE_CHECK_COHOST_EMAIL": "a second Yandex account of that organisation, made cohost and removed again",
}
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Target:
    """Where the calls go: the real services, or the emulators."""
    webhook: str
    telemost_api: str
    yandex_token: str
    cohost: str


@dataclass
class Call:
    name: str
    status: int | None = None  # None: no answer (the network)
    keys: set[str] = field(default_factory=set)
    error: str | None = None


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every field of a JSON answer as a dotted path; the items of a list share one path ("cohosts[].email")."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths |= {path} | key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


class Run:
    """The calls, in order, through the app's clients; each answer is kept by a hook of their session."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.calls: list[Call] = []
        self._answers: list[requests.Response] = []
        session = requests.Session()
        session.hooks["response"].append(lambda response, *args, **kwargs: self._answers.append(response))
        self.bitrix = Bitrix24Client(target.webhook, timeout=TIMEOUT_SECONDS, session=session)
        self.telemost = TelemostClient(target.telemost_api, target.yandex_token, TIMEOUT_SECONDS, session)

    def call(self, name: str, do: Callable[[], Any]) -> Any:
        """One call: its status and answer's fields go in the table; a failure stops the run (raised)."""
        self._answers.clear()
        call = Call(name)
        self.calls.append(call)
        try:
            return do()
        except OutsideServiceError as error:
            call.error = str(error)
            raise
        finally:
            if self._answers:
                answer = self._answers[-1]
                call.status = answer.status_code
                try:
                    call.keys = key_paths(answer.json()) if answer.content else set()
                except ValueError:
                    call.keys = {"(not JSON)"}

    def read_room(self, room_id: str) -> dict:
        """GET /conferences/{id}: the app's client has no read (it never needs one), so requests it is."""
        response = self.telemost.http.get(f"{self.telemost.base_url}/conferences/{room_id}", timeout=TIMEOUT_SECONDS,
                                          headers={"Authorization": f"OAuth {self.telemost.token}"})
        if response.status_code >= 300:
            raise OutsideServiceError("Telemost", f"reading the room back answered {response.status_code}: "
                                                  f"{response.text[:200]}", status=response.status_code)
        return response.json()

    def everything(self) -> None:
        me = self.call("Bitrix24 user.current", lambda: self.bitrix.result("user.current"))
        room = self.call("Telemost POST /conferences (PUBLIC)", lambda: self.telemost.create_room(
            waiting_room_level="PUBLIC", cohosts=[], live_stream=None))
        conference = _conference(int(me["ID"]), room.join_url)
        try:
            self.call("Telemost GET /conferences/{id}", lambda: self.read_room(room.id))
            self.call("Telemost PATCH /conferences/{id}/cohosts",
                      lambda: self.telemost.add_cohosts(room.id, [self.target.cohost]))
            self.call("Telemost DELETE /conferences/{id}/cohosts",
                      lambda: self.telemost.remove_cohosts(room.id, [self.target.cohost]))
            event_id = self.call("Bitrix24 calendar.event.add (own calendar)", lambda: self.bitrix.result(
                "calendar.event.add", calendar_event(conference)))
            self.call("Bitrix24 calendar.event.delete",
                      lambda: self.bitrix.result("calendar.event.delete", {"id": event_id}))
            self.call("Bitrix24 im.notify.system.add (to the webhook user)", lambda: self.bitrix.result(
                "im.notify.system.add", bitrix_text.invitation(conference, conference.owner_id, None)))
        finally:
            # Closed as a cancel closes a room (Telemost has no delete): an admins-only waiting room.
            conference.cancel_requested = True
            self.call("Telemost PATCH /conferences/{id} (close)",
                      lambda: self.telemost.update_room(room.id, room_settings(conference)))


def _conference(user_id: int, join_url: str) -> Conference:
    """What the app would write for a meeting of the webhook user alone, tomorrow: not saved anywhere."""
    start = (datetime.now(timezone.utc) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    return Conference(public_id=uuid.uuid4().hex, owner_id=user_id, owner_name="make live-check", type="conference",
                      name="make live-check (a test, nothing to do)", description=None, start_at=start,
                      duration_minutes=15, timezone="UTC", waiting_room_level="PUBLIC", live_stream=None,
                      cohosts=[], invitees=[], join_url=join_url, watch_url=None, cancel_requested=False)


def run(target: Target) -> list[Call]:
    checked = Run(target)
    try:
        checked.everything()
    except (OutsideServiceError, requests.RequestException, KeyError, TypeError, ValueError) as error:
        if not checked.calls or checked.calls[-1].error is None:
            checked.calls.append(Call("(stopped)", error=f"{type(error).__name__}: {error}"))
    return checked.calls


@contextmanager
def emulators() -> Iterator[Target]:
    """Both sandbox emulators on free loopback ports, for the answers the real ones are compared with."""
    from sandbox.bitrix24 import create_app as bitrix24_app
    from sandbox.telemost import create_app as telemost_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request around the table
    servers = [make_server("127.0.0.1", 0, telemost_app(), threaded=True)]
    portal_port = _free_port()
    portal = bitrix24_app({"public_url": f"http://127.0.0.1:{portal_port}"})
    servers.append(make_server("127.0.0.1", portal_port, portal, threaded=True))
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Target(webhook=portal.extensions["bitrix24_portal"].settings.webhook_url,
                     telemost_api=f"http://127.0.0.1:{servers[0].server_port}/v1/telemost-api",
                     yandex_token=SANDBOX_TELEMOST_TOKEN, cohost="live-check.cohost@example.com")
    finally:
        for server in servers:
            server.shutdown()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


HEADER = ("call", "HTTP", "emulator", "only in the real answer", "only in the emulator's")


def table(real: list[Call], emulated: list[Call]) -> str:
    """One row a call, columns between "|" (it pastes into an issue as a Markdown table), then each failure."""
    by_name = {call.name: call for call in emulated}
    rows = [HEADER]
    for call in real:
        twin = by_name.get(call.name, Call(call.name))
        rows.append((call.name, str(call.status or "-"), str(twin.status or "-"),
                     ", ".join(sorted(call.keys - twin.keys)) or "-", ", ".join(sorted(twin.keys - call.keys)) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    failed = [f"FAILED ({where}) {call.name}: {call.error}"
              for where, calls in (("real", real), ("emulator", emulated)) for call in calls if call.error]
    return "\n".join(lines + failed)


def target_from_settings() -> Target:
    env = read_environment(None, PROJECT_ROOT / ".env")  # exported wins over .env, empty means not set
    missing = [name for name in CREDENTIALS if not env.get(name)]
    if missing:
        lines = [f"  {name}: {CREDENTIALS[name]}" for name in missing]
        sys.stderr.write("make live-check calls the real Bitrix24 and Yandex Telemost and needs explicit test "
                         "credentials (README, Connecting to a real portal). Not set:\n" + "\n".join(lines) + "\n")
        sys.exit(2)
    return Target(webhook=env["LIVE_CHECK_BITRIX24_WEBHOOK"].rstrip("/") + "/",
                  telemost_api=env.get("LIVE_CHECK_TELEMOST_API_URL", REAL_TELEMOST_API).rstrip("/"),
                  yandex_token=env["LIVE_CHECK_YANDEX_TOKEN"], cohost=env["LIVE_CHECK_COHOST_EMAIL"])


def main() -> None:
    target = target_from_settings()
    real = run(target)
    with emulators() as sandbox:
        emulated = run(sandbox)
    print(table(real, emulated))
    sys.exit(1 if any(call.error for call in real + emulated) else 0)


if __name__ == "__main__":
    main()
