"""End to end: from POST to ready, for the queued app and the baseline, against the emulated critical path."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from bench.common import body, http_requests, percentile, wait_until
from shared.db import Database
from shared.models import Conference, Step
from tests.integration.stack import FINAL_STATUSES


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
            return session.scalar(select(func.count()).select_from(Conference).where(
                Conference.id.in_(sent), Conference.status.in_(FINAL_STATUSES))) == len(sent)

    wait_until(finished, 60)
    with database.read() as session:
        rows = session.execute(select(Step.conference_id, func.max(Step.updated_at))
                               .where(Step.conference_id.in_(sent), Step.state == "done")
                               .group_by(Step.conference_id)).all()
        statuses = dict(session.execute(select(Conference.id, Conference.status).where(Conference.id.in_(sent))).all())
    totals = [(ready.timestamp() - sent[cid]) * 1000 for cid, ready in rows if statuses.get(cid) == "ready"]
    # The room, then one batch (calendar event and invitations), all one after another.
    calls = (emulated_calls(stack) - calls_before) / n
    return summary(totals, calls, latency_ms, n, sum(1 for s in statuses.values() if s == "ready"))


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
    return summary(totals, calls, latency_ms, n, len(totals))


def summary(totals: list[float], calls: float, latency_ms: int, n: int, ready: int) -> dict:
    path_ms = round(calls * latency_ms, 1)
    overhead = [t - path_ms for t in totals]
    return {"n": n, "ready": ready, "emulated_calls_per_conference": round(calls, 2), "critical_path_ms": path_ms,
            "p50_ms": round(percentile(totals, 50), 1) if totals else None,
            "p95_ms": round(percentile(totals, 95), 1) if totals else None,
            "overhead_p50_ms": round(percentile(overhead, 50), 1) if totals else None,
            "overhead_p95_ms": round(percentile(overhead, 95), 1) if totals else None}
