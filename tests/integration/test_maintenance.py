"""Beat's housekeeping: each action happens once even when two runs overlap; retention is exact."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import redis
import requests
from sqlalchemy import text

from shared.config import load_settings
from shared.crypto import TokenBox
from shared.portal.access import BitrixAccess
from shared.housekeeping.reminders import send_reminders
from shared.housekeeping.retention import forget_idempotency_keys, purge_old


def twice_at_once(job) -> list:
    """Runs `job` in two threads started together; answers both results."""
    results, errors = [None, None], []
    barrier = threading.Barrier(2)

    def run(index):
        barrier.wait()
        try:
            results[index] = job()
        except Exception as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def backdate(database, conference_id: int, status: str, days: int) -> None:
    with database.write() as session:
        session.execute(text("UPDATE conferences SET status = :status, updated_at = :when, created_at = :when "
                             "WHERE id = :id"),
                        {"status": status, "id": conference_id,
                         "when": (datetime.now(timezone.utc) - timedelta(days=days)).replace(tzinfo=None)})


def test_retention_removes_exactly_old_cancelled_and_failed_conferences(stack, anna, database):
    made = {label: anna.wait_final(anna.create({"name": label})["id"])["id"] for label in
            ("old cancelled", "old failed", "old ready", "old partial", "new cancelled")}
    backdate(database, made["old cancelled"], "cancelled", 400)
    backdate(database, made["old failed"], "failed", 400)
    backdate(database, made["old ready"], "ready", 4000)
    backdate(database, made["old partial"], "partially_failed", 400)
    backdate(database, made["new cancelled"], "cancelled", 10)

    first, second = twice_at_once(lambda: purge_old(database, retention_days=365))

    assert sorted(first + second) == sorted([made["old cancelled"], made["old failed"]])
    for label, conference_id in made.items():
        expected = 404 if label in ("old cancelled", "old failed") else 200
        assert anna.request("GET", f"/api/conferences/{conference_id}").status_code == expected, label


def test_idempotency_keys_are_removed_after_a_day_once(stack, anna, database):
    response = anna.request("POST", "/api/conferences", json={"name": "Keyed"}, headers={"Idempotency-Key": "k-1"})
    conference_id = response.json()["id"]
    anna.wait_final(conference_id)
    backdate(database, conference_id, "ready", 2)

    first, second = twice_at_once(lambda: forget_idempotency_keys(database))

    assert first + second == [conference_id]
    again = anna.request("POST", "/api/conferences", json={"name": "Keyed"}, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 202 and again.json()["id"] != conference_id


def test_invitees_without_a_calendar_event_are_reminded_once(stack, anna, database):
    soon = (datetime.now(timezone(timedelta(hours=3))) + timedelta(minutes=10)).replace(microsecond=0)
    done = anna.wait_final(anna.create({"name": "Stand-up", "start_at": soon.isoformat(), "invitees": [3, 4],
                                        "create_calendar_event": False})["id"])
    later = anna.wait_final(anna.create({"name": "Tomorrow", "invitees": [5], "create_calendar_event": False,
                                         "start_at": (soon + timedelta(days=1)).isoformat()})["id"])
    settings = load_settings(stack.env, env_file=None)
    access = BitrixAccess(settings, database, TokenBox(settings.secret_key), redis.Redis(port=stack.redis_port),
                          requests.Session())
    before = stack.bitrix_state()["requests"].get("batch:im.notify.system.add", 0)

    first, second = twice_at_once(lambda: send_reminders(database, lambda c: access.client(c.portal, c.owner_id),
                                                         "telemost-bitrix-app"))

    assert first + second == [done["id"]]
    assert stack.bitrix_state()["requests"]["batch:im.notify.system.add"] - before == 2
    reminders = [n for n in stack.bitrix_state()["notifications"] if "Reminder" in n["message"]]
    assert sorted(n["user_id"] for n in reminders) == [3, 4]
    assert later["id"] not in first + second


def test_every_job_is_on_the_beat_schedule(stack):
    import subprocess
    import sys
    listing = subprocess.run([sys.executable, "-c", "from worker.celery_app import app; "
                              "print(*sorted(e['task'] for e in app.conf.beat_schedule.values()))"],
                             env=stack.env, capture_output=True, text=True, check=True)
    tasks = set(listing.stdout.split())
    assert tasks == {"maintenance.sweep", "maintenance.send_reminders", "maintenance.retention",
                     "maintenance.keep_tokens_alive", "conferences.reconcile_calendar"}
