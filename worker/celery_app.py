"""The Celery app of the worker and beat processes.

`celery -A worker.celery_app worker` / `beat`. Settings are checked at import: a bad one stops the
process with one line naming it.
"""

from __future__ import annotations

import sys

from celery import Celery, current_task, signals

from shared.config import SettingsError, load_settings
from shared.jobs import (
    KEEP_TOKENS_ALIVE_TASK,
    RECONCILE_CALENDAR_TASK,
    REMINDERS_TASK,
    RETENTION_TASK,
    SWEEP_TASK,
    celery_settings,
)
from shared.logs import configure_logging


def create_celery():
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"telemost-bitrix-app: {exc}")
    celery = Celery("telemost_bitrix")

    @signals.setup_logging.connect(weak=False)
    def _logging(**_):  # connected, it stops Celery from installing its own handlers
        configure_logging(
            settings.logging_level,
            settings.json_logs,
            task_id=lambda: getattr(current_task.request, "id", None) if current_task else None,
        )

    celery.conf.update(celery_settings(settings))
    # Every periodic job, in one place. Each is safe to run twice at once (see shared/housekeeping/retention.py).
    celery.conf.beat_schedule = {
        "sweep": {"task": SWEEP_TASK, "schedule": settings.sweep_every_seconds},
        "send-reminders": {"task": REMINDERS_TASK, "schedule": 60.0},
        "retention": {"task": RETENTION_TASK, "schedule": 3600.0},
        "keep-tokens-alive": {"task": KEEP_TOKENS_ALIVE_TASK, "schedule": 6 * 3600.0},
        "reconcile-calendar": {
            "task": RECONCILE_CALENDAR_TASK,
            "schedule": settings.calendar_reconcile_every_seconds,
        },
    }
    celery.conf.imports = ("worker.tasks.conferences", "worker.tasks.maintenance", "worker.tasks.portals")
    celery.settings = settings
    return celery


app = create_celery()
