"""The fairness section of the report (bench/fairness.py's figures): its table, its row among the targets, and
its plot <name>-fairness.png (time to ready of the 99 portals, quiet and busy; the senders that held threads)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def target_row(f: dict) -> list:
    others = f["busy"]["others"]["to_ready"]["p95_ms"]
    return [
        f"other portals' p95 time to ready, busy / quiet ({f['portals'] - 1} portals, one portal's burst)",
        f"≤ {f['goal_ratio']}x",
        f"{f['ratio_p95']}x ({others:,.0f} / {f['quiet']['to_ready']['p95_ms']:,.0f} ms)",
        "met" if f["met"] else "missed",
    ]


def section(f: dict, table, out: Path, name: str) -> tuple[list[str], list[str]]:
    """The section's lines and its plots' file names; `table` is report.py's."""
    quiet, busy = f["quiet"], f["busy"]
    others, burst = busy["others"], busy["burst"]
    senders = busy.get("senders", {})

    def row(label: str, run: dict) -> list:
        t, c = run["to_ready"], run["calendar"]
        return [
            label,
            f"{run['ready']}/{run['n']}",
            t["p50_ms"],
            t["p95_ms"],
            t["max_ms"],
            c["p50_ms"],
            c["p95_ms"],
        ]

    lines = [
        "## Many portals, fairly",
        "",
        f"{f['portals']} portals in one Bitrix24 emulator process (sandbox/bitrix24/portals.py), each with the real "
        f"bucket (50, 2 a second) and the app's limiter at {f['limiter']}, {f['latency_ms']} ms outside latency, on "
        f"a stack of its own. Quiet: after one conference each to warm up, portals 2..{f['portals']} create "
        f"{f['per_portal']} conferences each at once (a calendar event and three invitees). Busy: portal 1 first "
        f"gets {burst['n']} conferences from {burst['owners']} of its users at once; once its rooms are made "
        f"({burst['rooms_made_seconds']} s) and {others['burst_backlog_at_start']} of them still wait for their "
        f"calendar step (portal 1's bucket at {others['portal_1_bucket_level_at_start']} of 50), the same portals "
        f"create as in the quiet run. Time to ready is from the POST to the last step's commit; the calendar part "
        f"from the room step's commit (the link) to ready.",
        "",
        table(
            ["run", "ready", "to ready p50 ms", "p95 ms", "max ms", "calendar part p50 ms", "p95 ms"],
            [
                row("quiet: the other portals", quiet),
                row("busy: the other portals", others),
                row("busy: portal 1's burst", burst),
            ],
        ),
        "",
        table(
            ["figure", "value"],
            [
                ["p95 to ready, busy / quiet", f"{f['ratio_p95']}x (goal ≤ {f['goal_ratio']}x)"],
                ["p95 of the calendar part, busy / quiet", f"{f['calendar_ratio_p95']}x"],
                [
                    "burst: all final after",
                    f"{burst['seconds_to_all_final']} s ({burst['all_final'] and 'all' or 'not all'})",
                ],
                ["burst: Bitrix24 requests to portal 1", burst["bitrix_requests"]],
                [
                    "burst's backlog while the others ran",
                    f"{others['burst_backlog_at_start']} → {others['burst_backlog_at_end']}"
                    + ("" if others["burst_backlog_at_end"] else " (drained before they were done)"),
                ],
                [
                    "QUERY_LIMIT_EXCEEDED: portal 1 / the others",
                    f"{busy['query_limit_exceeded']['portal_1']} / {busy['query_limit_exceeded']['others']}",
                ],
                [
                    "senders held (mean / max): portal 1's owners",
                    f"{senders.get('burst_portal_owners_mean')} / {senders.get('burst_portal_owners_max')}",
                ],
                [
                    "senders held (mean / max): the other portals' owners",
                    f"{senders.get('other_owners_mean')} / {senders.get('other_owners_max')}",
                ],
                [
                    "portal 1's bucket level meanwhile (mean / max, of 50)",
                    f"{senders.get('burst_portal_bucket_mean')} / {senders.get('burst_portal_bucket_max')}",
                ],
            ],
        ),
        "",
        "Senders are the Bitrix24 worker's leases in Redis (worker/context.py senders()), sampled every 0.25 s "
        "while the other portals ran: each holds one thread of the Bitrix24 worker.",
        "",
    ]
    return lines, [plot(f, out, f"{name}-fairness.png")]


def plot(f: dict, out: Path, filename: str) -> str:
    quiet, others = f["quiet"], f["busy"]["others"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for run, label, style in ((quiet, "quiet", "-"), (others, "busy", "--")):
        for key, part in (("to_ready_ms", "to ready"), ("calendar_ms", "calendar part")):
            values = [v / 1000 for v in run.get(key, [])]
            if values:
                axes[0].plot(
                    values,
                    [(i + 1) / len(values) for i in range(len(values))],
                    style,
                    label=f"{label}: {part}",
                )
    axes[0].set(
        title=f"the other {f['portals'] - 1} portals' conferences", xlabel="seconds", ylabel="share done"
    )
    series = f["busy"].get("senders", {}).get("series", [])
    if series:
        ts = [s["t"] for s in series]
        axes[1].plot(ts, [s["burst_portal_owners"] for s in series], label="portal 1's owners")
        axes[1].plot(ts, [s["other_owners"] for s in series], label="the other portals' owners")
        levels = [(s["t"], s["burst_portal_bucket"] / 10) for s in series if "burst_portal_bucket" in s]
        axes[1].plot(
            [t for t, _ in levels], [v for _, v in levels], ":", label="portal 1's bucket level / 10"
        )
    axes[1].set(
        title="Bitrix24 senders holding a worker thread (busy run)", xlabel="seconds", ylabel="senders"
    )
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / filename, dpi=90)
    plt.close(fig)
    return filename
