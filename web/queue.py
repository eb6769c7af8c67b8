"""Sending work to the workers, always after the commit (DESIGN §4 rule 1).

If Redis is down the request still succeeds: the conference is saved and the sweeper sends it later.
"""

from __future__ import annotations

import logging

import redis
from celery import Celery

from shared.config import Settings
from shared.jobs import HINT_DELAY_SECONDS, PROCESS_EVENT_TASK, PROVISION_TASK, celery_settings

log = logging.getLogger(__name__)


class Queue:
    def __init__(self, settings: Settings) -> None:
        self.celery = Celery("telemost_bitrix_web")
        self.celery.conf.update(celery_settings(settings))
        self.redis = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)

    def provision(self, conference_id: int) -> bool:
        return self._send(PROVISION_TASK, conference_id)

    def process_event(self, row_id: int) -> bool:
        """A stored Bitrix24 event, processed a moment later: the events of one change come together."""
        return self._send(PROCESS_EVENT_TASK, row_id, countdown=HINT_DELAY_SECONDS)

    def _send(self, task: str, *args, countdown: float | None = None) -> bool:
        try:
            self.celery.send_task(task, args=list(args), countdown=countdown)
            return True
        except Exception as exc:  # any broker failure: kombu raises several kinds
            log.warning("could not send %s for %s (%s)", task, args, exc)
            return False

    def ping(self) -> None:
        """Raises when Redis does not answer within a second (for /health)."""
        self.redis.ping()
