"""What a worker process holds once: the database and the clients (each with its connection pool)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TypeVar

import redis
import requests

from shared.crypto import TokenBox
from shared.db import Database
from shared.limiter.leases import Leases
from shared.metrics import outside_call_recorder
from shared.pipeline.runner import Runner
from shared.pipeline.step import OutsideClients
from shared.portal.access import BitrixAccess
from shared.yandex.accounts import YandexAccounts
from worker.celery_app import app

T = TypeVar("T")


def once(build: Callable[[], T]) -> Callable[[], T]:
    """Builds the value on first use; tasks on the threads pool may all ask at once for the first messages."""
    lock = threading.Lock()
    built: list[T] = []

    @wraps(build)
    def get() -> T:
        with lock:
            if not built:
                built.append(build())
        return built[0]

    return get


@once
def database() -> Database:
    return Database(app.settings.database_url)


@once
def bitrix_access() -> BitrixAccess:
    settings = app.settings
    http = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    locks = redis.Redis.from_url(settings.redis_url)
    http.hooks["response"].append(outside_call_recorder(locks, service_of(settings)))
    return BitrixAccess(settings, database(), TokenBox(settings.secret_key), locks, http)


def service_of(settings):
    """Which outside service a URL belongs to, for the call metrics."""
    prefixes = [
        (settings.telemost_api_url, "telemost"),
        (settings.yandex_oauth_url, "yandex-oauth"),
        (settings.yandex_login_url, "yandex-login"),
        (settings.bitrix24_oauth_url, "bitrix24-oauth"),
    ]
    prefixes += [
        (server, "bitrix24-oauth") for server in settings.bitrix24_oauth_servers
    ]  # the regional ones

    def name(url: str) -> str:
        return next((service for prefix, service in prefixes if url.startswith(prefix)), "bitrix24")

    return name


@once
def yandex_accounts() -> YandexAccounts:
    bitrix = bitrix_access()
    return YandexAccounts(app.settings, database(), bitrix.box, bitrix.locks, bitrix.http)


@once
def senders() -> Leases:
    """One Bitrix24 sender per portal and owner, renewed after each batch. A sender that died keeps others
    out this long at most (then the sweeper's resend brings its conferences back); one whose batch outlives
    it only shares less, as another sender starts beside it (the claims keep them apart)."""
    return Leases(bitrix_access().locks, "telemost:bitrix-sender:", 15)


@once
def runner() -> Runner:
    settings = app.settings
    bitrix = bitrix_access()
    clients = OutsideClients(
        telemost_for=yandex_accounts().telemost_for,
        bitrix_for=lambda conference: bitrix.client(conference.portal, conference.owner_id),
        notify_client_id=settings.bitrix24_client_id or "telemost-bitrix-app",
    )
    return Runner(database(), clients, timedelta(seconds=settings.stale_running_after_seconds))
