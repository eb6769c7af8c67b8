"""The stacks the benchmark runs: the app (tests/integration/stack.py's processes, with production settings)
and the synchronous baseline, against the same emulators. Plus the process-level tools the runner needs:
pausing a process group, and reading every process's peak RSS from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import requests

from tests.integration import stack as test_stack
from tests.integration.stack import Stack, build_stack
from tests.support.processes import BIN, ROOT, Process, free_port, http_ok

# Production-like settings on top of the test stack's (which are tuned for fast tests): the sweeper at its
# defaults, the web as scripts/procfile.py runs it, emulators with enough threads never to be the bottleneck.
DROP_ENV = ("SWEEP_EVERY_SECONDS", "SWEEP_RESEND_AFTER_SECONDS", "HTTP_TIMEOUT_SECONDS")


@dataclass
class Settings:
    web_workers: int = 2
    web_threads: int = 8
    room_concurrency: int = 32  # the `worker` process (conferences, maintenance queues): bench/pools.py
    bitrix_concurrency: int = 16  # the `worker-bitrix` process (bitrix queue), when the stack has one
    emulator_threads: int = 64
    baseline_workers: int = 4  # the original README's gunicorn: 4 workers x 2 threads
    baseline_threads: int = 2

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def with_option(args: list[str], option: str, value: str) -> list[str]:
    """The command line with `option value` replaced (or added before the last argument)."""
    args = list(args)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args[-1:-1] = [option, value]
    return args


def worker_names() -> tuple[str, ...]:
    return tuple(getattr(test_stack, "WORKERS", ("worker",)))


def start_app_stack(
    tmp: Path,
    settings: Settings,
    env: dict[str, str],
    flower: bool = False,
    replace: dict[str, Callable[[Stack], Process]] | None = None,
) -> Stack:
    """Redis, both emulators, web, the workers and beat, as the integration tests start them, but with
    the given settings (rate limiter, pool sizes); and Flower, as scripts/procfile.py runs it, if asked.
    replace: a process of another definition by name (bench/fairness.py's many-portal Bitrix24 emulator)."""
    tmp.mkdir(parents=True, exist_ok=True)
    stack = build_stack(tmp)
    for key in DROP_ENV:
        stack.env.pop(key, None)
    stack.env.update(env)
    definitions = test_stack._definitions(stack)
    stack.start("redis")
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=stack.env, check=True, capture_output=True
    )
    overrides = {
        "telemost": lambda p: with_option(p.args, "--threads", str(settings.emulator_threads)),
        "bitrix": lambda p: with_option(p.args, "--threads", str(settings.emulator_threads)),
        "web": lambda p: with_option(
            with_option(p.args, "--workers", str(settings.web_workers)),
            "--threads",
            str(settings.web_threads),
        ),
        "worker": lambda p: with_option(p.args, "--concurrency", str(settings.room_concurrency)),
        "worker-bitrix": lambda p: with_option(p.args, "--concurrency", str(settings.bitrix_concurrency)),
    }
    for name in ("telemost", "bitrix", "web", *worker_names(), "beat"):
        if name in (replace or {}):
            stack.processes[name] = replace[name](stack).start()
            continue
        process = definitions[name]()
        if name in overrides:
            process.args = overrides[name](process)
        stack.processes[name] = process.start()
    if flower:
        stack.processes["flower"] = flower_process(stack).start()
    time.sleep(0.5)
    return stack


def flower_process(stack: Stack) -> Process:
    """Flower as scripts/procfile.py runs it (no password: this machine only); tests/integration/stack.py has
    no definition of it."""
    port = stack.env["FLOWER_PORT"]
    args = [str(BIN / "celery"), "-A", "worker.celery_app", "flower", f"--port={port}", "--address=127.0.0.1"]
    return Process(
        "flower", args, stack.env, stack.log_dir, ready=http_ok(f"http://127.0.0.1:{port}/healthcheck")
    )


def start_baseline(stack: Stack, settings: Settings, tmp: Path) -> "Baseline":
    token = requests.post(
        f"{stack.bitrix_url}/_sandbox/tokens", json={"user_id": 2, "ttl": 24 * 3600}, timeout=5
    ).json()["access_token"]
    port = free_port()
    env = dict(
        stack.env,
        BASELINE_TELEMOST_URL=f"{stack.telemost_url}/v1/telemost-api",
        BASELINE_TELEMOST_TOKEN="sandbox-org-token",
        BASELINE_BITRIX_REST_URL=f"{stack.bitrix_url}/rest/",
        BASELINE_BITRIX_TOKEN=token,
        BASELINE_DATABASE_URL=f"sqlite:///{tmp / 'baseline.db'}",
    )
    args = [
        str(BIN / "gunicorn"),
        "--worker-class",
        "gthread",
        "--workers",
        str(settings.baseline_workers),
        "--threads",
        str(settings.baseline_threads),
        "--graceful-timeout",
        "1",
        "--timeout",
        "120",
        "--bind",
        f"127.0.0.1:{port}",
        "bench.baseline.app:create_app()",
    ]
    baseline = Baseline(
        Process("baseline", args, env, tmp, ready=http_ok(f"http://127.0.0.1:{port}/health")),
        f"http://127.0.0.1:{port}",
    )
    baseline.process.start()
    return baseline


@dataclass
class Baseline:
    process: Process
    url: str

    def restart(self) -> None:
        """Drops what a finished load run left queued in its backlog (gunicorn would serve it for minutes)."""
        self.process.stop(timeout=5)
        self.process.start()


def process_group(process: Process) -> list[int]:
    """Every pid in the process's group (gunicorn and Celery children included)."""
    pgid, pids = process.popen.pid, []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return sorted(pids)


def pause(processes: list[Process]) -> None:
    for process in processes:
        os.killpg(process.popen.pid, signal.SIGSTOP)


def resume(processes: list[Process]) -> None:
    for process in processes:
        os.killpg(process.popen.pid, signal.SIGCONT)


def peak_rss(label: str, process: Process) -> list[dict]:
    """VmHWM (peak resident set) of each process in the group, in MiB."""
    rows = []
    for pid in process_group(process):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        hwm_kib = int(values.get("VmHWM", "0 kB").split()[0])
        role = "master" if pid == process.popen.pid else "child"
        rows.append(
            {
                "stack": label,
                "process": process.name,
                "pid": pid,
                "role": role,
                "threads": int(values.get("Threads", "0").strip() or 0),
                "peak_rss_mib": round(hwm_kib / 1024, 1),
                "cmd": cmdline[:80],
            }
        )
    return rows
