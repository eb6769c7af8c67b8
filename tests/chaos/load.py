"""The steady load of a chaos run: people creating conferences at a set rate, some of them editing or
cancelling soon after, and retrying as a browser would when the app does not answer.

Every conference asked for is recorded with what its owner asked for last, for the audit to compare.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import requests

GIVE_UP_AFTER_SECONDS = 120  # a person would have given up; the audit counts such a request as lost
EDIT_SHARE, CANCEL_SHARE = 0.2, 0.1


@dataclass
class Asked:
    """One conference as its owner asked for it, last word included."""

    key: str
    body: dict
    id: int | None = None
    accepted_at: float | None = None  # time.monotonic() when the 202 arrived
    cancelled: bool = False
    edits: int = 0


@dataclass
class LoadRecord:
    asked: list[Asked] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)  # "POST 202", "PUT 503", "DELETE error", ...
    errors_at: list[tuple[str, float]] = field(default_factory=list)  # each 500: its label, time.monotonic()
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, label: str) -> None:
        with self.lock:
            self.answers[label] += 1
            if label.endswith(" 500"):
                self.errors_at.append((label, time.monotonic()))


def meeting(number: int, rng: random.Random) -> dict:
    start = (datetime.now(timezone.utc) + timedelta(days=1 + number % 20)).replace(
        minute=0, second=0, microsecond=0
    )
    body = {
        "name": f"Chaos meeting {number}",
        "description": "Made under chaos",
        "start_at": start.isoformat(),
        "duration_minutes": 30,
        "timezone": "Europe/Moscow",
        "waiting_room_level": "ORGANIZATION",
        "cohosts": ["anna@example.com"] if rng.random() < 0.5 else [],
        "invitees": rng.sample([3, 4, 5, 6], rng.randint(0, 3)),
        "create_calendar_event": rng.random() < 0.9,
    }
    if number % 10 == 0:
        body.update(type="broadcast", live_stream={"title": f"Town hall {number}", "description": "Streamed"})
    # Some are posted to a chat the user (2) is a member of, some are about a deal they are responsible
    # for (the sandbox portal's seeds): the portal is asked with the user's rights while it fails, and each
    # must end in one card in the chat, one to-do in the deal's timeline.
    if number % 5 == 2:
        body["chat"] = {"dialog_id": "chat1"}
    if number % 7 == 3:
        body["crm"] = {"entity_type": "deal", "entity_id": 1}
    return body


def moved(body: dict, times: int) -> dict:
    """The meeting an hour later, renamed, with its first invitee dropped and Maria (6) asked along."""
    start = datetime.fromisoformat(body["start_at"]) + timedelta(hours=1)
    invitees = [u for u in body["invitees"][1:] if u != 6] + [6]
    return {
        **body,
        "name": f"{body['name']} (moved {times})",
        "start_at": start.isoformat(),
        "invitees": invitees,
    }


class Load:
    def __init__(
        self, base_urls: list[str], token: str, conferences: int, per_second: float, seed: int
    ) -> None:
        """People are spread over the web processes in turn (one per host in a run on PostgreSQL)."""
        self.base_urls, self.conferences, self.per_second = base_urls, conferences, per_second
        self.rng = random.Random(seed)
        self.record = LoadRecord()
        self.http = requests.Session()
        self.http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=64))
        self.http.headers["Authorization"] = f"Bearer {token}"
        self._pool = ThreadPoolExecutor(max_workers=48, thread_name_prefix="person")

    def run(self) -> LoadRecord:
        """Starts one person every 1/per_second seconds; answers when every one of them is done."""
        started = time.monotonic()
        futures = []
        for number in range(self.conferences):
            time.sleep(max(0.0, started + number / self.per_second - time.monotonic()))
            asked = Asked(key=str(uuid.uuid4()), body=meeting(number, self.rng))
            self.record.asked.append(asked)
            plan = self.rng.random()
            web = self.base_urls[number % len(self.base_urls)]
            futures.append(self._pool.submit(self._person, web, asked, plan, self.rng.uniform(0.2, 6)))
        for future in futures:
            future.result()
        self._pool.shutdown()
        return self.record

    def _person(self, web: str, asked: Asked, plan: float, pause: float) -> None:
        created = self._send(web, "POST", "/api/conferences", asked.body, {"Idempotency-Key": asked.key})
        if created is None:
            return
        asked.id, asked.accepted_at = created["id"], time.monotonic()
        if plan < EDIT_SHARE:
            for edit in range(1 + (plan < EDIT_SHARE / 4)):  # some people change their mind twice
                time.sleep(pause)
                changed = moved(asked.body, edit + 1)
                if self._send(web, "PUT", f"/api/conferences/{asked.id}", changed) is not None:
                    asked.body, asked.edits = changed, asked.edits + 1
        elif plan < EDIT_SHARE + CANCEL_SHARE:
            time.sleep(pause)
            if self._send(web, "DELETE", f"/api/conferences/{asked.id}") is not None:
                asked.cancelled = True

    def _send(
        self, web: str, method: str, path: str, body: dict | None = None, headers: dict | None = None
    ) -> dict | None:
        """Until the app accepts (202), as a person pressing the button again would; None when it never did."""
        deadline = time.monotonic() + GIVE_UP_AFTER_SECONDS
        while time.monotonic() < deadline:
            try:
                response = self.http.request(method, web + path, json=body, headers=headers, timeout=20)
            except requests.RequestException:
                self.record.answer(f"{method} no answer")
                time.sleep(1)
                continue
            self.record.answer(f"{method} {response.status_code}")
            if response.status_code == 202:
                return response.json()
            if response.status_code < 500 and response.status_code != 429:
                return None  # refused for a reason: the audit reports it, the person does not insist
            time.sleep(1)
        return None
