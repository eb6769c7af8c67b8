"""CONTRACT §6: work survives a killed worker and a Redis that lost its data, through the sweeper."""
from __future__ import annotations

import time

import redis

from tests.support.processes import wait_until

from .stack import WORKERS
from .test_pipeline import meeting


def test_a_worker_killed_mid_step_is_recovered_without_a_second_event_or_invitation(stack, anna):
    # Bitrix24 answers slowly, so the worker is surely inside the batch when it dies; the portal
    # still makes the event after that (as a real one would): the recovery must find it, not add one.
    stack.bitrix_faults(latency_ms=3000, path="batch")
    created = anna.create(meeting())
    wait_until(lambda: any(s["name"] == "calendar_event" and s["state"] == "running" for s in anna.get(created["id"])["steps"]),
               20, "the calendar step running")
    stack.process("worker-bitrix").kill()
    time.sleep(3.5)  # the portal finishes the batch the dead worker sent
    stack.clear_faults()
    stack.start("worker-bitrix")

    done = anna.wait_final(created["id"], timeout=120)

    assert done["status"] == "ready", done["steps"]
    bitrix = stack.bitrix_state()
    assert len(bitrix["events"]) == 1 and bitrix["events"][0]["id"] == done["calendar_event_id"]
    assert sorted(n["user_id"] for n in bitrix["notifications"]) == [3, 4, 5]
    assert len(stack.telemost_state()["conferences"]) == 1


def test_work_lost_with_redis_data_is_sent_again_by_the_sweeper(stack, anna):
    for name in WORKERS:
        stack.stop(name)
    try:
        created = anna.create(meeting())
        redis.Redis(port=stack.redis_port).flushall()  # the queued task is gone
    finally:
        for name in WORKERS:
            stack.start(name)

    done = anna.wait_final(created["id"], timeout=90)

    assert done["status"] == "ready"
    assert len(stack.telemost_state()["conferences"]) == 1
