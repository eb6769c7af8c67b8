"""Health (database, its schema, Redis, the newest worker heartbeat) and Prometheus metrics."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, inspect, select, text

from shared import metrics as shared_metrics
from shared.jobs import QUEUES
from shared.models import Conference, Step
from shared.schemas import HealthOut
from web.openapi import documented

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
SERVICE_NAME = "telemost-bitrix-app"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"  # alembic.ini's script_location
# Loading the migrations imports alembic, which logs each of its autogenerate plugins at INFO in every web.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
# Per web process: each gunicorn worker counts its own requests (a scrape sees the one that answers).
REQUEST_SECONDS = Histogram(
    "telemost_http_request_seconds", "Web requests by route and status", ["method", "route", "status"]
)


def _check(name: str, probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # a health check reports every kind of failure, it does not raise
        log.warning("health check %s failed: %s", name, exc)
        return f"failed: {type(exc).__name__}"


def _heartbeat_age() -> float | None:
    try:
        age = shared_metrics.heartbeat_age(current_app.extensions["queue"].redis)
    except Exception:  # Redis down is reported by its own check
        return None
    return None if age is None else round(age, 1)


def migration_heads(migrations: Path = MIGRATIONS) -> frozenset[str]:
    """The revisions the code expects the database at: the heads of the migrations folder."""
    return frozenset(ScriptDirectory(str(migrations)).get_heads())


@bp.record_once
def _read_migration_heads(state) -> None:
    # Once at start-up: /health stays one small query, however many migrations there are.
    state.app.extensions["migration_heads"] = migration_heads()


def _schema(db, expected: frozenset[str]) -> str:
    """ "ok" when the database is at the newest migration; else where it is, for the operator to act on."""
    try:
        with db.read() as session:
            current = frozenset(session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception as exc:  # no table: never migrated; any other failure is the database check's too
        try:
            missing = not inspect(db.engine).has_table("alembic_version")
        except Exception:
            missing = False
        if not missing:
            log.warning("health check schema failed: %s", exc)
            return f"failed: {type(exc).__name__}"
        current = frozenset()
    if current == expected:
        return "ok"
    at = f"at {', '.join(sorted(current))}" if current else "not migrated"
    message = f"{at}, code expects {', '.join(sorted(expected))}: run `alembic upgrade head` (make migrate)"
    log.warning("health check schema: %s", message)
    return message


@bp.get("/health")
@documented(
    "Liveness and readiness: the database, its schema (at the newest migration) and Redis checked",
    responses={200: HealthOut, 503: HealthOut},
)
def health():
    db = current_app.extensions["db"]

    def database():
        with db.read() as session:
            session.execute(text("SELECT 1"))

    checks = {
        "database": _check("database", database),
        "schema": _schema(db, current_app.extensions["migration_heads"]),
        "redis": _check("redis", current_app.extensions["queue"].ping),
    }
    healthy = all(v == "ok" for v in checks.values())
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "service": SERVICE_NAME,
        "base_path": current_app.config["BASE_PATH"],
        "checks": checks,
        # Informative: a web without workers still answers, but nothing gets provisioned.
        "worker_heartbeat_age_seconds": _heartbeat_age(),
    }
    return jsonify(body), 200 if healthy else 503


@bp.get("/metrics")
def metrics():
    """Conferences, steps, retries (from the database), queue depth (Redis), outside calls (Redis)."""
    registry = CollectorRegistry()
    conferences = Gauge("telemost_conferences", "Conferences by status", ["status"], registry=registry)
    steps = Gauge("telemost_steps", "Pipeline steps by name and state", ["name", "state"], registry=registry)
    retries = Gauge(
        "telemost_step_retries", "Attempts beyond the first, by step", ["name"], registry=registry
    )
    with current_app.extensions["db"].read() as session:
        for status, count in session.execute(
            select(Conference.status, func.count()).group_by(Conference.status)
        ):
            conferences.labels(status).set(count)
        for name, state, count in session.execute(
            select(Step.name, Step.state, func.count()).group_by(Step.name, Step.state)
        ):
            steps.labels(name, state).set(count)
        for name, extra in session.execute(
            select(Step.name, func.sum(Step.attempts - 1)).where(Step.attempts > 1).group_by(Step.name)
        ):
            retries.labels(name).set(extra or 0)
    _redis_metrics(registry)
    return Response(generate_latest(registry) + generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def _redis_metrics(registry: CollectorRegistry) -> None:
    queue = Gauge("telemost_queue_depth", "Messages waiting in each queue", ["queue"], registry=registry)
    calls = Gauge(
        "telemost_outside_calls", "Calls to the outside services", ["service", "status"], registry=registry
    )
    seconds = Gauge(
        "telemost_outside_call_seconds", "Total time of those calls", ["service", "status"], registry=registry
    )
    client = current_app.extensions["queue"].redis
    try:
        for name in QUEUES:
            queue.labels(name).set(client.llen(name))
        for service, status, count, total in shared_metrics.outside_calls(client):
            calls.labels(service, status).set(count)
            seconds.labels(service, status).set(round(total, 3))
    except Exception as exc:  # metrics without Redis still show the database figures
        log.warning("metrics from Redis unavailable: %s", exc)


def time_requests(app: Flask) -> None:
    """Every label from a fixed set: the methods and route rules the app has, the registered statuses
    (shared.metrics.status_label). A made-up method or path is "other" or "unmatched", never a new series."""
    methods: set[str] = set()
    for rule in app.url_map.iter_rules():
        assert rule.methods is not None  # Flask gives every rule its methods
        methods.update(rule.methods)
    served = frozenset(methods)

    @app.before_request
    def _start():
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response):
        if "started" in g:
            method = request.method if request.method in served else "other"
            route = request.url_rule.rule if request.url_rule else "unmatched"
            REQUEST_SECONDS.labels(method, route, shared_metrics.status_label(response.status_code)).observe(
                time.perf_counter() - g.started
            )
        return response
