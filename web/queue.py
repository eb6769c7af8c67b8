"""Sending work to the workers, always after the commit (DESIGN §4 rule 1).

If Redis is down the request still succeeds: the conference is saved and the sweeper sends it later.
"""
from __future__ import annotations

import logging

import redis
from celery import Celery

from shared.config import Settings
from shared.jobs import (CALENDAR_CHECK_FLAG, CHECK_CALENDAR_TASK, CONFIRM_UNINSTALL_TASK, HINT_DELAY_SECONDS,
                         HINT_FLAG_SECONDS, PROVISION_TASK, UNINSTALL_CHECK_FLAG, celery_settings)

log = logging.getLogger(__name__)


class Queue:
    def __init__(self, settings: Settings) -> None:
        self.celery = Celery("telemost_bitrix_web")
        self.celery.conf.update(celery_settings(settings))
        self.redis = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)

    def provision(self, conference_id: int) -> bool:
        return self._send(PROVISION_TASK, conference_id)

    def check_calendar_event(self, conference_id: int) -> bool:
        """The portal said the conference's event changed: the worker reads it (at most one read waits)."""
        return self._send_once(CALENDAR_CHECK_FLAG.format(conference_id), CHECK_CALENDAR_TASK, conference_id)

    def confirm_uninstall(self, member_id: str, ts: int) -> bool:
        return self._send_once(UNINSTALL_CHECK_FLAG.format(member_id), CONFIRM_UNINSTALL_TASK, member_id, ts)

    def _send_once(self, flag: str, task: str, *args) -> bool:
        """Sends the check unless one is waiting already: a flood of events costs one call to the portal."""
        try:
            if not self.redis.set(flag, 1, nx=True, ex=HINT_FLAG_SECONDS):
                return False
        except redis.RedisError as exc:
            log.warning("could not note %s (%s)", flag, exc)
            return False  # the broker is the same Redis: nothing could be sent either
        sent = self._send(task, *args, countdown=HINT_DELAY_SECONDS)
        if not sent:
            self.redis.delete(flag)  # Redis answered a moment ago; the next event may try again
        return sent

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
