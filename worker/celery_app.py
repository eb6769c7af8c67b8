"""The Celery app of the worker and beat processes.

`celery -A worker.celery_app worker` / `beat`. Settings are checked at import: a bad one stops the
process with one line naming it.
"""
from __future__ import annotations

import logging
import sys

from celery import Celery

from shared.config import SettingsError, load_settings
from shared.jobs import KEEP_TOKENS_ALIVE_TASK, REMINDERS_TASK, RETENTION_TASK, SWEEP_TASK, celery_settings


def create_celery():
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"telemost-bitrix-app: {exc}")
    logging.basicConfig(level=settings.logging_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    celery = Celery("telemost_bitrix")
    celery.conf.update(celery_settings(settings))
    # Every periodic job, in one place. Each is safe to run twice at once (see shared/services/maintenance.py).
    celery.conf.beat_schedule = {
        "sweep": {"task": SWEEP_TASK, "schedule": settings.sweep_every_seconds},
        "send-reminders": {"task": REMINDERS_TASK, "schedule": 60.0},
        "retention": {"task": RETENTION_TASK, "schedule": 3600.0},
        "keep-tokens-alive": {"task": KEEP_TOKENS_ALIVE_TASK, "schedule": 6 * 3600.0},
    }
    celery.conf.imports = ("worker.tasks.conferences", "worker.tasks.maintenance")
    celery.settings = settings
    return celery


app = create_celery()
