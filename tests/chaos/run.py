"""One chaos run end to end: a real stack of its own, the load and the disruptions together, a settling
time with everything healthy, then the audit."""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests

from shared.db import Database
from tests.integration.stack import build_stack, start_stack

from .audit import Audit, audit
from .disruptions import REDIS_WITH_AOF, Disruptions
from .load import Load

# Short timeouts make a dead worker's step stale sooner (6 x timeout + 10 s = 22 s), so a run settles quickly.
CHAOS_SETTINGS = {"HTTP_TIMEOUT_SECONDS": "2", "BITRIX24_RATE_PER_SECOND": "20", "BITRIX24_BURST": "50"}
# The emulated portal's bucket, as large as the limiter's settings: the limiter keeps Bitrix24 work in
# it, and the run is about failures, not about waiting for a 2-per-second portal.
PORTAL_BUCKET = {"bucket_size": 50, "drain_per_second": 20}


@dataclass(frozen=True)
class Plan:
    conferences: int = 200
    per_second: float = 2.5
    kill_every: float = 6.0
    settle_timeout: float = 300.0
    seed: int = 7

    @property
    def load_seconds(self) -> float:
        return self.conferences / self.per_second


def chaos_run(plan: Plan, tmp: Path) -> Audit:
    stack = build_stack(tmp)
    stack.env.update(CHAOS_SETTINGS)
    stack.redis_options, stack.redis_dir = REDIS_WITH_AOF, tmp / "redis-0"
    stack.redis_dir.mkdir()
    database = Database(stack.env["DATABASE_URL"])
    try:
        start_stack(stack)
        requests.post(f"{stack.bitrix_url}/_sandbox/config", json=PORTAL_BUCKET, timeout=5).raise_for_status()
        stack.install()
        token = stack.login(2).token
        sqlite_path = _sqlite_path(stack.env["DATABASE_URL"])
        disruptions = Disruptions(stack, database, sqlite_path, plan.load_seconds, plan.kill_every)
        started = time.monotonic()
        disruptions.start()
        try:
            record = Load(stack.web_url, token, plan.conferences, plan.per_second, plan.seed).run()
        finally:
            disruptions.stop()
        loaded = time.monotonic()
        try:
            stack.wait_quiet(plan.settle_timeout)
        except TimeoutError:
            pass  # the audit names every conference left unfinished
        settled = time.monotonic()
        result = audit(record, disruptions.tally, database, stack.telemost_state(), stack.bitrix_state())
        tally = disruptions.tally
        result.figures = {
            "load (s)": round(loaded - started), "settling after the load (s)": round(settled - loaded),
            "workers SIGKILLed (rooms / Bitrix24)": f"{tally.kills['worker']} / {tally.kills['worker-bitrix']}",
            "Redis outages": "; ".join(f"{n} {kind}" for kind, n in Counter(tally.redis_outages).items()),
            "SQLite held busy by another process (s)": round(tally.busy_seconds),
            "emulator fault phases": tally.fault_phases,
            "API answers": ", ".join(f"{k}: {v}" for k, v in sorted(record.answers.items())),
            **result.figures,
        }
        return result
    finally:
        stack.stop_all()
        database.dispose()


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def describe(plan: Plan) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in {**CHAOS_SETTINGS, **PORTAL_BUCKET}.items())
    return (f"{plan.conferences} conferences at {plan.per_second}/s, a worker SIGKILLed every {plan.kill_every} s "
            f"(seed {plan.seed}, {os.cpu_count()} cores); {settings}")
