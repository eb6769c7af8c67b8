"""Logging for every process: one line per event, JSON in production, with the conference id (and, in
the worker, the Celery task id) on every line written while working on a conference."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

conference_id_var: ContextVar[int | None] = ContextVar("conference_id", default=None)
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [conference=%(conference_id)s task=%(task_id)s]: %(message)s"
)
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(conference_id)s %(task_id)s"


class ContextFilter(logging.Filter):
    """Adds conference_id (and task_id from `task_id()`, the worker's current Celery task) to each record."""

    def __init__(self, task_id: Callable[[], str | None] | None = None) -> None:
        super().__init__()
        self.task_id = task_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.conference_id = conference_id_var.get()
        record.task_id = self.task_id() if self.task_id else None
        return True


def configure_logging(level: str, json_lines: bool, task_id: Callable[[], str | None] | None = None) -> None:
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter(task_id))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)


@contextmanager
def about_conference(conference_id: int) -> Iterator[None]:
    """Every line logged inside names this conference."""
    token = conference_id_var.set(conference_id)
    try:
        yield
    finally:
        conference_id_var.reset(token)
