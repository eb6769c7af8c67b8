"""What goes wrong during a chaos run, each on its own timeline: workers killed (on every host), Redis
stopped (its data kept by AOF, or lost), the emulators failing, and the database: SQLite held busy by a
writer in another process, or PostgreSQL restarted. A backup is taken on its own timeline too."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from shared.db import Database
from shared.models import Step, StepState
from tests.integration.stack import WORKERS, Stack

from .backup_copy import Backup, take_backup
from .postgres import Cluster

REDIS_WITH_AOF = ("--save", "", "--appendonly", "yes", "--appendfsync", "everysec")
CYCLE_SECONDS = 100  # one of each Redis outage and two busy spells per cycle (or per run, if shorter)
REDIS_DOWN_SECONDS = 5
FAULT_PHASE_SECONDS = 7
# Each phase replaces the last; "answers after our timeout" makes the portal act on a request whose
# answer the worker never reads, as a real timeout can.
FAULT_PHASES: list[tuple[str, dict, dict]] = [
    ("Telemost 500 on 20%", {"error_rate": 0.2, "status": 500}, {}),
    ("Telemost 429 + Retry-After on 20%", {"error_rate": 0.2, "status": 429, "retry_after": 1}, {}),
    ("Bitrix24 500 on 20%", {}, {"error_rate": 0.2, "status": 500}),
    (
        "both hang past our timeout on 10%",
        {"timeout_rate": 0.1, "hang_ms": 3000},
        {"timeout_rate": 0.1, "hang_ms": 3000},
    ),
    ("Bitrix24 batch answers after our timeout", {}, {"latency_ms": 2500, "path": "batch"}),
    ("no faults", {}, {}),
]
STEPS_OF = {"worker": "create_room", "worker-bitrix": "calendar_event"}


@dataclass
class Tally:
    kills: Counter = field(default_factory=Counter)
    # Steps running in the killed worker's queue at the moment of each kill: an upper bound on the
    # rooms (or batches) whose answer a kill could have lost.
    in_flight_at_kills: Counter = field(default_factory=Counter)
    redis_outages: list[str] = field(default_factory=list)
    busy_seconds: float = 0.0
    postgres_restarts: list[str] = field(default_factory=list)  # "fast, 1.2 s", "immediate, 0.9 s"
    postgres_down: list[tuple[float, float]] = field(
        default_factory=list
    )  # each restart's time.monotonic() span
    fault_phases: int = 0
    backup: Backup | None = None
    backup_error: str | None = None


BACKUP_AT = 0.55  # of the load's planned time: a backup with many conferences before it and many after


class Disruptions:
    """hosts: the first holds Redis, the emulators and beat; each has a web and both workers (two on
    PostgreSQL, standing for two machines)."""

    def __init__(
        self,
        hosts: list[Stack],
        database: Database,
        sqlite_path: Path | None,
        cluster: Cluster | None,
        duration: float,
        kill_every: float,
        backup_folder: Path,
    ) -> None:
        self.hosts, self.stack, self.database = hosts, hosts[0], database
        self.sqlite_path, self.cluster, self.backup_folder = sqlite_path, cluster, backup_folder
        self.duration, self.kill_every = duration, kill_every
        self.tally = Tally()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # one process change at a time
        self._redis_restarts = 0

    # --- the timelines ------------------------------------------------------------------------------

    def start(self) -> None:
        cycle = min(CYCLE_SECONDS, self.duration)
        cycles = [cycle * n for n in range(int(self.duration // cycle))]
        targets = [
            (host, name) for name in WORKERS for host in self.hosts
        ]  # rooms, Bitrix24, on each host in turn
        kills = [
            (t, lambda n=n: self._kill_worker(*targets[n % len(targets)]))
            for n, t in enumerate(_every(self.kill_every, self.duration))
        ]
        redis = [
            (c + at * cycle, lambda keep=keep: self._redis_outage(keep))
            for c in cycles
            for at, keep in ((0.25, True), (0.65, False))
        ]
        busy = [
            (c + at * cycle, lambda hold=hold * cycle: self._busy_sqlite(hold))
            for c in cycles
            for at, hold in ((0.4, 0.15), (0.8, 0.1))
        ]
        restarts = [
            (c + at * cycle, lambda mode=mode: self._restart_postgres(mode))
            for c in cycles
            for at, mode in ((0.45, "fast"), (0.85, "immediate"))
        ]
        # Every phase at least once, in a short run too (shorter phases then: one timeout is 2 s).
        phase = min(FAULT_PHASE_SECONDS, self.duration / (len(FAULT_PHASES) + 1))
        faults = [
            (t, lambda n=n: self._fault_phase(n)) for n, t in enumerate(_every(phase, self.duration))
        ]
        # The last phase lasts as long as the others, not on until the last person has given up: a person
        # retrying a meeting for a chat for two minutes against a portal whose every batch times out is lost.
        faults.append(((len(faults) + 1) * phase, self.stack.clear_faults))
        started = time.monotonic()
        database = busy if self.sqlite_path else restarts if self.cluster else []
        backup = [(BACKUP_AT * self.duration, self._backup)]
        for timeline in (kills, redis, database, faults, backup):
            thread = threading.Thread(target=self._follow, args=(started, timeline), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Ends every disruption and leaves the stack whole: no faults, Redis and every worker up."""
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.stack.clear_faults()
        with self._lock:
            for host, name in [(self.stack, "redis")] + [(h, n) for h in self.hosts for n in WORKERS]:
                if host.process(name).popen.poll() is not None:
                    host.start(name)

    def _follow(self, started: float, timeline: list[tuple[float, Callable[[], None]]]) -> None:
        for at, action in timeline:
            if self._stop.wait(max(0.0, started + at - time.monotonic())):
                return
            action()

    # --- the disruptions ----------------------------------------------------------------------------

    def _kill_worker(self, host: Stack, name: str) -> None:
        with self._lock:
            # Counted over both hosts' steps: an upper bound for the one killed (the database knows no host).
            self.tally.in_flight_at_kills[name] += self._running(STEPS_OF[name])
            host.process(name).kill()
            self.tally.kills[name] += 1
        time.sleep(1)
        with self._lock:
            host.start(name)

    def _redis_outage(self, keep_data: bool) -> None:
        with self._lock:
            if keep_data:
                self.stack.stop("redis")  # a clean stop: AOF has everything
            else:
                self.stack.process("redis").kill()
                self._redis_restarts += 1  # started again on an empty folder: every queued message is gone
                self.stack.redis_dir = self.stack.log_dir / f"redis-{self._redis_restarts}"
                self.stack.redis_dir.mkdir()
        self.tally.redis_outages.append("stopped, AOF kept its data" if keep_data else "killed, data lost")
        time.sleep(REDIS_DOWN_SECONDS)
        with self._lock:
            self.stack.start("redis")

    def _busy_sqlite(self, seconds: float) -> None:
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("busy_sqlite.py")),
                str(self.sqlite_path),
                str(seconds),
            ],
            check=True,
            timeout=seconds + 30,
        )
        self.tally.busy_seconds += time.monotonic() - started

    def _restart_postgres(self, mode: str) -> None:
        with self._lock:
            started = time.monotonic()
            try:
                self.cluster.restart(mode)
            finally:
                self.tally.postgres_down.append((started, time.monotonic()))
            self.tally.postgres_restarts.append(f"{mode}, {time.monotonic() - started:.1f} s")

    def _backup(self) -> None:
        with self._lock:  # not in the middle of a PostgreSQL restart, which would end pg_dump's session
            try:
                self.tally.backup = take_backup(self.stack.env, self.backup_folder)
            except Exception as exc:  # the audit reports it: the run goes on
                self.tally.backup_error = f"{type(exc).__name__}: {exc}"

    def _fault_phase(self, number: int) -> None:
        _, telemost, bitrix = FAULT_PHASES[number % len(FAULT_PHASES)]
        self.stack.telemost_faults(**telemost)
        self.stack.bitrix_faults(**bitrix)
        self.tally.fault_phases += 1

    def _running(self, name: str) -> int:
        with self.database.read() as session:
            return session.scalar(
                select(func.count())
                .select_from(Step)
                .where(Step.name == name, Step.state == StepState.RUNNING.value)
            )


def _every(period: float, duration: float) -> list[float]:
    return [period * n for n in range(1, int(duration / period) + 1) if period * n < duration]
