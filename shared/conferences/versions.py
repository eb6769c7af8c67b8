"""One place for a new version of a conference's desired state: an edit, a cancel, or a change that flowed
back from the portal's calendar. The steps reopen for it and the conference goes back to the queue."""

from __future__ import annotations

from shared.models import Conference, utcnow
from shared.pipeline import registry
from shared.pipeline.state import refresh_status


def new_version(conference: Conference) -> None:
    """Called with the conference locked in a write transaction, after its fields took the new wishes."""
    conference.version += 1
    conference.enqueued_at = utcnow()  # the caller sends it to the queue right after the commit
    registry.reopen(conference)
    refresh_status(conference)
