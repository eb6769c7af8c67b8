"""One chaos run end to end: a real stack of its own, the load and the disruptions together, a settling
time with everything healthy, then the audit, of the database and of its backup restored.

On SQLite one host runs everything. On PostgreSQL (TEST_DATABASE_URL, scripts/with-postgres.sh) two hosts
share the one database and the one Redis: each has a web process and both workers; the first also has
Redis, the emulators and beat. The load goes to both webs in turn."""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests

from shared.db import Database
from tests.integration.stack import WORKERS, Stack, build_stack, start_stack
from tests.support.processes import free_port

from .audit import Audit, audit, audit_copy
from .backup_copy import RESTORED_DATABASE, restore_copy
from .disruptions import REDIS_WITH_AOF, Disruptions
from .load import Load
from .postgres import Cluster, drop_database, fresh_database

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


CHAOS_DATABASE = "telemost_chaos"


def on_postgres() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL"))


def chaos_run(plan: Plan, tmp: Path) -> Audit:
    stack = build_stack(tmp)
    stack.env.update(CHAOS_SETTINGS)
    shared_url = stack.env["DATABASE_URL"]
    if on_postgres():
        # A database of its own on the cluster: TEST_DATABASE_URL's is the one the session's stack (tests
        # of the same pytest run) works on, whose sweeper would hand this run's conferences to its own
        # workers and emulators (a fresh clone's make test saw rooms made at the other Telemost).
        stack.env["DATABASE_URL"] = fresh_database(shared_url, CHAOS_DATABASE)
    # psycopg 3 is the driver the app uses (shared/config.py); the run's own reads go through it too.
    stack.env["DATABASE_URL"] = stack.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    stack.redis_options, stack.redis_dir = REDIS_WITH_AOF, tmp / "redis-0"
    stack.redis_dir.mkdir()
    url = stack.env["DATABASE_URL"]
    sqlite_path = _sqlite_path(url)
    database = Database(url)
    hosts = [stack]
    try:
        start_stack(stack)
        if sqlite_path is None:
            hosts.append(_second_host(stack, tmp / "host-2"))
        requests.post(f"{stack.bitrix_url}/_sandbox/config", json=PORTAL_BUCKET, timeout=5).raise_for_status()
        stack.install()
        token = stack.login(2).token
        cluster = Cluster.of(url) if sqlite_path is None else None
        disruptions = Disruptions(
            hosts, database, sqlite_path, cluster, plan.load_seconds, plan.kill_every, tmp / "backups"
        )
        started = time.monotonic()
        disruptions.start()
        try:
            record = Load(
                [h.web_url for h in hosts], token, plan.conferences, plan.per_second, plan.seed
            ).run()
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
        _audit_backup(result, record, tally, url, tmp, started)
        result.figures = {
            "load (s)": round(loaded - started),
            "settling after the load (s)": round(settled - loaded),
            "hosts (web + rooms worker + Bitrix24 worker each)": len(hosts),
            "workers SIGKILLed (rooms / Bitrix24)": f"{tally.kills['worker']} / {tally.kills['worker-bitrix']}",
            "Redis outages": "; ".join(f"{n} {kind}" for kind, n in Counter(tally.redis_outages).items()),
            **(
                {"SQLite held busy by another process (s)": round(tally.busy_seconds)}
                if sqlite_path
                else {
                    "PostgreSQL restarts (mode, time to accept connections again)": "; ".join(
                        tally.postgres_restarts
                    )
                    or "none (the server is not on this machine)"
                }
            ),
            "emulator fault phases": tally.fault_phases,
            "API answers": ", ".join(f"{k}: {v}" for k, v in sorted(record.answers.items())),
            **result.figures,
        }
        return result
    finally:
        for host in reversed(hosts):
            host.stop_all()
        database.dispose()
        if on_postgres():
            drop_database(shared_url, CHAOS_DATABASE)


def _second_host(stack: Stack, log_dir: Path) -> Stack:
    """Another machine's web and workers: the same settings, database and Redis, its own web port."""
    log_dir.mkdir()
    port = free_port()
    other = Stack(
        env={**stack.env, "WEB_PORT": str(port)},
        web_url=f"http://127.0.0.1:{port}",
        telemost_url=stack.telemost_url,
        bitrix_url=stack.bitrix_url,
        redis_port=stack.redis_port,
        log_dir=log_dir,
    )
    for name in ("web", *WORKERS):
        other.start(name)
    return other


def _audit_backup(result: Audit, record, tally, url: str, tmp: Path, started: float) -> None:
    """The backup taken during the load, restored into a fresh database, audited against what was
    acknowledged before it started."""
    if tally.backup is None:
        result.problem(f"no backup was taken during the load: {tally.backup_error}")
        return
    restored = restore_copy(tally.backup, url, tmp)
    copy = Database(restored)
    try:
        result.figures["restore: backup taken at (s into the load, s it took)"] = (
            f"{tally.backup.started - started:.0f}, {tally.backup.seconds:.1f} "
            f"({tally.backup.path.suffix}, {tally.backup.path.stat().st_size // 1024} KiB)"
        )
        audit_copy(result, record, tally.backup.started, copy)
    finally:
        copy.dispose()
        if not restored.startswith("sqlite"):
            drop_database(url, RESTORED_DATABASE)


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def describe(plan: Plan) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in {**CHAOS_SETTINGS, **PORTAL_BUCKET}.items())
    where = "PostgreSQL, two hosts" if on_postgres() else "SQLite, one host"
    return (
        f"{plan.conferences} conferences at {plan.per_second}/s on {where}, a worker SIGKILLed every "
        f"{plan.kill_every} s (seed {plan.seed}, {os.cpu_count()} cores); {settings}"
    )
