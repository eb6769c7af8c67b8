"""The room worker's pool size, chosen from the data: rooms a second at 500 ms outside latency, by thread
count. Calls to Telemost wait on the network, so threads should scale until the CPU or the service stops
them."""

from __future__ import annotations

import redis
from sqlalchemy import func, select

from bench.common import log, set_latency, wait_until
from bench.stacks import with_option
from shared.db import Database
from shared.models import Step
from shared.pipeline.steps import room
from tests.integration import stack as test_stack
from tests.integration.test_pipeline import meeting

POOL_SIZES = (8, 16, 32, 64)


def measure_room_pool(stack, client, database: Database, latency_ms: int, rooms: int) -> list[dict]:
    """With the workers stopped and the queues emptied, `rooms` conferences (a room each, nothing else) wait;
    then one room worker of each size makes them. The rate is from the first room made to the last."""
    set_latency(stack, latency_ms)
    rows = []
    for threads in POOL_SIZES:
        redis.Redis(port=stack.redis_port).flushdb()  # the create phase's backlog is not this figure's
        ids = [
            client.create(
                meeting(name=f"Pool {threads} #{n}", cohosts=[], invitees=[], create_calendar_event=False)
            )["id"]
            for n in range(rooms)
        ]
        worker = test_stack._definitions(stack)["worker"]()
        worker.args = with_option(worker.args, "--concurrency", str(threads))
        worker.start()
        try:
            made = wait_until(lambda: _rooms_made(database, ids) == len(ids), 120)
        finally:
            worker.stop()
        first, last = _first_and_last(database, ids)
        seconds = (last - first).total_seconds()
        rate = round((len(ids) - 1) / seconds, 1) if made and seconds > 0 else None
        rows.append(
            {
                "threads": threads,
                "rooms": rooms,
                "latency_ms": latency_ms,
                "rooms_per_second": rate,
                "ceiling_per_second": round(threads * 1000 / latency_ms, 1),
            }
        )
        log(
            f"room worker x{threads} at {latency_ms} ms: {rate} rooms/s (ceiling {rows[-1]['ceiling_per_second']})"
        )
    return rows


def _rooms_made(database: Database, ids: list[int]) -> int:
    with database.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(Step)
            .where(Step.conference_id.in_(ids), Step.name == room.NAME, Step.state == "done")
        )


def _first_and_last(database: Database, ids: list[int]):
    with database.read() as session:
        return session.execute(
            select(func.min(Step.updated_at), func.max(Step.updated_at)).where(
                Step.conference_id.in_(ids), Step.name == room.NAME
            )
        ).one()
