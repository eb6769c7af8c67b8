"""Many portals, fairly (issue 18): 100 portals on one deployment, one of them with its bucket kept full by a
burst of its own; are the other portals' calendar steps delayed by it?

On a stack of its own (bench/stacks.py start_app_stack) with the real 2/s, burst 50 bucket in the emulator
and in the app's limiter (bench/drain.py REAL_LIMITER), whose Bitrix24 emulator is the many-portal one
(sandbox/bitrix24/portals.py: portal n on 127.0.0.n:<port>, one OAuth server for all). The app is installed
on every portal, then:
- quiet: after one conference each to warm up, 99 portals (2..100) each create `per_portal` conferences at once (a calendar event and three
  invitees each, as the drain's); each one's time to ready, from its POST to the last step's commit;
- busy: portal 1 first gets a burst of `burst` conferences from `owners` of its users at once, with the
  Bitrix24 worker held until their rooms are made; then its whole backlog is calendar steps waiting for its
  bucket, the worker is let go and the same 99 portals create as before.
The goal: the 99 portals' p95 time to ready busy within 1.5x of quiet. Also the calendar part alone (ready
less the room step's commit), the burst's own figures, QUERY_LIMIT_EXCEEDED per portal from the emulator,
and which Bitrix24 senders held worker threads while the 99 waited (the worker's leases in Redis).

    .venv/bin/python -m bench.fairness            # about 2 minutes; writes bench/results/fairness-<date>.json
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import redis
import requests
from sqlalchemy import select

from bench.common import ROOT, body, loadavg, log, percentile, wait_until
from bench.drain import REAL_LIMITER
from bench.stacks import Settings, pause, resume, start_app_stack
from sandbox.bitrix24.portals import COUNT_ENV, binds
from shared.db import Database
from shared.models import Conference, Step
from shared.pipeline.steps import room
from tests.integration.stack import FINAL_STATUSES, ApiClient, PortalHandle, Stack
from tests.support.processes import BIN, Process, http_ok

GOAL_RATIO = 1.5
SENDER_KEYS = "telemost:bitrix-sender:*"  # worker/context.py senders(): the Bitrix24 senders' leases


def many_portal_emulator(count: int, threads: int):
    """The stack's "bitrix" process as the many-portal emulator: one gunicorn listening on every portal's host."""

    def start(stack: Stack) -> Process:
        port = int(stack.env["SANDBOX_BITRIX24_PORT"])
        args = [
            str(BIN / "gunicorn"),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--workers",
            "1",
            "--graceful-timeout",
            "2",
            *binds(count, port),
            "sandbox.bitrix24.portals:create_app()",
        ]
        env = {**stack.env, COUNT_ENV: str(count)}
        return Process("bitrix", args, env, stack.log_dir, ready=http_ok(f"{stack.bitrix_url}/healthz"))

    return start


class Fairness:
    def __init__(self, stack: Stack, portals: int, per_portal: int, burst: int, owners: int, latency_ms: int):
        self.stack, self.per_portal, self.burst, self.owners, self.latency_ms = (
            stack,
            per_portal,
            burst,
            owners,
            latency_ms,
        )
        port = int(stack.env["SANDBOX_BITRIX24_PORT"])
        process = stack.process("bitrix")
        self.portals = [
            PortalHandle(f"portal-{n}", f"http://127.0.0.{n}:{port}", "", stack.web_url, process)
            for n in range(1, portals + 1)
        ]
        self.database = Database(stack.env["DATABASE_URL"])
        self.locks = redis.Redis.from_url(stack.env["REDIS_URL"])

    # --- setting up ---
    def summary(self) -> list[dict]:
        return requests.get(f"{self.stack.bitrix_url}/_sandbox/portals", timeout=10).json()

    def prepare(self) -> tuple[list[ApiClient], list[ApiClient]]:
        """The app on every portal; user 2 of each of the 99, and users 1..owners of portal 1, logged in."""
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(PortalHandle.install, self.portals))
            quiet = list(pool.map(lambda p: p.login(2), self.portals[1:]))
            burst = list(pool.map(self.portals[0].login, range(1, self.owners + 1)))
            for portal in self.portals:
                pool.submit(set_latency, portal.url, self.latency_ms)
        set_latency(self.stack.telemost_url, self.latency_ms)
        return quiet, burst

    # --- measuring ---
    def create(self, clients: list[ApiClient], each: int, threads: int = 16) -> dict[int, float]:
        """Every client creates `each` conferences, all at once; the POST's time of each conference id."""
        sent: dict[int, float] = {}

        def one(client: ApiClient) -> None:
            t0 = time.time()
            sent[client.create(body())["id"]] = t0

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, [client for client in clients for _ in range(each)]))
        return sent

    def statuses(self, ids) -> Counter:
        with self.database.read() as session:
            return Counter(
                session.scalars(select(Conference.status).where(Conference.id.in_(list(ids)))).all()
            )

    def wait_final(self, ids, timeout: float) -> bool:
        return wait_until(
            lambda: sum(self.statuses(ids)[s] for s in FINAL_STATUSES) == len(ids), timeout, 0.5
        )

    def times(self, sent: dict[int, float]) -> dict:
        """Time to ready (the last step's commit) of each ready conference, and its calendar part (from the room
        step's commit, which stores the link, to ready): the part the portal's bucket and the senders decide."""
        with self.database.read() as session:
            steps = session.execute(
                select(Step.conference_id, Step.name, Step.updated_at).where(
                    Step.conference_id.in_(list(sent)), Step.state == "done"
                )
            ).all()
            ready = set(
                session.scalars(
                    select(Conference.id).where(Conference.id.in_(list(sent)), Conference.status == "ready")
                ).all()
            )
        last: dict[int, float] = {}
        linked: dict[int, float] = {}
        for cid, name, at in steps:
            last[cid] = max(last.get(cid, 0.0), at.timestamp())
            if name == room.NAME:
                linked[cid] = at.timestamp()
        to_ready = [(last[cid] - sent[cid]) * 1000 for cid in ready if cid in last]
        calendar = [(last[cid] - linked[cid]) * 1000 for cid in ready if cid in last and cid in linked]
        return {
            "n": len(sent),
            "ready": len(ready),
            "statuses": dict(self.statuses(sent)),
            "to_ready": spread(to_ready),
            "calendar": spread(calendar),
            "to_ready_ms": sorted(round(v, 1) for v in to_ready),
            "calendar_ms": sorted(round(v, 1) for v in calendar),
        }

    def rejected(self) -> list[int]:
        return [p["rejected"].get("QUERY_LIMIT_EXCEEDED", 0) for p in self.summary()]

    def requests_of(self, n: int) -> int:
        counted = self.summary()[n - 1]["requests"]
        return sum(v for k, v in counted.items() if k != "total" and not k.startswith(("batch:", "oauth/")))

    # --- the runs ---
    def quiet(self, clients: list[ApiClient]) -> dict:
        started = time.time()
        sent = self.create(clients, self.per_portal)
        self.wait_final(sent, 120)
        return {**self.times(sent), "seconds": round(time.time() - started, 1)}

    def busy(self, quiet_clients: list[ApiClient], owners: list[ApiClient]) -> dict:
        rejected_before, requests_before = self.rejected(), self.requests_of(1)
        started = time.time()
        each = -(-self.burst // len(owners))
        # The Bitrix24 worker is held while the burst's rooms are made, so that its whole backlog waits for
        # portal 1's bucket when the others start: shared batches and the room worker's pace would otherwise
        # keep the burst under the bucket's rate (108 requests in 69 s, where the bucket allows 188).
        bitrix_worker = self.stack.process("worker-bitrix")
        pause([bitrix_worker])
        try:
            burst_sent = self.create(owners, each, threads=8)
            submitted = time.time() - started
            log(f"fairness: burst of {len(burst_sent)} submitted in {submitted:.1f} s")
            wait_until(lambda: self.statuses(burst_sent)["pending"] == 0, 180, 0.5)
        finally:
            resume([bitrix_worker])
        rooms_at = time.time() - started
        backlog = len(burst_sent) - sum(self.statuses(burst_sent)[s] for s in FINAL_STATUSES)
        level = self.summary()[0]["bucket"]["level"]
        log(f"fairness: burst rooms made at {rooms_at:.1f} s; {backlog} left, portal 1 bucket at {level}")
        sampler = SenderSampler(self.locks, self.portal_key(burst_sent), self.summary)
        sampler.start()
        others_started = time.time()
        sent = self.create(quiet_clients, self.per_portal)
        self.wait_final(sent, 180)
        others_seconds = time.time() - others_started
        sampler.stop()
        backlog_after = len(burst_sent) - sum(self.statuses(burst_sent)[s] for s in FINAL_STATUSES)
        others = {
            **self.times(sent),
            "seconds": round(others_seconds, 1),
            "burst_backlog_at_start": backlog,
            "burst_backlog_at_end": backlog_after,
            "portal_1_bucket_level_at_start": level,
        }
        log(
            f"fairness: the others done in {others_seconds:.1f} s; the burst's backlog {backlog} -> {backlog_after}"
        )
        all_final = self.wait_final(burst_sent, 240)
        burst_seconds = time.time() - started
        rejected_after = self.rejected()
        qle = [after - before for before, after in zip(rejected_before, rejected_after)]
        return {
            "others": others,
            "burst": {
                **self.times(burst_sent),
                "owners": len(owners),
                "submit_seconds": round(submitted, 1),
                "rooms_made_seconds": round(rooms_at, 1),
                "all_final": all_final,
                "seconds_to_all_final": round(burst_seconds, 1),
                "bitrix_requests": self.requests_of(1) - requests_before,
            },
            "query_limit_exceeded": {"portal_1": qle[0], "others": sum(qle[1:])},
            "senders": sampler.result(),
        }

    def portal_key(self, ids) -> str:
        with self.database.read() as session:
            return str(session.scalar(select(Conference.portal).where(Conference.id == next(iter(ids)))))


class SenderSampler(threading.Thread):
    """Every 0.25 s, the Bitrix24 senders' leases held in Redis, portal 1's apart from the others'."""

    def __init__(self, locks: redis.Redis, burst_portal: str, summary: Callable[[], list[dict]]) -> None:
        super().__init__(daemon=True)
        self.locks, self.burst_portal, self.summary = locks, burst_portal, summary
        self.samples: list[dict] = []
        self.done = threading.Event()

    def run(self) -> None:
        started = time.time()
        while not self.done.wait(0.25):
            keys = [key.decode().removeprefix(SENDER_KEYS[:-1]) for key in self.locks.scan_iter(SENDER_KEYS)]
            owners = [key for key in keys if not key.startswith("portal:")]
            mine = [key for key in owners if key.startswith(self.burst_portal + ":")]
            sample = {
                "t": round(time.time() - started, 2),
                "burst_portal_owners": len(mine),
                "other_owners": len(owners) - len(mine),
                "portal_slots": len(keys) - len(owners),
            }
            if len(self.samples) % 4 == 0:  # once a second: the emulator's view of portal 1's bucket
                sample["burst_portal_bucket"] = self.summary()[0]["bucket"]["level"]
            self.samples.append(sample)

    def stop(self) -> None:
        self.done.set()
        self.join(5)

    def result(self) -> dict:
        if not self.samples:
            return {"samples": 0}
        names = ("burst_portal_owners", "other_owners", "portal_slots", "burst_portal_bucket")
        column = {name: [s[name] for s in self.samples if name in s] for name in names}
        return {
            "samples": len(self.samples),
            **{f"{name}_max": max(v) for name, v in column.items()},
            **{f"{name}_mean": round(sum(v) / len(v), 2) for name, v in column.items()},
            "series": self.samples,
        }


def set_latency(url: str, latency_ms: int) -> None:
    spec = {"latency_ms": latency_ms} if latency_ms else {}
    requests.post(f"{url}/_sandbox/faults", json=spec, timeout=5).raise_for_status()


def spread(values: list[float]) -> dict:
    return {f"p{q}_ms": round(percentile(values, q), 1) if values else None for q in (50, 95, 99)} | {
        "max_ms": round(max(values), 1) if values else None
    }


def run(
    tmp: Path,
    settings: Settings,
    portals: int = 100,
    per_portal: int = 2,
    burst: int = 1000,
    owners: int = 6,
    latency_ms: int = 200,
    measure_when: threading.Event | None = None,
) -> dict:
    """measure_when: set up, then wait for it before measuring (make bench sets it up beside the light profile)."""
    started, load_at_start = time.time(), loadavg()
    stack = start_app_stack(
        tmp,
        settings,
        REAL_LIMITER,
        replace={"bitrix": many_portal_emulator(portals, settings.emulator_threads)},
    )
    try:
        bench = Fairness(stack, portals, per_portal, burst, owners, latency_ms)
        quiet_clients, owner_clients = bench.prepare()
        log(f"fairness: the app installed on {portals} portals in {time.time() - started:.1f} s")
        if measure_when is not None:
            measure_when.wait(600)
        # One conference of each portal first, not measured: a portal's first one pays for what is done once
        # (the room token, the user's calendar section), seconds that neither run should count.
        bench.wait_final(bench.create(quiet_clients, 1), 120)
        quiet = bench.quiet(quiet_clients)
        log(f"fairness quiet: {quiet['ready']}/{quiet['n']} ready, to ready {quiet['to_ready']}")
        busy = bench.busy(quiet_clients, owner_clients)
        bench.database.dispose()
    finally:
        stack.stop_all()
    ratio = (busy["others"]["to_ready"]["p95_ms"] or 0) / (quiet["to_ready"]["p95_ms"] or 1)
    calendar_ratio = (busy["others"]["calendar"]["p95_ms"] or 0) / (quiet["calendar"]["p95_ms"] or 1)
    result = {
        "portals": portals,
        "per_portal": per_portal,
        "burst": burst,
        "owners": owners,
        "latency_ms": latency_ms,
        "limiter": REAL_LIMITER,
        "goal_ratio": GOAL_RATIO,
        "quiet": quiet,
        "busy": busy,
        "ratio_p95": round(ratio, 2),
        "calendar_ratio_p95": round(calendar_ratio, 2),
        "met": ratio <= GOAL_RATIO,
        "load_average_at_start": load_at_start,
        "seconds": round(time.time() - started, 1),
    }
    log(
        f"fairness: p95 to ready quiet {quiet['to_ready']['p95_ms']} ms, busy {busy['others']['to_ready']['p95_ms']} "
        f"ms: {ratio:.2f}x (goal <= {GOAL_RATIO}); calendar part {calendar_ratio:.2f}x; in {result['seconds']} s"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--portals", type=int, default=100)
    parser.add_argument(
        "--per-portal", type=int, default=2, help="conferences each of the other portals creates"
    )
    parser.add_argument("--burst", type=int, default=1000, help="conferences of portal 1's burst")
    parser.add_argument("--owners", type=int, default=6, help="portal 1's users the burst is split between")
    parser.add_argument("--latency", type=int, default=200, help="emulated latency of every outside call, ms")
    options = parser.parse_args()
    tmp = ROOT / "var" / "bench" / datetime.now().strftime("%Y%m%d-%H%M%S") / "fairness"
    log(f"fairness: load {loadavg()}; logs in {tmp}")
    result = run(
        tmp, Settings(), options.portals, options.per_portal, options.burst, options.owners, options.latency
    )
    result["load_average_at_end"] = loadavg()
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"fairness-{date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
