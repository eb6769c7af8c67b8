"""The calendar events a portal sends after a REST write, the app's own writes included.

OnCalendarEntryAdd / Update / Delete fire when an event is changed "manually or via the method
calendar.event.add / update / delete" (b24restdocs api-reference/calendar/calendar-event/events/index.md),
and every event goes through the portal's queue server first, so it "may arrive with a slight delay"
(api-reference/events/index.md, "Features of Operation"). Here each write schedules its event, sent after
`delay_seconds` to the handlers bound at that moment, with the auth of the user who made the write (an
event's tokens are "tied to the user whose action triggered the event", ibid.). A reset cancels what waits.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from . import app_install

if TYPE_CHECKING:
    from .methods import Caller
    from .portal import Portal

DEFAULT_DELAY_SECONDS = 1.0
ADDED, UPDATED, DELETED = "ONCALENDARENTRYADD", "ONCALENDARENTRYUPDATE", "ONCALENDARENTRYDELETE"


class Echoes:
    """The echoes of one portal's life (until its next reset); callers of `schedule` may hold the portal lock."""

    def __init__(self, delay_seconds: float = DEFAULT_DELAY_SECONDS) -> None:
        self.delay_seconds = delay_seconds
        self._lock = threading.Lock()
        self._waiting: set[threading.Timer] = set()
        self._cancelled = False

    def schedule(self, portal: "Portal", caller: "Caller", event: str, entry_id: int) -> None:
        with self._lock:
            if self._cancelled:
                return
            timer = threading.Timer(self.delay_seconds, self._send, (portal, caller, event, entry_id))
            timer.daemon = True
            self._waiting.add(timer)
        timer.start()

    def _send(self, portal: "Portal", caller: "Caller", event: str, entry_id: int) -> None:
        with self._lock:
            self._waiting = {t for t in self._waiting if t is not threading.current_thread()}
            if self._cancelled:
                return
        if portal.installed:  # "Events will not be sent to the application until the installation is complete"
            app_install.send_event(portal, event, {"id": str(entry_id)}, caller.user)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            waiting, self._waiting = self._waiting, set()
        for timer in waiting:
            timer.cancel()


def echo(portal: "Portal", caller: "Caller", event: str, entry_id: int) -> None:
    """The one-line hook of calendar_methods: `event` for `entry_id`, written by `caller`."""
    portal.echoes.schedule(portal, caller, event, entry_id)
