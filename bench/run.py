"""`make bench`: the queued app against the synchronous baseline, on the real stack, in under 10 minutes.

Two stacks run at once (each its own Redis, emulators, database, web, workers and beat):
- the drain stack: 1,000 conferences for one portal against the real 2/s, burst 50 bucket. It is bound by
  the bucket (about 8.5 minutes), not by CPU, so it runs in the background for the whole run;
- the main stack, beside the baseline app: end to end, create under load (wrk), the history list with
  100,000 conferences, and memory.
Writes bench/results/<date>.md, <date>.json and the PNG plots. See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench import report  # noqa: E402
from bench.stacks import (Settings, pause, peak_rss, resume, start_app_stack, start_baseline,  # noqa: E402
                          worker_names)
from shared.db import Database  # noqa: E402
from shared.models import Conference, Step, StepName  # noqa: E402
from shared.services.sweeper import ACTIVE_STATUSES  # noqa: E402
from tests.integration.stack import FINAL_STATUSES  # noqa: E402
from tests.integration.test_pipeline import meeting  # noqa: E402

LATENCIES_MS = (0, 200, 500)
CONCURRENCY = (8, 32, 128)
# The emulated portal for the main stack: a bucket too big to matter, and a limiter at its highest setting,
# so that create and end-to-end compare the designs, not the portal's limit (the drain measures that).
LIFTED_BUCKET = {"bucket_size": 1_000_000, "drain_per_second": 100_000}
LIFTED_LIMITER = {"BITRIX24_RATE_PER_SECOND": "100", "BITRIX24_BURST": "1000"}
REAL_LIMITER = {"BITRIX24_RATE_PER_SECOND": "2", "BITRIX24_BURST": "50"}


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
        return session.scalar(select(func.count()).select_from(Conference).where(Conference.status.in_(statuses)))


# --- wrk -------------------------------------------------------------------------------------------


def wrk(script: str, url: str, connections: int, seconds: float, env: dict[str, str], threads: int = 2) -> dict:
    args = ["wrk", "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{seconds:g}s",
            "--timeout", "30s", "-s", f"bench/wrk/{script}", url]
    done = subprocess.run(args, cwd=ROOT, env=dict(os.environ, **env), capture_output=True, text=True,
                          timeout=seconds + 60)
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


# --- the drain (background) ------------------------------------------------------------------------


class Drain(threading.Thread):
    """1,000 conferences for one portal, each a calendar event and three invitees, at 2/s burst 50."""

    def __init__(self, tmp: Path, settings: Settings, conferences: int, latency_ms: int, timeout: float) -> None:
        super().__init__(daemon=True)
        self.tmp, self.settings, self.n, self.latency_ms, self.timeout = tmp, settings, conferences, latency_ms, timeout
        self.rooms_done = threading.Event()
        self.result: dict = {}
        self.memory: list[dict] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        stack = None
        try:
            stack = start_app_stack(self.tmp, self.settings, REAL_LIMITER)
            self.result = self._drain(stack)
        except BaseException as exc:  # reported, not raised: the other figures still count
            self.error = exc
            self.rooms_done.set()
        finally:
            if stack is not None:
                for name in ("web", *worker_names()):
                    self.memory += peak_rss("drain", stack.process(name))
                stack.stop_all()

    def _drain(self, stack) -> dict:
        stack.install()
        client = stack.login(2)
        set_latency(stack, self.latency_ms)
        config = requests.get(f"{stack.bitrix_url}/_sandbox/config", timeout=5).json()
        before = stack.bitrix_state()
        database = Database(stack.env["DATABASE_URL"])
        started = time.time()
        series: list[dict] = []

        def submit(_):
            return client.request("POST", "/api/conferences", json=body()).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(submit, range(self.n)))
        submitted = time.time() - started
        log(f"drain: {self.n} conferences submitted in {submitted:.1f} s")
        wait_until(lambda: count(database, ["pending"]) == 0, 120, 1)
        self.rooms_done.set()
        sampled = 0.0
        while time.time() - started < self.timeout:
            ready = count(database, FINAL_STATUSES)
            now = time.time() - started
            if now - sampled >= 5 or ready == self.n:
                state = stack.bitrix_state()
                series.append({"t": round(now, 1), "final": ready,
                               "requests": http_requests(state) - http_requests(before),
                               "rejected": state["rejected"].get("QUERY_LIMIT_EXCEEDED", 0)})
                sampled = now
            if ready == self.n:
                break
            time.sleep(1)
        elapsed = time.time() - started
        after = stack.bitrix_state()
        with database.read() as session:
            by_status = dict(session.execute(select(Conference.status, func.count()).group_by(Conference.status)).all())
        database.dispose()
        methods = {k: v - before["requests"].get(k, 0) for k, v in after["requests"].items()
                   if k != "total" and v - before["requests"].get(k, 0)}
        requests_sent = http_requests(after) - http_requests(before)
        bucket_allows = config["bucket_size"] + config["drain_per_second"] * elapsed
        # Steady state: the rate between the end of the burst and the end, from the samples.
        steady = [s for s in series if s["requests"] > config["bucket_size"]]
        steady_rate = ((steady[-1]["requests"] - steady[0]["requests"]) / (steady[-1]["t"] - steady[0]["t"])
                       if len(steady) >= 2 and steady[-1]["t"] > steady[0]["t"] else None)
        return {
            "conferences": self.n, "accepted": statuses.count(202), "latency_ms": self.latency_ms,
            "portal_bucket": config, "limiter": REAL_LIMITER, "submit_seconds": round(submitted, 1),
            "all_final": by_status.get("ready", 0) + by_status.get("partially_failed", 0) + by_status.get("failed", 0)
            == self.n, "seconds_to_all_final": round(elapsed, 1), "by_status": by_status,
            "bitrix_requests": requests_sent, "requests_by_method": methods,
            "requests_per_conference": round(requests_sent / self.n, 3),
            "rate_per_second": round(requests_sent / elapsed, 3),
            "steady_rate_per_second": round(steady_rate, 3) if steady_rate else None,
            "bucket_used_share": round(requests_sent / bucket_allows, 3),
            "steady_rate_share": round(steady_rate / config["drain_per_second"], 3) if steady_rate else None,
            "query_limit_exceeded": after["rejected"].get("QUERY_LIMIT_EXCEEDED", 0)
            - before["rejected"].get("QUERY_LIMIT_EXCEEDED", 0),
            "series": series,
        }


# --- end to end ------------------------------------------------------------------------------------


def emulated_calls(stack) -> int:
    """Every emulated call so far, each of which the emulators delay by the set latency: Telemost requests,
    Bitrix24 requests and, inside each batch, every command (sandbox/bitrix24/batch.py delays each)."""
    return stack.telemost_state()["requests"].get("total", 0) + stack.bitrix_state()["requests"].get("total", 0)


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


# --- the history list ------------------------------------------------------------------------------

NAMES = ["Weekly sync", "Sales review", "Retro", "Planning", "Demo day", "Board meeting", "Интервью",
         "Standup", "Design review", "Onboarding", "Quarterly results", "Support rotation", "Hiring panel",
         "Product webinar", "All hands", "Customer call", "Budget", "Roadmap", "Security briefing", "Offsite"]


def seed_history(database: Database, portal: str, total: int, user: int, share: float) -> dict:
    """Bulk-inserts `total` finished conferences (with their four steps) for users user..user+3 of one portal."""
    with database.read() as session:
        first_id = (session.scalar(select(func.max(Conference.id))) or 0) + 1
    now = datetime.now(timezone.utc)
    rng = random.Random(7)
    started = time.perf_counter()
    chunk = 5000
    mine = int(total * share)
    for start in range(0, total, chunk):
        conferences, steps = [], []
        for i in range(start, min(total, start + chunk)):
            cid = first_id + i
            owner = user if i < mine else user + 1 + i % 3
            status = rng.choices(["ready", "cancelled", "partially_failed", "failed"], [90, 7, 2, 1])[0]
            kind = "broadcast" if i % 10 == 0 else "conference"
            created = now - timedelta(seconds=(total - i) * 300)
            name = "Zebra crossing" if i in (11, mine // 2, mine - 5) else f"{NAMES[i % len(NAMES)]} #{i}"
            conferences.append({
                "id": cid, "public_id": uuid.uuid4().hex, "portal": portal, "owner_id": owner,
                "owner_name": "Bench user", "type": kind, "name": name, "description": None,
                "start_at": created + timedelta(days=1), "duration_minutes": 60, "timezone": "Europe/Moscow",
                "waiting_room_level": "ORGANIZATION",
                "live_stream": {"title": name, "description": None, "access_level": "PUBLIC"} if kind == "broadcast"
                else None, "cohosts": [], "invitees": [3, 4, 5], "create_calendar_event": True, "invite_users": True,
                "status": status, "join_url": f"https://telemost.yandex.ru/j/{cid:014d}",
                "watch_url": None, "telemost_id": f"{cid:014d}", "calendar_event_id": cid, "idempotency_key": None,
                "version": 1, "cancel_requested": status == "cancelled", "applied": {}, "reminded_at": None,
                "enqueued_at": created, "created_at": created, "updated_at": created})
            for name_ in StepName:
                state = "skipped" if name_ is StepName.SYNC_COHOSTS else ("failed" if status == "failed" else "done")
                steps.append({"conference_id": cid, "name": name_.value, "state": state, "attempts": 1,
                              "attempts_at_retry": 0, "error": None, "next_attempt_at": None,
                              "started_at": created, "updated_at": created})
        with database.write() as session:
            session.execute(insert(Conference.__table__), conferences)
            session.execute(insert(Step.__table__), steps)
    return {"inserted": total, "for_measured_user": mine, "seconds": round(time.perf_counter() - started, 1)}


LIST_VARIANTS = [
    ("page 1", "/api/conferences"),
    ("page 1, per_page=100", "/api/conferences?per_page=100"),
    ("page 50", "/api/conferences?page=50"),
    ("last page (2,500)", "/api/conferences?page=2500"),
    ("q=retro (5% match)", "/api/conferences?q=retro"),
    ("q=zebra (3 match)", "/api/conferences?q=zebra"),
    ("status=failed", "/api/conferences?status=failed"),
    ("type=broadcast, page 10", "/api/conferences?type=broadcast&page=10"),
]


def measure_list(stack, token: str, seconds: float) -> list[dict]:
    rows = []
    for label, path in LIST_VARIANTS:
        check = requests.get(stack.web_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        figures = wrk("list.lua", stack.web_url, 1, seconds, {"BENCH_PATH": path, "BENCH_TOKEN": token}, threads=1)
        rows.append({"variant": label, "path": path, "status": check.status_code,
                     "total": check.json().get("total"), "requests": figures["requests"], **figures["ms"]})
        log(f"list {label}: p50 {figures['ms']['p50']} ms, p95 {figures['ms']['p95']} ms")
    return rows


# --- the run -------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = next((l.split(":", 1)[1].strip() for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), "?")
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "kernel": platform.release(), "wrk": wrk_version.strip(), "commit": commit.strip(),
            "load_average_at_start": loadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--create-seconds", type=float, default=8, help="each wrk run of the app")
    parser.add_argument("--baseline-seconds", type=float, default=10, help="each wrk run of the baseline")
    parser.add_argument("--e2e", type=int, default=20, help="conferences per design and latency, sent 2 a second")
    parser.add_argument("--drain", type=int, default=1000, help="conferences in the drain (0: skip it)")
    parser.add_argument("--drain-latency", type=int, default=200)
    parser.add_argument("--history", type=int, default=100_000, help="conferences in the database for the list")
    parser.add_argument("--list-seconds", type=float, default=3)
    parser.add_argument("--latencies", default=",".join(map(str, LATENCIES_MS)))
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    for field, value in Settings().as_dict().items():
        parser.add_argument("--" + field.replace("_", "-"), type=int, default=value)
    options = parser.parse_args()
    settings = Settings(**{f: getattr(options, f) for f in Settings().as_dict()})
    latencies = [int(x) for x in options.latencies.split(",")]
    concurrency = [int(x) for x in options.concurrency.split(",")]
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: run scripts/ensure-wrk.sh")

    started = time.time()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    tmp = ROOT / "var" / "bench" / stamp
    results: dict = {"date": date.today().isoformat(), "machine": machine(), "settings": {
        **settings.as_dict(), "latencies_ms": latencies, "concurrency": concurrency,
        "create_seconds": options.create_seconds, "baseline_seconds": options.baseline_seconds,
        "e2e_per_latency": options.e2e, "drain_conferences": options.drain, "drain_latency_ms": options.drain_latency,
        "history_rows": options.history, "list_seconds": options.list_seconds,
        "main_stack_limiter": LIFTED_LIMITER, "main_stack_portal_bucket": LIFTED_BUCKET,
        "drain_limiter": REAL_LIMITER, "wrk": "closed loop, 2 threads, --timeout 30s",
        "body": body()}}
    log(f"{results['machine']['cores']} cores, load {results['machine']['load_average_at_start']}; logs in {tmp}")

    drain = None
    if options.drain:
        drain = Drain(tmp / "drain", settings, options.drain, options.drain_latency, timeout=570)
        drain.start()
    main_stack = start_app_stack(tmp / "main", settings, LIFTED_LIMITER)
    baseline = None
    try:
        main_stack.install()
        requests.post(f"{main_stack.bitrix_url}/_sandbox/config", json=LIFTED_BUCKET, timeout=5).raise_for_status()
        client = main_stack.login(2)
        database = Database(main_stack.env["DATABASE_URL"])
        baseline = start_baseline(main_stack, settings, tmp / "main")
        background = [main_stack.process(n) for n in (*worker_names(), "beat")]
        if drain is not None:
            drain.rooms_done.wait(180)
            log("drain: rooms made; the rest is bound by the portal's bucket, running on in the background")

        log("end to end")
        results["e2e"] = []
        for latency in latencies:
            set_latency(main_stack, latency)
            queued = e2e_queue(main_stack, client, database, latency, options.e2e, 2)
            synchronous = e2e_baseline(main_stack, baseline.url, latency, options.e2e, 2)
            results["e2e"].append({"latency_ms": latency, "queue": queued, "baseline": synchronous})
            log(f"e2e {latency} ms: queue p50 {queued['p50_ms']} (overhead {queued['overhead_p50_ms']}), "
                f"baseline p50 {synchronous['p50_ms']} (overhead {synchronous['overhead_p50_ms']})")

        log("create under load")
        results["create"] = []
        env = {"BENCH_BODY": json.dumps(body()), "BENCH_TOKEN": client.token}
        for latency in latencies:
            set_latency(main_stack, latency)
            for clients in concurrency:
                backlog_before = count(database, ACTIVE_STATUSES)
                queued = wrk("create.lua", main_stack.web_url + "/api/conferences", clients, options.create_seconds, env)
                backlog_after = count(database, ACTIVE_STATUSES)
                # The app's workers and beat are paused while the baseline runs: the designs never share the CPU.
                pause(background)
                try:
                    synchronous = wrk("create.lua", baseline.url + "/api/conferences", clients, options.baseline_seconds,
                                      {"BENCH_BODY": env["BENCH_BODY"]})
                    baseline.restart()
                finally:
                    resume(background)
                results["create"].append({"latency_ms": latency, "clients": clients, "queue": queued,
                                          "baseline": synchronous, "backlog_before": backlog_before,
                                          "backlog_after": backlog_after})
                log(f"create {latency} ms x{clients}: queue {queued['accepted_per_second']}/s p99 "
                    f"{queued['ms']['p99']} ms; baseline {synchronous['accepted_per_second']}/s p99 "
                    f"{synchronous['ms']['p99']} ms; backlog {backlog_before}->{backlog_after}")

        # Peaks so far, then the workers stop: the create phase's backlog would otherwise be worked on while we
        # read (and a paused worker may hold SQLite's write lock).
        results["memory"] = []
        for name in (*worker_names(),):
            results["memory"] += peak_rss("main", main_stack.process(name))
        results["memory"] += peak_rss("baseline", baseline.process)
        baseline.process.stop()
        for name in ("beat", *worker_names()):
            main_stack.stop(name)

        log("history list")
        set_latency(main_stack, 0)
        with database.read() as session:
            portal = session.scalar(select(Conference.portal).limit(1))
        results["list_seed"] = seed_history(database, portal, options.history, user=3, share=0.5)
        log(f"history: {results['list_seed']}")
        reader = main_stack.login(3)
        results["list"] = measure_list(main_stack, reader.token, options.list_seconds)
        results["memory"] = peak_rss("main", main_stack.process("web")) + results["memory"]
        database.dispose()
    finally:
        if baseline is not None:
            baseline.process.stop()
        main_stack.stop_all()
    if drain is not None:
        log("waiting for the drain")
        drain.join(600)
        results["drain"] = drain.result or {"error": repr(drain.error)}
        results["memory"] += drain.memory
    results["machine"]["load_average_at_end"] = loadavg()
    results["wall_seconds"] = round(time.time() - started, 1)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    name = results["date"]
    (out / f"{name}.json").write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    report.write(results, out, name)
    log(f"wrote {out / (name + '.md')} in {results['wall_seconds']} s")


if __name__ == "__main__":
    main()
