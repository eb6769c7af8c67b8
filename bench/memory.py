"""The whole stack's resident memory for a small deployment (web, both workers, beat, Flower, Redis), and the
same for the light profile bench/README.md documents for small installs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.common import body, count, wait_until
from bench.stacks import Settings, peak_rss, start_app_stack
from shared.db import Database
from shared.housekeeping.sweeper import ACTIVE_STATUSES

# What a small deployment runs: every process of scripts/procfile.py (emulators aside).
SMALL_DEPLOYMENT = ("web", "worker", "worker-bitrix", "beat", "flower", "redis")
# The light profile: one web process instead of two, fewer worker threads (the command-line options of
# scripts/procfile.py's lines; no setting of shared/config.py sizes them).
LIGHT = {"web_workers": 1, "web_threads": 8, "room_concurrency": 8, "bitrix_concurrency": 4}


def small_deployment(rows: list[dict], stack: str) -> dict:
    """Peak RSS summed per process (gunicorn's master and children together) and in all, in MiB."""
    per_process = {
        name: round(sum(r["peak_rss_mib"] for r in rows if r["stack"] == stack and r["process"] == name), 1)
        for name in SMALL_DEPLOYMENT
    }
    return {
        "stack": stack,
        "per_process_mib": per_process,
        "total_mib": round(sum(per_process.values()), 1),
        "without_flower_mib": round(sum(v for k, v in per_process.items() if k != "flower"), 1),
    }


def measure_light(tmp: Path, settings: Settings, env: dict[str, str], conferences: int) -> dict:
    """A stack of its own in the light profile takes `conferences` through to ready, then its peaks are read."""
    light = dataclasses.replace(settings, **LIGHT)
    stack = start_app_stack(tmp, light, env, flower=True)
    rows: list[dict] = []
    try:
        stack.install()
        client = stack.login(2)
        database = Database(stack.env["DATABASE_URL"])
        for _ in range(conferences):
            client.create(body())
        done = wait_until(lambda: count(database, ACTIVE_STATUSES) == 0, 120, 0.5)
        database.dispose()
        for name in SMALL_DEPLOYMENT:
            rows += peak_rss("light", stack.process(name))
    finally:
        stack.stop_all()
    return {
        **small_deployment(rows, "light"),
        "profile": LIGHT,
        "conferences": conferences,
        "all_final": done,
        "rows": rows,
    }
