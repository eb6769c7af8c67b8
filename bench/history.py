"""The history list: 100,000 conferences bulk-inserted, then GET /api/conferences variants under wrk."""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import func, insert, select

from bench.common import log, wrk
from shared.db import Database
from shared.models import Conference, Step
from shared.pipeline import registry
from shared.pipeline.steps import cohosts

NAMES = [
    "Weekly sync",
    "Sales review",
    "Retro",
    "Planning",
    "Demo day",
    "Board meeting",
    "Интервью",
    "Standup",
    "Design review",
    "Onboarding",
    "Quarterly results",
    "Support rotation",
    "Hiring panel",
    "Product webinar",
    "All hands",
    "Customer call",
    "Budget",
    "Roadmap",
    "Security briefing",
    "Offsite",
]


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
            conferences.append(
                {
                    "id": cid,
                    "public_id": uuid.uuid4().hex,
                    "portal": portal,
                    "owner_id": owner,
                    "owner_name": "Bench user",
                    "type": kind,
                    "name": name,
                    "description": None,
                    "start_at": created + timedelta(days=1),
                    "duration_minutes": 60,
                    "timezone": "Europe/Moscow",
                    "waiting_room_level": "ORGANIZATION",
                    "live_stream": {"title": name, "description": None, "access_level": "PUBLIC"}
                    if kind == "broadcast"
                    else None,
                    "cohosts": [],
                    "invitees": [3, 4, 5],
                    "create_calendar_event": True,
                    "invite_users": True,
                    "status": status,
                    "join_url": f"https://telemost.yandex.ru/j/{cid:014d}",
                    "watch_url": None,
                    "telemost_id": f"{cid:014d}",
                    "calendar_event_id": cid,
                    "idempotency_key": None,
                    "version": 1,
                    "cancel_requested": status == "cancelled",
                    "applied": {},
                    "reminded_at": None,
                    "enqueued_at": created,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            for step in registry.steps():
                state = (
                    "skipped" if step.name == cohosts.NAME else ("failed" if status == "failed" else "done")
                )
                steps.append(
                    {
                        "conference_id": cid,
                        "name": step.name,
                        "state": state,
                        "attempts": 1,
                        "attempts_at_retry": 0,
                        "error": None,
                        "next_attempt_at": None,
                        "started_at": created,
                        "updated_at": created,
                    }
                )
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
        figures = wrk(
            "list.lua", stack.web_url, 1, seconds, {"BENCH_PATH": path, "BENCH_TOKEN": token}, threads=1
        )
        rows.append(
            {
                "variant": label,
                "path": path,
                "status": check.status_code,
                "total": check.json().get("total"),
                "requests": figures["requests"],
                **figures["ms"],
            }
        )
        log(f"list {label}: p50 {figures['ms']['p50']} ms, p95 {figures['ms']['p95']} ms")
    return rows
