"""Room work and Bitrix24 work have their own queues and workers (shared/jobs.py): a slow or rate-limited
portal holds back calendar events and invitations, never the rooms."""
from __future__ import annotations

import time

import redis

from tests.support.processes import wait_until

from .test_pipeline import meeting, step


def test_rooms_are_made_while_bitrix24_workers_are_stuck_on_a_slow_portal(stack, anna):
    """One Bitrix24 sender works per portal and owner, and at most two per portal (worker/tasks/
    conferences.py SENDERS_PER_PORTAL): six people's meetings on a slow portal keep two of the eight threads
    waiting on it, never more, and the rest of their work waits for those two to hand on."""
    people = [stack.login(user_id) for user_id in range(1, 7)]  # signing in asks the portal in a batch too
    stack.bitrix_faults(latency_ms=8000, path="batch")
    busy = [(p, p.create(meeting(name=f"Standup {n}"))) for n in range(2) for p in people]

    def sending() -> int:  # people whose work is on the wire: a sender claims all its owner's due work at once
        return len({p.token for p, c in busy if step(p.get(c["id"]), "calendar_event")["state"] == "running"})

    wait_until(lambda: sending() == 2, 10, "the portal's two senders waiting on it")
    assert max(sending() for _ in range(5)) == 2, "more senders than the portal's two"

    later = [anna.create(meeting(name=f"Review {n}")) for n in range(3)]
    # On one shared pool these rooms would wait behind the queued Bitrix24 work (8 s and more).
    wait_until(lambda: all(step(anna.get(c["id"]), "create_room")["state"] == "done" for c in later),
               4, "the later rooms made")

    stack.clear_faults()
    for person, conference in [*busy, *((anna, c) for c in later)]:
        assert person.wait_final(conference["id"], timeout=90)["status"] == "ready"


def test_the_sweeper_does_not_flood_a_queue_whose_messages_are_still_waiting(stack, anna):
    stack.stop("worker-bitrix")  # Bitrix24 work piles up, as behind a portal's rate limit
    try:
        created = [anna.create(meeting(name=f"Planning {n}")) for n in range(3)]
        wait_until(lambda: all(step(anna.get(c["id"]), "create_room")["state"] == "done" for c in created),
                   10, "the rooms made")
        queue = redis.Redis(port=stack.redis_port)
        wait_until(lambda: queue.llen("bitrix") == 3, 5, "one message each waiting")
        time.sleep(8)  # the sweeper runs every second and would re-send after 3 s
        assert queue.llen("bitrix") == 3
    finally:
        stack.start("worker-bitrix")
    for conference in created:
        assert anna.wait_final(conference["id"], timeout=60)["status"] == "ready"
