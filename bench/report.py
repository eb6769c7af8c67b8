"""The report of a run: bench/results/<date>.md and its PNG plots, from the figures bench/run.py gathered."""

from __future__ import annotations

from pathlib import Path

from bench import fairness_report
from bench.plots import plots
from bench.targets import TARGET_LINK_OVER_FLOOR_MS, TARGET_OPEN_P99_MS, TARGET_READY_OVER_FLOOR_MS, targets


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def e2e_link_section(r: dict) -> list[str]:
    rows = []
    for e in r["e2e"]:
        for design, load in (("queue", "quiet"), ("queue_busy", "busy")):
            q = e.get(design)
            if not q or "link" not in q:
                continue
            link, ready, b = q["link"], q["to_ready"], e["baseline"].get("link") if load == "quiet" else None
            busy = q.get("busy")
            rows.append(
                [
                    e["latency_ms"],
                    load
                    if not busy
                    else f"busy ({busy['rate']:g}/s, backlog "
                    f"{busy['backlog_before']}→{busy['backlog_after']})",
                    link["p50_ms"],
                    link["p95_ms"],
                    link["floor_ms"],
                    link["over_floor_p50_ms"],
                    link["over_floor_p95_ms"],
                    ready["p50_ms"],
                    ready["p95_ms"],
                    ready["floor_ms"],
                    ready["over_floor_p50_ms"],
                    ready["over_floor_p95_ms"],
                    b["p50_ms"] if b else None,
                    b["p95_ms"] if b else None,
                    b["over_floor_p95_ms"] if b else None,
                ]
            )
    if not rows:
        return []
    rate = r["settings"].get("e2e_busy_rate")
    return [
        "## Time to link and time to ready",
        "",
        table(
            [
                "outside ms",
                "workers",
                "link p50",
                "p95",
                "floor",
                "over floor p50",
                "p95",
                "ready p50",
                "p95",
                "floor",
                "over floor p50",
                "p95",
                "baseline link = ready p50",
                "p95",
                "over link floor p95",
            ],
            rows,
        ),
        "",
        "Queue, from the client's send: *link* to the room step's commit (it stores the join URL with the "
        "step's state: from then on GET /api/conferences/<id> answers it), *ready* to the last step's commit. "
        "The floor is what no design avoids: one outside latency for the link (the room is the only call on "
        "its path), two for ready (the room, then one batch). Goals (issue 18): p95 above the floor ≤ "
        f"{TARGET_LINK_OVER_FLOOR_MS} ms for the link and ≤ {TARGET_READY_OVER_FLOOR_MS} ms for ready with the "
        f"workers busy. *Busy*: the same {r['settings']['e2e_per_latency']} conferences while another user of "
        f"the portal creates {rate:g} a second (open loop, from a process of its own, from 3 s before until "
        "the measured ones are final), each a room and a batch, in the same queues and workers; the backlog "
        "is the conferences not yet final before → after. The sandbox's main stack serves one portal, so the "
        "other work is another user's rather than another portal's (a second portal needs the shared OAuth "
        "stand-in of tests/integration/test_two_portals.py). Baseline (quiet only): the answer carries the "
        "link, so link = ready = the request's time, against the link's floor.",
        "",
    ]


def open_loop_section(loop: dict) -> list[str]:
    rows = []
    for design in ("queue", "baseline"):
        for x in loop[design]:
            bad = x["bad"]
            detail = ", ".join(
                [f"{k}: {v}" for k, v in x["statuses"].items() if k not in ("201", "202")]
                + [f"{k}: {v}" for k, v in x["errors"].items()]
            )
            rows.append(
                [
                    design,
                    f"{x['rate']:g}",
                    x["achieved_per_second"],
                    x["ms"]["p50"],
                    x["ms"]["p95"],
                    x["ms"]["p99"],
                    x["ms"]["max"],
                    f"{bad}" + (f" ({detail})" if detail else ""),
                    x["connections"],
                    x["send_lag_ms"]["p99"],
                ]
            )
    check = loop["generator_check"]
    q, b = loop["queue_highest_within"], loop["baseline_highest_within"]
    return [
        "## Create under an open loop: POST /api/conferences at a fixed rate",
        "",
        table(
            [
                "design",
                "offered /s",
                "answered /s",
                "p50",
                "p95",
                "p99",
                "max",
                "errors",
                "connections",
                "send lag p99",
            ],
            rows,
        ),
        "",
        f"Highest rate with p99 ≤ {TARGET_OPEN_P99_MS} ms and no errors: queue {f'{q:g}/s' if q else 'none'}, "
        f"baseline {f'{b:g}/s' if b else 'none'} (of the rates sent, each for {loop['seconds']:g} s, "
        f"{loop['latency_ms']} ms outside latency). Latencies in ms from each request's *scheduled* send time "
        "(open loop: requests go out on schedule whether or not earlier ones answered, so a stall is charged "
        "to every request it delays; no coordinated omission). The rates step up until one saturates the "
        f"design (p99 over 2 s, or under 80% answered): the higher ones are not sent. The app's workers run "
        f"while it is measured (backlog {loop['backlog_before']}→{loop['backlog_after']} conferences not yet "
        "final); they and beat are paused while the baseline runs, and the baseline restarts after each rate. "
        f"The generator (bench/openloop.py: asyncio, kept-alive HTTP/1.1, a process of its own) against a "
        f"trivial server at {check['rate']:g}/s: p50 {check['ms']['p50']} ms, p99 {check['ms']['p99']} ms, "
        f"{check['achieved_per_second']}/s answered; *send lag* is how late it sent, at worst.",
        "",
    ]


def memory_section(r: dict) -> list[str]:
    small, light = r["small_deployment"], r.get("light") or {}
    names = list(small["per_process_mib"])
    rows = [[n, small["per_process_mib"][n], (light.get("per_process_mib") or {}).get(n)] for n in names]
    rows.append(["**total**", small["total_mib"], light.get("total_mib")])
    rows.append(["total without Flower", small["without_flower_mib"], light.get("without_flower_mib")])
    s = r["settings"]
    profile = light.get("profile") or s.get("light_profile") or {}
    return [
        "## Memory of a small deployment",
        "",
        table(
            [
                "process",
                f"as run (web {s['web_workers']}x{s['web_threads']}, rooms {s['room_concurrency']}, "
                f"Bitrix24 {s['bitrix_concurrency']} threads) MiB",
                f"light profile (web {profile.get('web_workers')}x{profile.get('web_threads')}, rooms "
                f"{profile.get('room_concurrency')}, Bitrix24 {profile.get('bitrix_concurrency')}) MiB",
            ],
            rows,
        ),
        "",
        "Peak RSS (VmHWM) summed over each process's group (gunicorn's master and children), read at the end of "
        "its work: every process of scripts/procfile.py but the emulators. The first column is the main stack "
        "after the whole run; the light profile is a stack of its own that took "
        f"{light.get('conferences', '–')} conferences to ready (bench/README.md).",
        "",
    ]


def write(r: dict, out: Path, name: str, notes: str = "") -> Path:
    images = plots(r, out, name)
    m, s = r["machine"], r["settings"]
    parts = [f"# Benchmark {r['date']}: the queued app against the synchronous baseline", ""]
    parts += [
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory']}, Python {m['python']}, Linux {m['kernel']}, "
        f"{m['wrk']}; commit {m['commit']}. Load average at start {m['load_average_at_start']}, at end "
        f"{m.get('load_average_at_end')}. Whole run: {r.get('wall_seconds')} s.",
        "",
    ]
    parts += ["## Targets", "", table(["figure", "target", "measured", ""], targets(r)), ""]
    notes_file = out / f"{name}.notes.md"
    if notes_file.exists():
        parts += [notes_file.read_text().strip(), ""]
    if r.get("create"):
        rows = []
        for c in r["create"]:
            q, b = c["queue"], c["baseline"]
            rows.append(
                [
                    c["latency_ms"],
                    c["clients"],
                    q["accepted_per_second"],
                    q["ms"]["p50"],
                    q["ms"]["p95"],
                    q["ms"]["p99"],
                    b["accepted_per_second"],
                    b["ms"]["p50"],
                    b["ms"]["p95"],
                    b["ms"]["p99"],
                    f"{b['requests']} ({b['other_status'] + sum(b['errors'].values())} bad)",
                    f"{c['backlog_before']}→{c['backlog_after']}",
                ]
            )
        parts += [
            "## Create: POST /api/conferences under load (wrk, closed loop)",
            "",
            table(
                [
                    "outside ms",
                    "clients",
                    "queue req/s",
                    "p50",
                    "p95",
                    "p99",
                    "baseline req/s",
                    "p50",
                    "p95",
                    "p99",
                    "baseline answers",
                    "queue backlog",
                ],
                rows,
            ),
            "",
            "Latencies in ms. `queue backlog`: conferences not yet final before → after the app's run (the "
            "workers keep working through it; they are paused while the baseline runs, so that the two "
            "designs never share the CPU). A baseline run counts only the requests answered within it.",
            "",
        ]
    if r.get("e2e"):
        rows = [
            [
                e["latency_ms"],
                e["queue"]["p50_ms"],
                e["queue"]["p95_ms"],
                f"{e['queue']['critical_path_ms']} ({e['queue']['emulated_calls_per_conference']} calls)",
                e["queue"]["overhead_p50_ms"],
                e["queue"]["overhead_p95_ms"],
                e["baseline"]["p50_ms"],
                e["baseline"]["p95_ms"],
                f"{e['baseline']['critical_path_ms']} ({e['baseline']['emulated_calls_per_conference']} calls)",
                e["baseline"]["overhead_p50_ms"],
            ]
            for e in r["e2e"]
        ]
        parts += [
            "## End to end: POST to ready",
            "",
            table(
                [
                    "outside ms",
                    "queue p50",
                    "p95",
                    "critical path",
                    "overhead p50",
                    "overhead p95",
                    "baseline p50",
                    "p95",
                    "critical path",
                    "overhead p50",
                ],
                rows,
            ),
            "",
            f"{s['e2e_per_latency']} conferences per design and latency, sent 2 a second. Queue: from the "
            "client's send to the last step's commit in the database; its emulated critical path is the room, "
            "then one `batch` (calendar event, its read-back and three invitations). Baseline: the request's "
            "own time; its path is the room, the event and three notifications one after another. The "
            "critical path is the set latency times the emulated calls per conference, counted by the "
            "emulators during the run: a batch is one request and pays the latency once, whatever it "
            "holds (sandbox/bitrix24/batch.py).",
            "",
        ]
        parts += e2e_link_section(r)
    if r.get("open_loop"):
        parts += open_loop_section(r["open_loop"])
    drain = r.get("drain") or {}
    if "series" in drain:
        parts += [
            "## Drain: 1,000 conferences for one portal",
            "",
            table(
                ["figure", "value"],
                [
                    ["conferences (calendar event + 3 invitees each)", drain["conferences"]],
                    ["time to all final (from the first POST)", f"{drain['seconds_to_all_final']} s"],
                    ["statuses", ", ".join(f"{k}: {v}" for k, v in drain["by_status"].items())],
                    ["Bitrix24 requests sent", drain["bitrix_requests"]],
                    ["requests per conference", drain["requests_per_conference"]],
                    [
                        "requests by method",
                        ", ".join(f"{k}: {v}" for k, v in drain["requests_by_method"].items()),
                    ],
                    ["mean rate over the whole drain", f"{drain['rate_per_second']}/s"],
                    [
                        "steady-state rate after the burst",
                        f"{drain['steady_rate_per_second']}/s "
                        f"({(drain['steady_rate_share'] or 0):.1%} of 2/s)",
                    ],
                    [
                        "requests sent / most the bucket allowed in that time",
                        f"{drain['bucket_used_share']:.1%}",
                    ],
                    ["QUERY_LIMIT_EXCEEDED received", drain["query_limit_exceeded"]],
                    ["emulated latency", f"{drain['latency_ms']} ms"],
                    ["portal bucket / app limiter", f"{drain['portal_bucket']} / {drain['limiter']}"],
                ],
            ),
            "",
            "The drain runs on its own stack (own Redis, emulators, database, web and workers) in the "
            "background for the whole run: it is bound by the portal's bucket and the senders, not by the CPU. "
            "Its submission and room creation finish before the other figures start.",
            "",
        ]
        if first := drain.get("first_round"):
            parts += [
                f"Before it, on the same stack, {first['conferences']:,} conferences at once (the same kind): "
                f"all ready {first['seconds_to_all_final']} s after the first POST (submitted in "
                f"{first['submit_seconds']} s), in {first['bitrix_requests']} requests, "
                f"{first['query_limit_exceeded']} QUERY_LIMIT_EXCEEDED; the big round began once the portal's "
                "bucket had drained again.",
                "",
            ]
    elif drain:
        parts += ["## Drain", "", f"Failed: {drain}", ""]
    if r.get("list"):
        seed = r["list_seed"]
        rows = [
            [row["variant"], row["total"], row["requests"], row["p50"], row["p95"], row["p99"]]
            for row in r["list"]
        ]
        parts += [
            "## List: GET /api/conferences",
            "",
            f"{seed['inserted']:,} conferences bulk-inserted (with their 4 steps each) in {seed['seconds']} s "
            f"for four users of one portal; the measured user owns {seed['for_measured_user']:,}. One client "
            f"(wrk -c 1) for {s['list_seconds']} s per variant; 20 per page unless said.",
            "",
            table(["variant", "total", "requests", "p50 ms", "p95 ms", "p99 ms"], rows),
            "",
        ]
    if r.get("pools"):
        rows = [[p_["threads"], p_["rooms_per_second"], p_["ceiling_per_second"]] for p_ in r["pools"]]
        parts += [
            "## Room worker pool size",
            "",
            f"{r['pools'][0]['rooms']} conferences (a room each, nothing else) waiting, then one room worker "
            f"(threads pool) of each size makes them at {r['pools'][0]['latency_ms']} ms outside latency; "
            "the rate runs from the first room made to the last. The ceiling is threads / latency.",
            "",
            table(["threads", "rooms a second", "ceiling"], rows),
            "",
        ]
    if "busy" in (r.get("fairness") or {}):
        lines, made = fairness_report.section(r["fairness"], table, out, name)
        parts, images = parts + lines, images + made
    elif r.get("fairness"):
        parts += ["## Many portals, fairly", "", f"Failed: {r['fairness']}", ""]
    if r.get("small_deployment"):
        parts += memory_section(r)
    if r.get("memory"):
        rows = [
            [m_["stack"], m_["process"], m_["role"], m_["pid"], m_["threads"], m_["peak_rss_mib"]]
            for m_ in r["memory"]
        ]
        parts += [
            "## Memory: peak RSS (VmHWM) of each process",
            "",
            table(["stack", "process", "role", "pid", "threads", "peak RSS MiB"], rows),
            "",
        ]
    parts += ["## Settings", "", "```", *[f"{k}: {v}" for k, v in s.items()], "```", ""]
    parts += ["## Plots", "", *[f"![{i}]({i})" for i in images], ""]
    path = out / f"{name}.md"
    path.write_text("\n".join(parts))
    return path


if __name__ == "__main__":  # re-render a report from its JSON (after adding <date>.notes.md beside it)
    import json
    import sys

    source = Path(sys.argv[1])
    print(write(json.loads(source.read_text()), source.parent, source.stem))
