"""The report's PNG plots, from the figures bench/run.py gathered."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.targets import (  # noqa: E402
    TARGET_CREATE_P99_MS,
    TARGET_LINK_OVER_FLOOR_MS,
    TARGET_LIST_P95_MS,
    TARGET_OPEN_P99_MS,
    TARGET_READY_OVER_FLOOR_MS,
)


def plots(r: dict, out: Path, name: str) -> list[str]:
    made = []
    create = r.get("create", [])
    if create:
        latencies = sorted({c["latency_ms"] for c in create})
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        for latency in latencies:
            rows = [c for c in create if c["latency_ms"] == latency]
            xs = [c["clients"] for c in rows]
            axes[0].plot(
                xs, [c["queue"]["accepted_per_second"] for c in rows], "o-", label=f"queue, {latency} ms"
            )
            axes[0].plot(
                xs,
                [c["baseline"]["accepted_per_second"] for c in rows],
                "s--",
                label=f"baseline, {latency} ms",
            )
            axes[1].plot(xs, [c["queue"]["ms"]["p99"] for c in rows], "o-", label=f"queue, {latency} ms")
            axes[1].plot(
                xs, [c["baseline"]["ms"]["p99"] for c in rows], "s--", label=f"baseline, {latency} ms"
            )
        axes[0].set(
            title="create: accepted requests per second",
            xlabel="concurrent clients",
            xscale="log",
            yscale="log",
            ylabel="requests/s",
        )
        axes[1].axhline(TARGET_CREATE_P99_MS, color="grey", lw=0.8, ls=":")
        axes[1].set(
            title="create: p99 latency", xlabel="concurrent clients", xscale="log", yscale="log", ylabel="ms"
        )
        for ax in axes:
            ax.set_xticks([c for c in sorted({c["clients"] for c in create})])
            ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        made.append(_finish(fig, axes, out, f"{name}-create.png"))
    if r.get("e2e"):
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        xs = [e["latency_ms"] for e in r["e2e"]]
        for design, style in (("queue", "o-"), ("baseline", "s--")):
            axes[0].plot(xs, [e[design]["p50_ms"] for e in r["e2e"]], style, label=f"{design} p50")
            axes[0].plot(xs, [e[design]["p95_ms"] for e in r["e2e"]], style, alpha=0.5, label=f"{design} p95")
            axes[0].plot(
                xs,
                [e[design]["critical_path_ms"] for e in r["e2e"]],
                ":",
                label=f"{design} emulated critical path",
            )
        axes[0].set(title="end to end: POST to ready", xlabel="emulated outside latency (ms)", ylabel="ms")
        for design, style in (("queue", "o-"), ("queue_busy", "^-")):
            rows = [e for e in r["e2e"] if e.get(design) and "link" in e[design]]
            for key, what in (("link", "link"), ("to_ready", "ready")):
                axes[1].plot(
                    [e["latency_ms"] for e in rows],
                    [e[design][key]["over_floor_p95_ms"] for e in rows],
                    style,
                    alpha=1 if key == "link" else 0.5,
                    label=f"{design.replace('_', ', ')}: {what} p95",
                )
        axes[1].axhline(TARGET_LINK_OVER_FLOOR_MS, color="grey", lw=0.8, ls=":")
        axes[1].axhline(TARGET_READY_OVER_FLOOR_MS, color="grey", lw=0.8, ls="--")
        axes[1].set(
            title="queue: p95 above the floor (goals 30 ms link, 60 ms ready)",
            xlabel="emulated outside latency (ms)",
            ylabel="ms",
            yscale="log",
        )
        made.append(_finish(fig, axes, out, f"{name}-e2e.png"))
    loop = r.get("open_loop")
    if loop:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        for design, style in (("queue", "o-"), ("baseline", "s--")):
            runs = loop[design]
            rates = [x["rate"] for x in runs]
            axes[0].plot(rates, [x["achieved_per_second"] for x in runs], style, label=design)
            for q, alpha in (("p50", 0.4), ("p99", 1)):
                axes[1].plot(rates, [x["ms"][q] for x in runs], style, alpha=alpha, label=f"{design} {q}")
        top = max(loop["queue"][-1]["rate"], 1)
        axes[0].plot([0, top], [0, top], ":", color="grey", label="offered")
        axes[0].set(title="create, open loop: answered per second", xlabel="offered rate (/s)", ylabel="/s")
        axes[1].axhline(TARGET_OPEN_P99_MS, color="grey", lw=0.8, ls=":")
        axes[1].set(
            title=f"open loop: latency from the scheduled send ({loop['latency_ms']} ms outside)",
            xlabel="offered rate (/s)",
            ylabel="ms",
            yscale="log",
        )
        made.append(_finish(fig, axes, out, f"{name}-openloop.png"))
    drain = r.get("drain") or {}
    if drain.get("series"):
        series = drain["series"]
        bucket = drain["portal_bucket"]
        fig, ax = plt.subplots(figsize=(8, 4.5))
        ts = [s["t"] for s in series]
        ax.plot(ts, [s["requests"] for s in series], label="Bitrix24 requests sent")
        ax.plot(
            ts,
            [bucket["bucket_size"] + bucket["drain_per_second"] * t for t in ts],
            ":",
            label="most the bucket allows (50 + 2/s)",
        )
        ax.plot(ts, [s["final"] for s in series], label="conferences final")
        ax.plot(ts, [s["rejected"] for s in series], label="QUERY_LIMIT_EXCEEDED")
        ax.set(
            title=f"drain: {drain['conferences']} conferences, one portal", xlabel="seconds", ylabel="count"
        )
        made.append(_finish(fig, [ax], out, f"{name}-drain.png", legend_size=8))
    if r.get("list"):
        fig, ax = plt.subplots(figsize=(9, 4.5))
        labels = [row["variant"] for row in r["list"]]
        xs = range(len(labels))
        ax.bar([x - 0.2 for x in xs], [row["p50"] for row in r["list"]], 0.4, label="p50")
        ax.bar([x + 0.2 for x in xs], [row["p95"] for row in r["list"]], 0.4, label="p95")
        ax.axhline(TARGET_LIST_P95_MS, color="grey", lw=0.8, ls=":")
        ax.set_xticks(list(xs), labels, rotation=25, ha="right", fontsize=8)
        ax.set(title="GET /api/conferences with 100,000 conferences", ylabel="ms")
        made.append(_finish(fig, [ax], out, f"{name}-list.png", legend_size=10))
    return made


def _finish(fig, axes, out: Path, filename: str, legend_size: int = 7) -> str:
    """Legends and grids, then the PNG written and the figure closed; answers its file name."""
    for ax in axes:
        ax.legend(fontsize=legend_size)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / filename, dpi=90)
    plt.close(fig)
    return filename
