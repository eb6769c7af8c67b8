"""Health (real database and Redis checks) and Prometheus metrics."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text

from shared.models import Conference, Step
from shared.schemas import HealthOut

from .openapi import documented

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
SERVICE_NAME = "telemost-bitrix-app"


def _check(name: str, probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # a health check reports every kind of failure, it does not raise
        log.warning("health check %s failed: %s", name, exc)
        return f"failed: {type(exc).__name__}"


@bp.get("/health")
@documented("Liveness and readiness, with the database and Redis checked", responses={200: HealthOut, 503: HealthOut})
def health():
    db = current_app.extensions["db"]

    def database():
        with db.read() as session:
            session.execute(text("SELECT 1"))

    checks = {"database": _check("database", database),
              "redis": _check("redis", current_app.extensions["queue"].ping)}
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "healthy" if healthy else "unhealthy", "service": SERVICE_NAME,
            "base_path": current_app.config["BASE_PATH"], "checks": checks}
    return jsonify(body), 200 if healthy else 503


@bp.get("/metrics")
def metrics():
    """Conferences by status and steps by state, read from the database (the source of truth)."""
    registry = CollectorRegistry()
    conferences = Gauge("telemost_conferences", "Conferences by status", ["status"], registry=registry)
    steps = Gauge("telemost_steps", "Pipeline steps by name and state", ["name", "state"], registry=registry)
    with current_app.extensions["db"].read() as session:
        for status, count in session.execute(select(Conference.status, func.count()).group_by(Conference.status)):
            conferences.labels(status).set(count)
        for name, state, count in session.execute(select(Step.name, Step.state, func.count())
                                                  .group_by(Step.name, Step.state)):
            steps.labels(name, state).set(count)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
