"""The report's targets table: each goal of the benchmark's issues, its figure, met or missed."""

from __future__ import annotations

from bench import fairness_report

TARGET_CREATE_P99_MS, TARGET_SPEEDUP, TARGET_OVERHEAD_MS, TARGET_LIST_P95_MS = 50, 20, 100, 50
DRAIN_TARGET_SECONDS = {1000: 120, 200: 30}  # issue 18: a burst of one owner's conferences, all ready
# Issue 18: p95 above the floor (one outside latency for the link, two for ready), workers busy.
TARGET_LINK_OVER_FLOOR_MS, TARGET_READY_OVER_FLOOR_MS = 30, 60
TARGET_OPEN_P99_MS = 50


def targets(r: dict) -> list[list]:
    rows = []
    create = next((c for c in r.get("create", []) if c["latency_ms"] == 500 and c["clients"] == 32), None)
    if create:
        p99 = create["queue"]["ms"]["p99"]
        rows.append(
            [
                "create p99, 32 clients, 500 ms outside",
                f"≤ {TARGET_CREATE_P99_MS} ms",
                f"{p99} ms",
                "met" if p99 <= TARGET_CREATE_P99_MS else "missed",
            ]
        )
        base = create["baseline"]["accepted_per_second"] or 0.001
        speedup = create["queue"]["accepted_per_second"] / base
        rows.append(
            [
                "create throughput vs baseline, same point",
                f"≥ {TARGET_SPEEDUP}x",
                f"{speedup:,.0f}x ({create['queue']['accepted_per_second']} vs {base}/s)",
                "met" if speedup >= TARGET_SPEEDUP else "missed",
            ]
        )
    if r.get("e2e"):
        worst = max((e["queue"]["overhead_p50_ms"] or 0) for e in r["e2e"])
        rows.append(
            [
                "end-to-end overhead p50 (worst latency)",
                f"≤ {TARGET_OVERHEAD_MS} ms",
                f"{worst} ms",
                "met" if worst <= TARGET_OVERHEAD_MS else "missed",
            ]
        )
    for design, label in (("queue_busy", "workers busy"), ("queue", "workers quiet")):
        measured = [e for e in r.get("e2e", []) if e.get(design) and "link" in e[design]]
        if not measured:
            continue
        for key, what, target in (
            ("link", "time to link", TARGET_LINK_OVER_FLOOR_MS),
            ("to_ready", "time to ready", TARGET_READY_OVER_FLOOR_MS),
        ):
            worst = max(measured, key=lambda e: e[design][key]["over_floor_p95_ms"] or 0)
            value = worst[design][key]["over_floor_p95_ms"]
            rows.append(
                [
                    f"{what}: p95 above the floor, {label} (worst latency: {worst['latency_ms']} ms)",
                    f"≤ {target} ms",
                    f"{value} ms",
                    "met" if value is not None and value <= target else "missed",
                ]
            )
    loop = r.get("open_loop")
    if loop:
        for design in ("queue", "baseline"):
            best = loop[f"{design}_highest_within"]
            rows.append(
                [
                    f"create, open loop: highest rate with p99 ≤ {TARGET_OPEN_P99_MS} ms, {design} "
                    f"({loop['latency_ms']} ms outside)",
                    "as high as it goes",
                    f"{best:g}/s" if best else "none of the rates",
                    "–" if best else "missed",
                ]
            )
    small = r.get("small_deployment")
    if small:
        light = r.get("light") or {}
        rows.append(
            [
                "memory of a small deployment (peak RSS, all processes)",
                "documented",
                f"{small['total_mib']:,.0f} MiB"
                + (f"; light profile {light['total_mib']:,.0f} MiB" if light.get("total_mib") else ""),
                "–",
            ]
        )
    drain = r.get("drain") or {}
    if "query_limit_exceeded" in drain:
        rows.append(
            [
                "drain QUERY_LIMIT_EXCEEDED",
                "0",
                drain["query_limit_exceeded"],
                "met" if drain["query_limit_exceeded"] == 0 else "missed",
            ]
        )
        # Issue 18: 1,000 conferences with an event and three invitees each, all ready in 2 minutes. With
        # whole batches shared the bucket no longer binds, so its share used is a figure, not a target.
        seconds, target = drain["seconds_to_all_final"], DRAIN_TARGET_SECONDS.get(drain["conferences"])
        rows.append(
            [
                f"drain: {drain['conferences']:,} conferences of one owner all ready",
                f"≤ {target} s" if target else "–",
                f"{seconds} s in {drain['bitrix_requests']} requests",
                ("met" if seconds <= target else "missed") if target else "–",
            ]
        )
        first = drain.get("first_round") or {}
        if first.get("conferences") in DRAIN_TARGET_SECONDS:
            seconds, target = first["seconds_to_all_final"], DRAIN_TARGET_SECONDS[first["conferences"]]
            rows.append(
                [
                    f"drain: {first['conferences']:,} at once all ready (a round before the big one)",
                    f"≤ {target} s",
                    f"{seconds} s in {first['bitrix_requests']} requests",
                    "met" if seconds <= target else "missed",
                ]
            )
    if "busy" in (r.get("fairness") or {}):
        rows.append(fairness_report.target_row(r["fairness"]))
    if r.get("list"):
        worst = max(row["p95"] for row in r["list"])
        rows.append(
            [
                "list p95 at 100,000 rows (worst variant)",
                f"≤ {TARGET_LIST_P95_MS} ms",
                f"{worst} ms",
                "met" if worst <= TARGET_LIST_P95_MS else "missed",
            ]
        )
    return rows
