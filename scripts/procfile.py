"""Prints the Procfile for `make run`: the app's processes, plus the emulators when SANDBOX is on."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.config import SettingsError, load_settings  # noqa: E402

import redis  # noqa: E402

GUNICORN_CONFIG = "web/gunicorn.conf.py"  # timeouts and request limits, shared with Dockerfile.web


def redis_line(url: str) -> list[str]:
    """A Redis in the foreground beside the app when none answers (ensure-redis.sh made sure it is local)."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return []
    except redis.RedisError:
        port = redis.connection.parse_url(url).get("port", 6379)
        return [f"redis: mkdir -p var/redis && exec redis-server --bind 127.0.0.1 --port {port} --dir var/redis "
                "--appendonly yes --save ''"]


def main() -> None:
    try:
        s = load_settings()
    except SettingsError as exc:
        sys.exit(f"telemost-bitrix-app: {exc}")
    lines = redis_line(s.redis_url) + [
        # This machine only unless WEB_HOST says otherwise: gunicorn does not face clients itself (README).
        f"web: .venv/bin/gunicorn --config {GUNICORN_CONFIG} --bind {s.web_bind} --worker-class gthread "
        "--workers 2 --threads 8 web.wsgi:app",
        "worker: .venv/bin/celery -A worker.celery_app worker --pool threads --concurrency 32 "
        "--queues conferences,maintenance --loglevel INFO --hostname rooms@%h",
        # Bitrix24 work on its own worker: the portal's rate limit may hold it back, never the rooms.
        "worker-bitrix: .venv/bin/celery -A worker.celery_app worker --pool threads --concurrency 8 "
        "--queues bitrix --loglevel INFO --hostname bitrix@%h",
        "beat: .venv/bin/celery -A worker.celery_app beat --schedule var/celerybeat-schedule --loglevel INFO",
        # Without a password Flower is reachable from this machine only. The password itself reaches
        # Flower through FLOWER_BASIC_AUTH in the environment (honcho exports .env), not the command line.
        f"flower: .venv/bin/celery -A worker.celery_app flower --port={s.flower_port} "
        f"--address={'0.0.0.0' if s.flower_basic_auth else '127.0.0.1'}",
    ]
    if s.sandbox:
        lines += [
            f"telemost: .venv/bin/gunicorn --bind 127.0.0.1:{s.sandbox_telemost_port} --worker-class gthread "
            "--workers 1 --threads 16 'sandbox.telemost.app:create_app()'",
            # The portal opens this app and sends it events, not whatever listens on port 5000. Given on the
            # line: honcho exports .env over the process environment, the line is what load_settings read.
            f"bitrix24: SANDBOX_APP_URL={shlex.quote(s.sandbox_app_url)} "
            f"SANDBOX_BITRIX24_PORT={s.sandbox_bitrix24_port} .venv/bin/gunicorn "
            f"--bind 127.0.0.1:{s.sandbox_bitrix24_port} --worker-class gthread "
            "--workers 1 --threads 16 'sandbox.bitrix24.app:create_app()'",
        ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
