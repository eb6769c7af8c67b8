"""The drain: 1,000 conferences for one portal against its real 2/s, burst 50 bucket, on a stack of its own
in the background (bound by the bucket, not the CPU)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import func, select

from bench.common import body, count, http_requests, log, set_latency, wait_until
from bench.stacks import Settings, peak_rss, start_app_stack, worker_names
from shared.db import Database
from shared.models import Conference
from tests.integration.stack import FINAL_STATUSES

REAL_LIMITER = {"BITRIX24_RATE_PER_SECOND": "2", "BITRIX24_BURST": "50"}


class Drain(threading.Thread):
    """1,000 conferences for one portal, each a calendar event and three invitees, at 2/s burst 50."""

    def __init__(
        self,
        tmp: Path,
        settings: Settings,
        conferences: int,
        latency_ms: int,
        timeout: float,
        first: int = 0,
    ) -> None:
        """first: a smaller round before the big one (issue 18: 200 at once in 30 s), on the same stack once
        the portal's bucket has drained again, so that the big round starts as from nothing."""
        super().__init__(daemon=True)
        self.tmp, self.settings, self.n, self.latency_ms, self.timeout = (
            tmp,
            settings,
            conferences,
            latency_ms,
            timeout,
        )
        self.first = first
        self.rooms_done = threading.Event()
        self.result: dict = {}
        self.memory: list[dict] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        stack = None
        try:
            stack = start_app_stack(self.tmp, self.settings, REAL_LIMITER)
            stack.install()
            client = stack.login(2)
            set_latency(stack, self.latency_ms)
            first = self._drain(stack, client, self.first, last=False) if self.first else None
            self.result = self._drain(stack, client, self.n, last=True)
            if first is not None:
                self.result["first_round"] = {k: v for k, v in first.items() if k != "series"}
        except BaseException as exc:  # reported, not raised: the other figures still count
            self.error = exc
            self.rooms_done.set()
        finally:
            if stack is not None:
                for name in ("web", *worker_names()):
                    self.memory += peak_rss("drain", stack.process(name))
                stack.stop_all()

    def _drain(self, stack, client, n: int, last: bool) -> dict:
        # The bucket as from nothing: a round before this one leaves it partly full (it drains at 2/s).
        wait_until(lambda: stack.bitrix_state()["bucket"]["level"] < 1, 60, 0.5)
        config = requests.get(f"{stack.bitrix_url}/_sandbox/config", timeout=5).json()
        before = stack.bitrix_state()
        database = Database(stack.env["DATABASE_URL"])
        final_before = count(database, FINAL_STATUSES)  # the round before this one: all final
        with database.read() as session:
            last_id = session.scalar(select(func.max(Conference.id))) or 0
        started = time.time()
        series: list[dict] = []

        def submit(_):
            return client.request("POST", "/api/conferences", json=body()).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(submit, range(n)))
        submitted = time.time() - started
        log(f"drain: {n} conferences submitted in {submitted:.1f} s")
        wait_until(lambda: count(database, ["pending"]) == 0, 120, 1)
        if last:
            self.rooms_done.set()
        sampled = 0.0
        while time.time() - started < self.timeout:
            ready = count(database, FINAL_STATUSES) - final_before
            now = time.time() - started
            if now - sampled >= 5 or ready == n:
                state = stack.bitrix_state()
                series.append(
                    {
                        "t": round(now, 1),
                        "final": ready,
                        "requests": http_requests(state) - http_requests(before),
                        "rejected": state["rejected"].get("QUERY_LIMIT_EXCEEDED", 0),
                    }
                )
                sampled = now
            if ready == n:
                break
            time.sleep(1)
        elapsed = time.time() - started
        after = stack.bitrix_state()
        with database.read() as session:
            by_status = dict(
                session.execute(
                    select(Conference.status, func.count())
                    .where(Conference.id > last_id)
                    .group_by(Conference.status)
                ).all()
            )
        database.dispose()
        methods = {
            k: v - before["requests"].get(k, 0)
            for k, v in after["requests"].items()
            if k != "total" and v - before["requests"].get(k, 0)
        }
        requests_sent = http_requests(after) - http_requests(before)
        bucket_allows = config["bucket_size"] + config["drain_per_second"] * elapsed
        # Steady state: the rate between the end of the burst and the end, from the samples.
        steady = [s for s in series if s["requests"] > config["bucket_size"]]
        steady_rate = (
            (steady[-1]["requests"] - steady[0]["requests"]) / (steady[-1]["t"] - steady[0]["t"])
            if len(steady) >= 2 and steady[-1]["t"] > steady[0]["t"]
            else None
        )
        return {
            "conferences": n,
            "accepted": statuses.count(202),
            "latency_ms": self.latency_ms,
            "portal_bucket": config,
            "limiter": REAL_LIMITER,
            "submit_seconds": round(submitted, 1),
            "all_final": by_status.get("ready", 0)
            + by_status.get("partially_failed", 0)
            + by_status.get("failed", 0)
            == n,
            "seconds_to_all_final": round(elapsed, 1),
            "by_status": by_status,
            "bitrix_requests": requests_sent,
            "requests_by_method": methods,
            "requests_per_conference": round(requests_sent / n, 3),
            "rate_per_second": round(requests_sent / elapsed, 3),
            "steady_rate_per_second": round(steady_rate, 3) if steady_rate else None,
            "bucket_used_share": round(requests_sent / bucket_allows, 3),
            "steady_rate_share": round(steady_rate / config["drain_per_second"], 3) if steady_rate else None,
            "query_limit_exceeded": after["rejected"].get("QUERY_LIMIT_EXCEEDED", 0)
            - before["rejected"].get("QUERY_LIMIT_EXCEEDED", 0),
            "series": series,
        }
