"""`make bench`: the queued app against the synchronous baseline, on the real stack, in under 10 minutes.

Two stacks run at once (each its own Redis, emulators, database, web, workers and beat):
- the drain stack: 1,000 conferences for one portal against the real 2/s, burst 50 bucket. It is bound by
  the bucket (about 8.5 minutes), not by CPU, so it runs in the background for the whole run;
- the main stack (with Flower), beside the baseline app: end to end (time to link and to ready, quiet and with
  the workers busy), create under an open loop, create under load (wrk), the history list with 100,000
  conferences, and memory; then, while the drain runs on, the light profile's memory on a stack of its own;
- last, many portals, fairly (bench/fairness.py): 100 portals, one with a burst of its own, on a stack of its own.
Writes bench/results/<date>.md, <date>.json and the PNG plots. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench import report  # noqa: E402
from bench.common import body, count, loadavg, log, set_latency, wrk  # noqa: E402
from bench.drain import REAL_LIMITER, Drain  # noqa: E402
from bench.e2e import e2e_baseline, e2e_queue, e2e_queue_busy  # noqa: E402
from bench.fairness import run as run_fairness  # noqa: E402
from bench.history import measure_list, seed_history  # noqa: E402
from bench.memory import LIGHT, measure_light, small_deployment  # noqa: E402
from bench.openloop import RATES, generator_check, highest_within, step_up  # noqa: E402
from bench.pools import measure_room_pool  # noqa: E402
from bench.stacks import Settings, pause, peak_rss, resume, start_app_stack, start_baseline, worker_names  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.housekeeping.sweeper import ACTIVE_STATUSES  # noqa: E402
from shared.models import Conference  # noqa: E402

LATENCIES_MS = (0, 200, 500)
CONCURRENCY = (8, 32, 128)
# The emulated portal for the main stack: a bucket too big to matter, and a limiter at its highest setting,
# so that create and end-to-end compare the designs, not the portal's limit (the drain measures that).
LIFTED_BUCKET = {"bucket_size": 1_000_000, "drain_per_second": 100_000}
LIFTED_LIMITER = {"BITRIX24_RATE_PER_SECOND": "100", "BITRIX24_BURST": "1000"}


def machine() -> dict:
    cpu = next(
        (
            l.split(":", 1)[1].strip()
            for l in Path("/proc/cpuinfo").read_text().splitlines()
            if l.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            l.split(":", 1)[1].strip()
            for l in Path("/proc/meminfo").read_text().splitlines()
            if l.startswith("MemTotal")
        ),
        "?",
    )
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version.strip(),
        "commit": commit.strip(),
        "load_average_at_start": loadavg(),
    }


def open_loop_phase(stack, baseline, client, background, options, rates: list[float]) -> dict:
    """The app with its workers running, then the baseline with the app's workers and beat paused (the designs
    never share the CPU); each rate in turn until one saturates the design."""
    set_latency(stack, options.open_latency)
    database = Database(stack.env["DATABASE_URL"])
    check = generator_check(max(rates), 2)
    log(f"open loop: the generator alone at {max(rates):g}/s: p99 {check['ms']['p99']} ms")
    backlog_before = count(database, ACTIVE_STATUSES)
    queued = step_up(
        stack.web_url + "/api/conferences", rates, options.open_seconds, body(), client.token, 202, log=log
    )
    backlog_after = count(database, ACTIVE_STATUSES)
    database.dispose()
    pause(background)
    try:
        synchronous = step_up(
            baseline.url + "/api/conferences",
            rates,
            options.open_seconds,
            body(),
            "",
            201,
            between=baseline.restart,
            log=log,
        )
    finally:
        resume(background)
    return {
        "latency_ms": options.open_latency,
        "seconds": options.open_seconds,
        "generator_check": check,
        "queue": queued,
        "baseline": synchronous,
        "backlog_before": backlog_before,
        "backlog_after": backlog_after,
        "queue_highest_within": highest_within(queued),
        "baseline_highest_within": highest_within(synchronous),
    }


def fairness_part(
    result: dict, tmp: Path, settings: Settings, options, measure_when: threading.Event
) -> None:
    try:
        result.update(
            run_fairness(
                tmp / "fairness",
                settings,
                per_portal=options.fairness_per_portal,
                burst=options.fairness_burst,
                measure_when=measure_when,
            )
        )
    except Exception as exc:  # reported, not raised: the other figures still count
        result["error"] = repr(exc)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--create-seconds", type=float, default=6, help="each wrk run of the app")
    parser.add_argument("--baseline-seconds", type=float, default=6, help="each wrk run of the baseline")
    parser.add_argument(
        "--e2e", type=int, default=20, help="conferences per design and latency, sent 2 a second"
    )
    parser.add_argument(
        "--busy-rate",
        type=float,
        default=10,
        help="end to end again while another user creates this many a second (0: quiet only)",
    )
    parser.add_argument(
        "--open-rates", default=",".join(map(str, RATES)), help="open-loop create rates, a second"
    )
    parser.add_argument("--open-seconds", type=float, default=3, help="each open-loop rate")
    parser.add_argument("--open-latency", type=int, default=200, help="outside latency during the open loop")
    parser.add_argument(
        "--light",
        type=int,
        default=40,
        help="conferences through the light profile's stack for its memory (0: skip it)",
    )
    parser.add_argument("--drain", type=int, default=1000, help="conferences in the drain (0: skip it)")
    parser.add_argument(
        "--drain-first", type=int, default=200, help="a round at once before the drain's (0: none; issue 18)"
    )
    parser.add_argument("--drain-latency", type=int, default=200)
    parser.add_argument(
        "--fairness-burst",
        type=int,
        default=1000,
        help="many portals, fairly: portal 1's burst beside 99 other portals (0: skip it; bench/fairness.py)",
    )
    parser.add_argument("--fairness-per-portal", type=int, default=2, help="conferences of each other portal")
    parser.add_argument(
        "--history", type=int, default=100_000, help="conferences in the database for the list"
    )
    parser.add_argument("--list-seconds", type=float, default=3)
    parser.add_argument("--pool-rooms", type=int, default=120, help="rooms per room-worker pool size")
    parser.add_argument("--latencies", default=",".join(map(str, LATENCIES_MS)))
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    for field, value in Settings().as_dict().items():
        parser.add_argument("--" + field.replace("_", "-"), type=int, default=value)
    options = parser.parse_args()
    settings = Settings(**{f: getattr(options, f) for f in Settings().as_dict()})
    latencies = [int(x) for x in options.latencies.split(",")]
    concurrency = [int(x) for x in options.concurrency.split(",")]
    open_rates = [float(x) for x in options.open_rates.split(",") if x]
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: run scripts/ensure-wrk.sh")

    started = time.time()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    tmp = ROOT / "var" / "bench" / stamp
    results: dict = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "settings": {
            **settings.as_dict(),
            "latencies_ms": latencies,
            "concurrency": concurrency,
            "create_seconds": options.create_seconds,
            "baseline_seconds": options.baseline_seconds,
            "e2e_per_latency": options.e2e,
            "e2e_busy_rate": options.busy_rate,
            "open_rates": open_rates,
            "open_seconds": options.open_seconds,
            "open_latency_ms": options.open_latency,
            "light_profile": LIGHT,
            "light_conferences": options.light,
            "drain_conferences": options.drain,
            "drain_latency_ms": options.drain_latency,
            "fairness_burst": options.fairness_burst,
            "fairness_per_portal": options.fairness_per_portal,
            "history_rows": options.history,
            "list_seconds": options.list_seconds,
            "pool_rooms": options.pool_rooms,
            "main_stack_limiter": LIFTED_LIMITER,
            "main_stack_portal_bucket": LIFTED_BUCKET,
            "drain_limiter": REAL_LIMITER,
            "wrk": "closed loop, 2 threads, --timeout 30s",
            "body": body(),
        },
    }
    log(
        f"{results['machine']['cores']} cores, load {results['machine']['load_average_at_start']}; logs in {tmp}"
    )

    drain = None
    if options.drain:
        drain = Drain(
            tmp / "drain",
            settings,
            options.drain,
            options.drain_latency,
            timeout=570,
            first=options.drain_first,
        )
        drain.start()
    main_stack = start_app_stack(tmp / "main", settings, LIFTED_LIMITER, flower=True)
    baseline = None
    try:
        main_stack.install()
        requests.post(
            f"{main_stack.bitrix_url}/_sandbox/config", json=LIFTED_BUCKET, timeout=5
        ).raise_for_status()
        client = main_stack.login(2)
        other = main_stack.login(4)  # the busy load's user (3 is the list's)
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
            busy = (
                e2e_queue_busy(
                    main_stack, client, other, database, latency, options.e2e, 2, options.busy_rate
                )
                if options.busy_rate
                else None
            )
            synchronous = e2e_baseline(main_stack, baseline.url, latency, options.e2e, 2)
            results["e2e"].append(
                {"latency_ms": latency, "queue": queued, "queue_busy": busy, "baseline": synchronous}
            )
            log(
                f"e2e {latency} ms: queue link p95 {queued['link']['p95_ms']} ready p95 {queued['p95_ms']} "
                f"(over floor {queued['link']['over_floor_p95_ms']} / {queued['to_ready']['over_floor_p95_ms']}), "
                f"baseline p50 {synchronous['p50_ms']} (overhead {synchronous['overhead_p50_ms']})"
            )
            if busy:
                log(
                    f"e2e {latency} ms busy: link p95 {busy['link']['p95_ms']} ready p95 {busy['p95_ms']} (over floor "
                    f"{busy['link']['over_floor_p95_ms']} / {busy['to_ready']['over_floor_p95_ms']}); {busy['busy']}"
                )

        log("create under an open loop")
        results["open_loop"] = open_loop_phase(main_stack, baseline, client, background, options, open_rates)

        log("create under load")
        results["create"] = []
        env = {"BENCH_BODY": json.dumps(body()), "BENCH_TOKEN": client.token}
        for latency in latencies:
            set_latency(main_stack, latency)
            for clients in concurrency:
                backlog_before = count(database, ACTIVE_STATUSES)
                queued = wrk(
                    "create.lua",
                    main_stack.web_url + "/api/conferences",
                    clients,
                    options.create_seconds,
                    env,
                )
                backlog_after = count(database, ACTIVE_STATUSES)
                # The app's workers and beat are paused while the baseline runs: the designs never share the CPU.
                pause(background)
                try:
                    synchronous = wrk(
                        "create.lua",
                        baseline.url + "/api/conferences",
                        clients,
                        options.baseline_seconds,
                        {"BENCH_BODY": env["BENCH_BODY"]},
                    )
                    baseline.restart()
                finally:
                    resume(background)
                results["create"].append(
                    {
                        "latency_ms": latency,
                        "clients": clients,
                        "queue": queued,
                        "baseline": synchronous,
                        "backlog_before": backlog_before,
                        "backlog_after": backlog_after,
                    }
                )
                log(
                    f"create {latency} ms x{clients}: queue {queued['accepted_per_second']}/s p99 "
                    f"{queued['ms']['p99']} ms; baseline {synchronous['accepted_per_second']}/s p99 "
                    f"{synchronous['ms']['p99']} ms; backlog {backlog_before}->{backlog_after}"
                )

        # Peaks so far, then the workers stop: the create phase's backlog would otherwise be worked on while we
        # read (and a paused worker may hold SQLite's write lock).
        results["memory"] = []
        for name in (*worker_names(), "beat", "flower", "redis"):
            results["memory"] += peak_rss("main", main_stack.process(name))
        results["memory"] += peak_rss("baseline", baseline.process)
        baseline.process.stop()
        for name in ("flower", "beat", *worker_names()):
            main_stack.stop(name)

        log("room worker pool")
        results["pools"] = measure_room_pool(main_stack, client, database, 500, options.pool_rooms)

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
    results["small_deployment"] = small_deployment(results["memory"], "main")
    # Many portals, fairly: its stack is set up beside the light profile (whose figure is memory, not time);
    # it measures once the light profile and the drain are done, with the CPU to itself.
    fairness_measure, fairness_result = threading.Event(), {}
    if options.fairness_burst:
        log("many portals, fairly: setting up")
        fairness = threading.Thread(
            target=fairness_part,
            args=(fairness_result, tmp, settings, options, fairness_measure),
            daemon=True,
        )
        fairness.start()
    if options.light:  # while the drain, bound by its bucket, runs on
        log("light profile")
        results["light"] = measure_light(tmp / "light", settings, LIFTED_LIMITER, options.light)
        log(f"light profile: {results['light']['total_mib']} MiB in all")
    if drain is not None:
        log("waiting for the drain")
        drain.join(600)
        results["drain"] = drain.result or {"error": repr(drain.error)}
        results["memory"] += drain.memory
    fairness_measure.set()
    if options.fairness_burst:
        fairness.join(600)
        results["fairness"] = fairness_result or {"error": "did not finish"}
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
