"""End to end: from POST to the join link in the API's answer, and to ready, for the queued app and the baseline,
against the floor (one outside latency for the link, two for ready) and the emulated critical path; with the
workers quiet, or busy with other users' steady stream of creates (`busy_load`)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from bench.common import body, count, http_requests, percentile, wait_until
from bench.openloop import Background
from shared.db import Database
from shared.housekeeping.sweeper import ACTIVE_STATUSES
from shared.models import Conference, Step
from shared.pipeline.steps import room
from tests.integration.stack import FINAL_STATUSES

# The link's floor is the room, the only call on its path; ready's is the room, then one batch.
LINK_FLOOR_CALLS, READY_FLOOR_CALLS = 1, 2


def emulated_calls(stack) -> int:
    """Every emulated request so far, each of which the emulators delay by the set latency: Telemost's and
    Bitrix24's (a batch pays it once, for all its commands: sandbox/bitrix24/batch.py)."""
    return stack.telemost_state()["requests"].get("total", 0) + http_requests(stack.bitrix_state())


def e2e_queue(stack, client, database: Database, latency_ms: int, n: int, rate: float) -> dict:
    sent: dict[int, float] = {}
    calls_before = emulated_calls(stack)

    def one(_):
        t0 = time.time()
        conference = client.create(body())
        sent[conference["id"]] = t0

    with ThreadPoolExecutor(8) as pool:
        for i in range(n):
            pool.submit(one, i)
            time.sleep(1 / rate)

    def finished() -> bool:
        with database.read() as session:
            return session.scalar(
                select(func.count())
                .select_from(Conference)
                .where(Conference.id.in_(sent), Conference.status.in_(FINAL_STATUSES))
            ) == len(sent)

    wait_until(finished, 60)
    with database.read() as session:
        rows = session.execute(
            select(Step.conference_id, func.max(Step.updated_at))
            .where(Step.conference_id.in_(sent), Step.state == "done")
            .group_by(Step.conference_id)
        ).all()
        # The room step's commit is the one that stores the join link (shared/pipeline/steps/room.py
        # _store_room, recorded with the step's state): from then on GET /api/conferences/<id> answers it.
        linked = dict(
            session.execute(
                select(Step.conference_id, Step.updated_at).where(
                    Step.conference_id.in_(sent), Step.name == room.NAME, Step.state == "done"
                )
            ).all()
        )
        statuses = dict(
            session.execute(select(Conference.id, Conference.status).where(Conference.id.in_(sent))).all()
        )
    totals = [(ready.timestamp() - sent[cid]) * 1000 for cid, ready in rows if statuses.get(cid) == "ready"]
    links = [(at.timestamp() - sent[cid]) * 1000 for cid, at in linked.items()]
    # The room, then one batch (calendar event and invitations), all one after another.
    calls = (emulated_calls(stack) - calls_before) / n
    result = summary(totals, calls, latency_ms, n, sum(1 for s in statuses.values() if s == "ready"))
    result["link"] = over_floor(links, LINK_FLOOR_CALLS * latency_ms)
    result["to_ready"] = over_floor(totals, READY_FLOOR_CALLS * latency_ms)
    return result


def e2e_queue_busy(
    stack, client, other, database: Database, latency_ms: int, n: int, rate: float, busy_rate: float
) -> dict:
    """e2e_queue while another user (`other`) creates conferences at `busy_rate` a second, open loop, from a
    process of its own: the measured conferences wait behind that work in the same queues and workers."""
    backlog_before = count(database, ACTIVE_STATUSES)
    load = Background(stack.web_url + "/api/conferences", busy_rate, body(), other.token)
    try:
        time.sleep(3)  # the stream reaches the workers first
        result = e2e_queue(stack, client, database, latency_ms, n, rate)
    finally:
        background = load.stop()
    result["busy"] = {
        "rate": busy_rate,
        "sent": background.get("sent"),
        "accepted": background.get("ok"),
        "create_ms": background.get("ms"),
        "backlog_before": backlog_before,
        "backlog_after": count(database, ACTIVE_STATUSES),
    }
    return result


def e2e_baseline(stack, baseline_url: str, latency_ms: int, n: int, rate: float) -> dict:
    http = requests.Session()
    totals: list[float] = []
    calls_before = emulated_calls(stack)

    def one(_):
        t0 = time.perf_counter()
        response = requests.post(f"{baseline_url}/api/conferences", json=body(), timeout=60)
        if response.status_code == 201:
            totals.append((time.perf_counter() - t0) * 1000)

    with ThreadPoolExecutor(16) as pool:
        for i in range(n):
            pool.submit(one, i)
            time.sleep(1 / rate)
    http.close()
    # The room, the event, then three notifications, one after another.
    calls = (emulated_calls(stack) - calls_before) / n
    result = summary(totals, calls, latency_ms, n, len(totals))
    # The answer carries the link: link and ready are both the request's time.
    result["link"] = over_floor(totals, LINK_FLOOR_CALLS * latency_ms)
    result["to_ready"] = over_floor(totals, READY_FLOOR_CALLS * latency_ms)
    return result


def summary(totals: list[float], calls: float, latency_ms: int, n: int, ready: int) -> dict:
    path_ms = round(calls * latency_ms, 1)
    overhead = [t - path_ms for t in totals]
    return {
        "n": n,
        "ready": ready,
        "emulated_calls_per_conference": round(calls, 2),
        "critical_path_ms": path_ms,
        "p50_ms": round(percentile(totals, 50), 1) if totals else None,
        "p95_ms": round(percentile(totals, 95), 1) if totals else None,
        "overhead_p50_ms": round(percentile(overhead, 50), 1) if totals else None,
        "overhead_p95_ms": round(percentile(overhead, 95), 1) if totals else None,
    }


def over_floor(times: list[float], floor_ms: float) -> dict:
    above = [t - floor_ms for t in times]
    return {
        "n": len(times),
        "floor_ms": floor_ms,
        **{f"p{q}_ms": round(percentile(times, q), 1) if times else None for q in (50, 95)},
        **{f"over_floor_p{q}_ms": round(percentile(above, q), 1) if times else None for q in (50, 95)},
    }
