"""Create under an open loop: POST /api/conferences at a fixed arrival rate, stepped up, for the queued app
and the baseline.

Each request is sent at its scheduled time whether or not the earlier ones have answered, and its latency runs
from that scheduled time, so a server that stalls is charged for every request it kept waiting (a closed loop
such as wrk's sends less while the server is slow, and hides it: coordinated omission). The generator is an
asyncio loop in a process of its own (`python -m bench.openloop`), speaking HTTP/1.1 on kept-alive connections,
one more when every open one is busy; `--serve` runs a trivial server to measure the generator against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

RATES = (5, 10, 25, 50, 100, 150, 200, 300)
TARGET_P99_MS = 50
# A rate at which the server fell this far behind is its saturation: the higher rates are not sent to it.
SATURATED_P99_MS = 2000
SATURATED_SHARE = 0.8
TIMEOUT_SECONDS = 10


# --- the generator (in its own process) -----------------------------------------------------------------------
class Connections:
    """Kept-alive connections to one server: the most recently used first; a new one when none is idle."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def take(self) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], bool]:
        if self.idle:
            return self.idle.pop(), True
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port), False

    def give_back(self, connection) -> None:
        self.idle.append(connection)

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def exchange(connection, request: bytes) -> int:
    """Sends one request, reads its whole answer; answers the status (the connection stays usable)."""
    reader, writer = connection
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        (int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:")), 0
    )
    if length:
        await reader.readexactly(length)
    if any(line.lower().replace(" ", "") == "connection:close" for line in lines[1:]):
        raise ConnectionResetError("the server closed the connection")
    return status


async def generate(url: str, rate: float, seconds: float, body: bytes, token: str, expect: int) -> dict:
    parts = urlsplit(url)
    headers = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: keep-alive",
    ]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode() + body
    pool = Connections(parts.hostname, parts.port or 80)
    latencies: list[float] = []
    lags: list[float] = []
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    finished: list[float] = []

    async def one(scheduled: float) -> None:
        lags.append((time.perf_counter() - scheduled) * 1000)
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                while True:
                    connection, reused = await pool.take()
                    try:
                        status = await exchange(connection, request)
                    except (ConnectionError, asyncio.IncompleteReadError):
                        connection[1].close()
                        if reused:  # the server closed an idle connection: try again on a fresh one
                            continue
                        raise
                    pool.give_back(connection)
                    break
        except TimeoutError:
            errors["timeout"] = errors.get("timeout", 0) + 1
            return
        except OSError as error:
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            return
        now = time.perf_counter()
        finished.append(now)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status == expect:
            latencies.append((now - scheduled) * 1000)

    stopped = asyncio.Event()  # SIGTERM ends a background load early: the figures so far are still printed
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)
    tasks = []
    for i in range(total):
        if stopped.is_set():
            total, seconds = i, time.perf_counter() - start
            break
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(scheduled)))
    await asyncio.gather(*tasks)
    pool.close()
    ok = len(latencies)
    span = max(seconds, (max(finished) - start) if finished else seconds)
    return {
        "rate": rate,
        "seconds": seconds,
        "sent": total,
        "ok": ok,
        "statuses": statuses,
        "errors": errors,
        "bad": total - ok,
        "achieved_per_second": round(ok / span, 1),
        "connections": pool.opened,
        "ms": _figures(latencies),
        "send_lag_ms": _figures(lags),
    }


def _figures(values: list[float]) -> dict:
    from bench.common import percentile

    return {
        k: round(percentile(values, q), 1) if values else None
        for k, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
    }


async def serve(port: int) -> None:
    """A server that answers every request at once: what the generator alone costs."""
    answer = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?")
    parser.add_argument("--rate", type=float)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--expect", type=int, default=202)
    parser.add_argument("--serve", type=int, help="run the trivial server on this port instead")
    options = parser.parse_args()
    if options.serve:
        asyncio.run(serve(options.serve))
        return
    body = os.environ.get("BENCH_BODY", "{}").encode()
    figures = asyncio.run(
        generate(
            options.url,
            options.rate,
            options.seconds,
            body,
            os.environ.get("BENCH_TOKEN", ""),
            options.expect,
        )
    )
    print("BENCH_JSON " + json.dumps(figures), flush=True)


# --- the runner's side ----------------------------------------------------------------------------------------
def open_loop(url: str, rate: float, seconds: float, body: dict, token: str = "", expect: int = 202) -> dict:
    """One run of the generator in a process of its own; answers its figures."""
    args = [
        sys.executable,
        "-m",
        "bench.openloop",
        url,
        "--rate",
        str(rate),
        "--seconds",
        str(seconds),
        "--expect",
        str(expect),
    ]
    env = dict(os.environ, BENCH_BODY=json.dumps(body), BENCH_TOKEN=token, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + TIMEOUT_SECONDS + 60
    )
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"the open-loop generator gave no figures: {done.stdout}\n{done.stderr}")
    return json.loads(line.removeprefix("BENCH_JSON "))


class Background:
    """The generator run in the background (another user's steady stream of creates) until stopped."""

    def __init__(self, url: str, rate: float, body: dict, token: str, longest: float = 600) -> None:
        args = [sys.executable, "-m", "bench.openloop", url, "--rate", str(rate), "--seconds", str(longest)]
        env = dict(os.environ, BENCH_BODY=json.dumps(body), BENCH_TOKEN=token, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)

    def stop(self) -> dict:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=TIMEOUT_SECONDS + 30)
        line = next((l for l in out.splitlines() if l.startswith("BENCH_JSON ")), None)
        return json.loads(line.removeprefix("BENCH_JSON ")) if line else {"error": out[-2000:]}


def saturated(run: dict) -> bool:
    p99 = run["ms"]["p99"]
    return p99 is None or p99 > SATURATED_P99_MS or run["achieved_per_second"] < SATURATED_SHARE * run["rate"]


def step_up(
    url: str, rates, seconds: float, body: dict, token: str = "", expect: int = 202, between=None, log=print
) -> list[dict]:
    """Each rate in turn until one saturates the server; `between()` runs after each rate (a restart)."""
    runs = []
    for rate in rates:
        run = open_loop(url, rate, seconds, body, token, expect)
        runs.append(run)
        log(
            f"open loop {rate}/s: achieved {run['achieved_per_second']}/s, p50 {run['ms']['p50']} p99 "
            f"{run['ms']['p99']} ms, {run['bad']} bad, {run['connections']} connections"
        )
        if between is not None:
            between()
        if saturated(run):
            break
    return runs


def highest_within(runs: list[dict], p99_ms: float = TARGET_P99_MS) -> float | None:
    """The highest rate sent whose p99 is within the target with nothing refused (and every lower one too)."""
    best = None
    for run in sorted(runs, key=lambda r: r["rate"]):
        if run["bad"] or run["ms"]["p99"] is None or run["ms"]["p99"] > p99_ms:
            break
        best = run["rate"]
    return best


def generator_check(rate: float, seconds: float) -> dict:
    """The generator against the trivial server at the highest rate: its own share of every latency."""
    from tests.support.processes import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.openloop", "--serve", str(port)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket

                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        return open_loop(f"http://127.0.0.1:{port}/", rate, seconds, {"name": "x" * 200})
    finally:
        server.terminate()
        server.wait(5)


if __name__ == "__main__":
    _main()
