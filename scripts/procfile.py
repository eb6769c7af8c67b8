"""The processes of `make run`.

`procfile.py` prints the Procfile: the app's processes, plus the emulators when SANDBOX is on.
`procfile.py start PROCFILE` runs it with honcho, every process in the environment `make migrate` saw.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Mapping

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.config import PROJECT_ROOT, SettingsError, load_settings  # noqa: E402

import redis  # noqa: E402
from dotenv import dotenv_values  # noqa: E402

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


def process_environment(environ: Mapping[str, str], env_file: Path) -> dict[str, str]:
    """What every process of `make run` gets: an exported setting wins and .env fills the gaps, as
    load_settings reads them (so also for `make migrate`). honcho's own way is the reverse: it puts
    .env over the environment, and an exported DATABASE_PATH would then migrate one database while the
    app opened another. An exported empty value stays: it means "not set" here as in load_settings."""
    from_file = dotenv_values(env_file) if env_file.is_file() else {}
    return {**{k: v for k, v in from_file.items() if v is not None}, **environ}


def start(procfile: Path, env_file: Path) -> None:
    """honcho with no env file of its own (os.devnull), in the merged environment; it becomes this process."""
    honcho = Path(sys.executable).parent / "honcho"
    os.execve(honcho, [str(honcho), "start", "-f", str(procfile), "-d", str(PROJECT_ROOT), "--env", os.devnull],
              process_environment(os.environ, env_file))


def print_procfile() -> None:
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
        "worker-bitrix: .venv/bin/celery -A worker.celery_app worker --pool threads --concurrency 16 "
        "--queues bitrix --loglevel INFO --hostname bitrix@%h",
        "beat: .venv/bin/celery -A worker.celery_app beat --schedule var/celerybeat-schedule --loglevel INFO",
        # Without a password Flower is reachable from this machine only. The password itself reaches
        # Flower through FLOWER_BASIC_AUTH in the environment (process_environment), not the command line.
        f"flower: .venv/bin/celery -A worker.celery_app flower --port={s.flower_port} "
        f"--address={'0.0.0.0' if s.flower_basic_auth else '127.0.0.1'}",
    ]
    if s.sandbox:
        lines += [
            f"telemost: .venv/bin/gunicorn --bind 127.0.0.1:{s.sandbox_telemost_port} --worker-class gthread "
            "--workers 1 --threads 16 'sandbox.telemost.app:create_app()'",
            # The portal opens this app and sends it events, not whatever listens on port 5000: the URL
            # load_settings works out from WEB_PORT and BASE_PATH when SANDBOX_APP_URL is empty.
            f"bitrix24: SANDBOX_APP_URL={shlex.quote(s.sandbox_app_url)} "
            f"SANDBOX_BITRIX24_PORT={s.sandbox_bitrix24_port} .venv/bin/gunicorn "
            f"--bind 127.0.0.1:{s.sandbox_bitrix24_port} --worker-class gthread "
            "--workers 1 --threads 16 'sandbox.bitrix24.app:create_app()'",
        ]
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("start", help="run PROCFILE with honcho, exported settings over .env")
    run.add_argument("procfile", type=Path)
    run.add_argument("--env-file", type=Path, default=PROJECT_ROOT / ".env", help="default: the project's .env")
    args = parser.parse_args()
    if args.command == "start":
        start(args.procfile, args.env_file)
    else:
        print_procfile()


if __name__ == "__main__":
    main()
