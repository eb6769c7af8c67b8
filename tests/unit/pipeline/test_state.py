from datetime import timedelta
from types import SimpleNamespace

import pytest

from shared.pipeline.state import BACKOFF_CAP_SECONDS, backoff_seconds, derive_status


def conference(version=1, cancel_requested=False, **states):
    names = ["create_room", "sync_cohosts", "calendar_event", "notify_invitees"]
    steps = [SimpleNamespace(name=n, state=states.get(n, "skipped"), attempts=1 if states.get(n) not in (None, "pending") else 0)
             for n in names]
    room_made = states.get("create_room") == "done" or version > 1
    return SimpleNamespace(steps=steps, version=version, cancel_requested=cancel_requested,
                           telemost_id="1" if room_made else None)


@pytest.mark.parametrize("states, status", [
    ({"create_room": "pending", "calendar_event": "pending"}, "pending"),
    ({"create_room": "running", "calendar_event": "pending"}, "provisioning"),
    ({"create_room": "done", "calendar_event": "pending"}, "provisioning"),
    ({"create_room": "done", "calendar_event": "done", "notify_invitees": "done"}, "ready"),
    ({"create_room": "done"}, "ready"),
    ({"create_room": "done", "calendar_event": "failed", "notify_invitees": "done"}, "partially_failed"),
    ({"create_room": "done", "calendar_event": "failed", "notify_invitees": "running"}, "provisioning"),
    ({"create_room": "failed", "calendar_event": "pending"}, "failed"),
    ({"version": 2, "create_room": "done", "calendar_event": "pending"}, "syncing"),
    ({"version": 2, "create_room": "done", "calendar_event": "done"}, "ready"),
    ({"cancel_requested": True, "version": 2, "create_room": "done", "calendar_event": "running"}, "cancelling"),
    ({"cancel_requested": True, "version": 2, "create_room": "done", "calendar_event": "done"}, "cancelled"),
    ({"cancel_requested": True, "version": 2, "create_room": "done", "calendar_event": "failed"}, "cancelled"),
])
def test_status_is_derived_from_the_steps(states, status):
    assert derive_status(conference(**states)) == status


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    for attempt in range(1, 12):
        ceiling = min(BACKOFF_CAP_SECONDS, 2 ** (attempt - 1))
        assert ceiling / 2 <= backoff_seconds(attempt, None) <= ceiling


def test_backoff_never_comes_before_retry_after():
    assert backoff_seconds(1, 42) == 42
