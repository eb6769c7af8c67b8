"""Names and settings of the background jobs, shared by the web (which sends) and the worker (which runs).

Plain data on purpose: shared/ does not import Celery (DESIGN §3).
"""

from __future__ import annotations

from shared.config import Settings

PROVISION_TASK = "conferences.provision"
SYNC_BITRIX_TASK = "conferences.sync_bitrix"
SWEEP_TASK = "maintenance.sweep"
KEEP_TOKENS_ALIVE_TASK = "maintenance.keep_tokens_alive"
RETENTION_TASK = "maintenance.retention"
REMINDERS_TASK = "maintenance.send_reminders"
# Bitrix24 events stored by the web (shared/conferences/portal_events.py), and the beat job that reads linked
# calendar events back in case one was lost (shared/conferences/calendar_sync.py reconcile).
PROCESS_EVENT_TASK = "portals.process_event"
LEGACY_CONFIRM_UNINSTALL_TASK = "portals.confirm_uninstall"  # queued by releases before stored events
RECONCILE_CALENDAR_TASK = "conferences.reconcile_calendar"
# Room work and Bitrix24 work wait in separate queues, served by separate workers: a portal's rate limit
# can hold Bitrix24 work back for minutes, and that must never delay anyone's room.
CONFERENCES_QUEUE = "conferences"
BITRIX_QUEUE = "bitrix"
MAINTENANCE_QUEUE = "maintenance"
QUEUES = (CONFERENCES_QUEUE, BITRIX_QUEUE, MAINTENANCE_QUEUE)

# Well above any task's run time plus its countdown (DESIGN §4 rule 5): a message unacknowledged this
# long is handed to another worker. Tasks take seconds and countdowns are capped below.
VISIBILITY_TIMEOUT_SECONDS = 3600
MAX_COUNTDOWN_SECONDS = 30  # longer waits are stored as next_attempt_at for the sweeper

# A stored Bitrix24 event is processed this long after it arrives: the events of one change come together,
# and those that arrive before a worker takes the row join it (inbound_events.py), so one read serves them.
HINT_DELAY_SECONDS = 2


def celery_settings(settings: Settings) -> dict:
    return {
        "broker_url": settings.redis_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
            "socket_connect_timeout": 2,
        },
        # Status lives in the database; results in Redis would only be one more thing to lose.
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_default_queue": CONFERENCES_QUEUE,
        "task_routes": {
            PROVISION_TASK: {"queue": CONFERENCES_QUEUE},
            SYNC_BITRIX_TASK: {"queue": BITRIX_QUEUE},
            PROCESS_EVENT_TASK: {"queue": BITRIX_QUEUE},
            LEGACY_CONFIRM_UNINSTALL_TASK: {"queue": BITRIX_QUEUE},
            RECONCILE_CALENDAR_TASK: {"queue": BITRIX_QUEUE},
            "maintenance.*": {"queue": MAINTENANCE_QUEUE},
        },
        # If Redis is down the web answers anyway (the sweeper sends later): fail fast, do not hang a request.
        "task_publish_retry_policy": {
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.2,
        },
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "worker_hijack_root_logger": False,
        # Events let Flower show every task by name as it runs. No "sent" events: each would be a second
        # message per create from the web, a third of its time under load (bench/), for one column in Flower.
        "worker_send_task_events": True,
        "task_send_sent_event": False,
    }
