"""What the benchmark's parts share: logging, percentiles, the emulated latency, the request body, wrk."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from sqlalchemy import func, select

from shared.db import Database
from shared.models import Conference
from tests.integration.test_pipeline import meeting

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def set_latency(stack, latency_ms: int) -> None:
    stack.telemost_faults(latency_ms=latency_ms) if latency_ms else stack.telemost_faults()
    stack.bitrix_faults(latency_ms=latency_ms) if latency_ms else stack.bitrix_faults()


def body() -> dict:
    return meeting(name="Bench sync", cohosts=[])  # a calendar event and three invitees (3, 4, 5)


def wait_until(check, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def count(database: Database, statuses) -> int:
    with database.read() as session:
        return session.scalar(
            select(func.count()).select_from(Conference).where(Conference.status.in_(statuses))
        )


def wrk(
    script: str, url: str, connections: int, seconds: float, env: dict[str, str], threads: int = 2
) -> dict:
    args = [
        "wrk",
        "-t",
        str(min(threads, connections)),
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "30s",
        "-s",
        f"bench/wrk/{script}",
        url,
    ]
    done = subprocess.run(
        args, cwd=ROOT, env=dict(os.environ, **env), capture_output=True, text=True, timeout=seconds + 60
    )
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {done.stdout}\n{done.stderr}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    seconds_run = figures["duration_us"] / 1e6
    figures["accepted_per_second"] = round(figures["accepted"] / seconds_run, 1)
    figures["ms"] = {k: round(v / 1000, 1) for k, v in figures["latency_us"].items()}
    return figures


def http_requests(state: dict) -> int:
    """Requests that reached the emulated API (each one a unit of the portal's bucket). The emulator's log
    also counts every command inside a batch, as batch:<method>: those are not requests."""
    return sum(v for k, v in state["requests"].items() if k != "total" and not k.startswith("batch:"))
