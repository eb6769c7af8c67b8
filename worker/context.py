"""What a worker process holds once: the database and the clients (each with its connection pool)."""
from __future__ import annotations

import threading
from datetime import timedelta
from functools import wraps

import requests

from shared.clients.bitrix24 import Bitrix24Client
from shared.clients.telemost import TelemostClient
from shared.db import Database
from shared.services.provisioning import OutsideClients, Provisioner

from .celery_app import app


def once(build):
    """Builds the value on first use; tasks on the threads pool may all ask at once for the first messages."""
    lock = threading.Lock()
    built = []

    @wraps(build)
    def get():
        with lock:
            if not built:
                built.append(build())
        return built[0]
    return get


@once
def database() -> Database:
    return Database(app.settings.database_url)


@once
def provisioner() -> Provisioner:
    settings = app.settings
    http = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    telemost = TelemostClient(settings.telemost_api_url, settings.yandex_oauth_token, settings.http_timeout_seconds,
                              http) if settings.yandex_oauth_token else None
    bitrix = Bitrix24Client(settings.bitrix24_webhook_url, timeout=settings.http_timeout_seconds,
                            session=http) if settings.bitrix24_webhook_url else None
    clients = OutsideClients(telemost=telemost, bitrix=bitrix,
                             notify_client_id=settings.bitrix24_client_id or "telemost-bitrix-app")
    return Provisioner(database(), clients, timedelta(seconds=settings.stale_running_after_seconds))
