"""Settings from the environment (and .env), checked once at start.

A missing or malformed required setting stops the process with one line naming it (CONTRACT §2):
`load_settings()` raises SettingsError and the entry points print its message and exit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload
from urllib.parse import urlsplit

from dotenv import dotenv_values

from shared.limiter.allowances import DEFAULT_SETTINGS as DEFAULT_LIMITS

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# What the sandbox emulators answer to; kept in one place so `make run` and the tests agree.
SANDBOX_TELEMOST_TOKEN = "sandbox-org-token"
SANDBOX_BITRIX24_CLIENT_ID = "local.sandbox.telemost"
SANDBOX_BITRIX24_CLIENT_SECRET = "sandbox-secret"
SANDBOX_YANDEX_CLIENT_ID = "sandbox-yandex-client"
SANDBOX_YANDEX_CLIENT_SECRET = "sandbox-yandex-secret"

# The regional Bitrix24 OAuth servers (b24phpsdk src/Core/Credentials/DefaultOAuthServerUrl.php; b24pysdk
# api/requesters/bitrix_oauth_requester.py): oauth.bitrix24.tech for portals in Russia, oauth.bitrix.info
# elsewhere. The sandbox serves a stand-in of each (sandbox/bitrix24/settings.py OAUTH_SERVERS).
BITRIX24_REGIONAL_OAUTH = ("https://oauth.bitrix24.tech", "https://oauth.bitrix.info")
REAL_CREDENTIALS = ("BITRIX24_WEBHOOK_URL", "BITRIX24_CLIENT_ID", "YANDEX_OAUTH_TOKEN", "YANDEX_CLIENT_ID")


class SettingsError(Exception):
    """One clear line naming the setting that is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    flask_env: str
    secret_key: str
    database_url: str
    redis_url: str
    base_path: str
    logging_level: str
    sandbox: bool
    web_port: int
    flower_port: int
    sandbox_telemost_port: int
    sandbox_bitrix24_port: int
    telemost_api_url: str
    yandex_oauth_url: str
    yandex_login_url: str
    yandex_oauth_token: str | None
    yandex_client_id: str | None
    yandex_client_secret: str | None
    yandex_redirect_uri: str | None
    bitrix24_webhook_url: str | None
    bitrix24_client_id: str | None
    bitrix24_client_secret: str | None
    bitrix24_oauth_url: str
    flower_basic_auth: str | None
    # Webhook mode: the code of the portal's local application that opens this app; a launch whose token
    # belongs to another application is refused (app.info's CODE). Unset: not checked (README).
    bitrix24_app_code: str | None = None
    http_timeout_seconds: float = 10.0
    sweep_every_seconds: float = 10.0
    resend_after_seconds: float = 30.0
    # How often beat reads linked calendar events back, in case the portal's event of a change was lost.
    calendar_reconcile_every_seconds: float = 300.0
    json_logs: bool = True
    bitrix24_rate_per_second: float = 2.0
    bitrix24_burst: int = 50
    retention_days: int = 365
    # Requests a minute and a day per user and per portal, by LIMIT_* setting name (shared/limiter/allowances.py).
    limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS), hash=False)
    # Where `make run` binds gunicorn: this machine only unless told otherwise (nginx goes in front).
    web_host: str = "127.0.0.1"
    # The app's URL as the sandbox portal opens it and sends it events (scripts/procfile.py passes it on).
    sandbox_app_url: str = "http://127.0.0.1:5000/"
    # The OAuth servers a portal's server_endpoint may name, besides bitrix24_oauth_url (shared/clients/bitrix24.py).
    bitrix24_oauth_servers: tuple[str, ...] = BITRIX24_REGIONAL_OAUTH

    @property
    def web_bind(self) -> str:
        """gunicorn's --bind for WEB_HOST and WEB_PORT (an IPv6 address in brackets)."""
        host = f"[{self.web_host}]" if ":" in self.web_host else self.web_host
        return f"{host}:{self.web_port}"

    @property
    def portal_base_url(self) -> str | None:
        """scheme://host[:port] of the one configured portal (webhook mode)."""
        if not self.bitrix24_webhook_url:
            return None
        parts = urlsplit(self.bitrix24_webhook_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def portal_domain(self) -> str | None:
        """The DOMAIN Bitrix24 sends for the configured portal: its host (and port, if any)."""
        return urlsplit(self.bitrix24_webhook_url).netloc.lower() if self.bitrix24_webhook_url else None

    @property
    def stale_running_after_seconds(self) -> float:
        """When a step still "running" must belong to a dead worker.

        A step makes a few outside calls in a row (a look-up, then batches of 50), each bounded by the
        timeout; this is well past that, and small enough that the sweeper still finishes the
        conference within the 2 minutes of CONTRACT §6: at most 70 s with HTTP_TIMEOUT_SECONDS at its
        maximum of 10, plus at most 30 s until the next sweep.
        """
        return 6 * self.http_timeout_seconds + 10

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def read_environment(environ: Mapping[str, str] | None, env_file: Path | None) -> dict[str, str]:
    """The process environment wins over .env, as with docker compose and most twelve-factor tools."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return {k: v.strip() for k, v in values.items() if v is not None and v.strip() != ""}


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name} must be a port number from 1 to 65535, got {raw!r}")
    return int(raw)


@overload
def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...] = ...) -> str: ...
@overload
def _url(
    env: Mapping[str, str], name: str, default: None = None, schemes: tuple[str, ...] = ...
) -> str | None: ...
def _url(
    env: Mapping[str, str],
    name: str,
    default: str | None = None,
    schemes: tuple[str, ...] = ("http", "https"),
) -> str | None:
    raw = env.get(name, default)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.netloc:
        raise SettingsError(
            f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, got {raw!r}"
        )
    return raw


def _number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, unit: str = "seconds"
) -> float:
    # Bounded: the timing ones so that the 2-minute guarantee of CONTRACT §6 cannot be configured away.
    raw = env.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SettingsError(f"{name} must be a number of {unit} from {low:g} to {high:g}, got {raw!r}")
    return value


def _host(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, default)
    if not re.fullmatch(r"[A-Za-z0-9.:-]+", raw):
        raise SettingsError(
            f"{name} must be an address or host name such as 127.0.0.1 or 0.0.0.0, got {raw!r}"
        )
    return raw


def _log_format(env: Mapping[str, str], flask_env: str) -> str:
    value = env.get("LOG_FORMAT", "json" if flask_env == "production" else "text").lower()
    if value not in ("json", "text"):
        raise SettingsError(f"LOG_FORMAT must be json or text, got {value!r}")
    return value


def _sandbox_mode(env: Mapping[str, str]) -> bool:
    mode = env.get("SANDBOX", "auto").lower()
    if mode not in ("auto", "on", "off"):
        raise SettingsError(f"SANDBOX must be auto, on or off, got {mode!r}")
    if mode == "auto":
        return not any(env.get(name) for name in REAL_CREDENTIALS)
    return mode == "on"


def _database_url(env: Mapping[str, str]) -> str:
    if "DATABASE_URL" in env:
        url = env["DATABASE_URL"]
        if not url.startswith(("sqlite", "postgresql")):
            raise SettingsError(
                f"DATABASE_URL must be a sqlite:/// or postgresql:// URL, got {url.split(':')[0]!r}"
            )
        if url.startswith("postgresql://"):  # SQLAlchemy's default driver for that scheme is psycopg2
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    path = Path(env.get("DATABASE_PATH", "var/telemost.db"))
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return f"sqlite:///{path}"


def _base_path(env: Mapping[str, str]) -> str:
    # SCRIPT_NAME is the original README's name for the same prefix; BASE_PATH wins when both are set.
    raw = env.get("BASE_PATH", env.get("SCRIPT_NAME", ""))
    path = "/" + raw.strip("/") if raw.strip("/") else ""
    if any(c in path for c in " ?#"):
        raise SettingsError(f"BASE_PATH must be a URL path such as /telemost, got {raw!r}")
    return path


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = PROJECT_ROOT / ".env"
) -> Settings:
    env = read_environment(environ, env_file)
    sandbox = _sandbox_mode(env)
    flask_env = env.get("FLASK_ENV", "production")
    if flask_env not in ("production", "development", "testing"):
        raise SettingsError(f"FLASK_ENV must be production, development or testing, got {flask_env!r}")
    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        raise SettingsError(
            "SECRET_KEY is required: set it in .env to a long random string (make creates one)"
        )
    if len(secret_key) < 16:
        raise SettingsError("SECRET_KEY must be at least 16 characters long")
    level = env.get("LOGGING_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"LOGGING_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level!r}")
    telemost_port = _port(env, "SANDBOX_TELEMOST_PORT", 8081)
    bitrix_port = _port(env, "SANDBOX_BITRIX24_PORT", 8082)
    redis_url = _url(env, "REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss"))

    if sandbox:
        telemost_default = f"http://127.0.0.1:{telemost_port}/v1/telemost-api"
        bitrix_root = f"http://127.0.0.1:{bitrix_port}"
        # Sandbox means both services are the local emulators, whatever URLs .env names for the real ones.
        # The app runs there as an installed Bitrix24 application (install, then OAuth tokens), the way
        # most portals use it; webhook mode is the same code with BITRIX24_WEBHOOK_URL set and SANDBOX off.
        env = {
            **{k: v for k, v in env.items() if k != "BITRIX24_WEBHOOK_URL"},
            "YANDEX_OAUTH_TOKEN": SANDBOX_TELEMOST_TOKEN,
            "YANDEX_OAUTH_URL": f"http://127.0.0.1:{telemost_port}/oauth",
            "YANDEX_LOGIN_URL": f"http://127.0.0.1:{telemost_port}/login",
            "YANDEX_CLIENT_ID": SANDBOX_YANDEX_CLIENT_ID,
            "YANDEX_CLIENT_SECRET": SANDBOX_YANDEX_CLIENT_SECRET,
            "YANDEX_REDIRECT_URI": f"http://127.0.0.1:{_port(env, 'WEB_PORT', 5000)}{_base_path(env)}"
            "/auth/yandex/callback",
            "BITRIX24_CLIENT_ID": SANDBOX_BITRIX24_CLIENT_ID,
            "BITRIX24_CLIENT_SECRET": SANDBOX_BITRIX24_CLIENT_SECRET,
            "BITRIX24_OAUTH_URL": bitrix_root + "/oauth-server",
            "TELEMOST_API_URL": telemost_default,
        }
    else:
        if not env.get("BITRIX24_WEBHOOK_URL") and not env.get("BITRIX24_CLIENT_ID"):
            raise SettingsError(
                "BITRIX24_WEBHOOK_URL (or BITRIX24_CLIENT_ID and BITRIX24_CLIENT_SECRET) is required when SANDBOX is off"
            )
        if env.get("BITRIX24_CLIENT_ID") and not env.get("BITRIX24_CLIENT_SECRET"):
            raise SettingsError("BITRIX24_CLIENT_SECRET is required with BITRIX24_CLIENT_ID")
        if env.get("YANDEX_CLIENT_ID") and not (
            env.get("YANDEX_CLIENT_SECRET") and env.get("YANDEX_REDIRECT_URI")
        ):
            raise SettingsError(
                "YANDEX_CLIENT_SECRET and YANDEX_REDIRECT_URI are required with YANDEX_CLIENT_ID"
            )
        if not env.get("YANDEX_OAUTH_TOKEN") and not env.get("YANDEX_CLIENT_ID"):
            raise SettingsError(
                "YANDEX_OAUTH_TOKEN (or YANDEX_CLIENT_ID and YANDEX_CLIENT_SECRET) is required when SANDBOX is off"
            )

    timeout = _number(env, "HTTP_TIMEOUT_SECONDS", 10, 0.1, 10)

    sweep_every = _number(env, "SWEEP_EVERY_SECONDS", 10, 1, 30)
    resend_after = _number(env, "SWEEP_RESEND_AFTER_SECONDS", 30, 1, 60)

    flower_auth = env.get("FLOWER_BASIC_AUTH")
    if flower_auth and ":" not in flower_auth:
        raise SettingsError("FLOWER_BASIC_AUTH must be user:password")

    return Settings(
        flask_env=flask_env,
        secret_key=secret_key,
        database_url=_database_url(env),
        redis_url=redis_url,
        base_path=_base_path(env),
        logging_level=level,
        sandbox=sandbox,
        web_port=_port(env, "WEB_PORT", 5000),
        flower_port=_port(env, "FLOWER_PORT", 5555),
        sandbox_telemost_port=telemost_port,
        sandbox_bitrix24_port=bitrix_port,
        telemost_api_url=_url(env, "TELEMOST_API_URL", "https://cloud-api.yandex.net/v1/telemost-api").rstrip(
            "/"
        ),
        yandex_oauth_url=_url(env, "YANDEX_OAUTH_URL", "https://oauth.yandex.ru").rstrip("/"),
        yandex_login_url=_url(env, "YANDEX_LOGIN_URL", "https://login.yandex.ru").rstrip("/"),
        yandex_oauth_token=env.get("YANDEX_OAUTH_TOKEN"),
        yandex_client_id=env.get("YANDEX_CLIENT_ID"),
        yandex_client_secret=env.get("YANDEX_CLIENT_SECRET"),
        yandex_redirect_uri=_url(env, "YANDEX_REDIRECT_URI"),
        bitrix24_webhook_url=_webhook_url(env),
        bitrix24_client_id=env.get("BITRIX24_CLIENT_ID"),
        bitrix24_client_secret=env.get("BITRIX24_CLIENT_SECRET"),
        bitrix24_oauth_url=_url(env, "BITRIX24_OAUTH_URL", "https://oauth.bitrix.info").rstrip("/"),
        bitrix24_oauth_servers=tuple(
            f"http://127.0.0.1:{bitrix_port}{path}" for path in ("/oauth-server-ru", "/oauth-server")
        )
        if sandbox
        else BITRIX24_REGIONAL_OAUTH,
        flower_basic_auth=flower_auth,
        bitrix24_app_code=env.get("BITRIX24_APP_CODE"),
        http_timeout_seconds=timeout,
        sweep_every_seconds=sweep_every,
        resend_after_seconds=resend_after,
        calendar_reconcile_every_seconds=_number(
            env, "CALENDAR_RECONCILE_EVERY_SECONDS", 300, 60, 86400, "seconds"
        ),
        json_logs=_log_format(env, flask_env) == "json",
        bitrix24_rate_per_second=_number(env, "BITRIX24_RATE_PER_SECOND", 2, 0.1, 100, "requests a second"),
        bitrix24_burst=int(_number(env, "BITRIX24_BURST", 50, 1, 1000, "requests")),
        retention_days=int(_number(env, "RETENTION_DAYS", 365, 1, 36500, "days")),
        limits={
            name: int(_number(env, name, default, 1, 100_000_000, "requests"))
            for name, default in DEFAULT_LIMITS.items()
        },
        web_host=_host(env, "WEB_HOST", "127.0.0.1"),
        sandbox_app_url=_url(
            env, "SANDBOX_APP_URL", f"http://127.0.0.1:{_port(env, 'WEB_PORT', 5000)}{_base_path(env)}/"
        ).rstrip("/")
        + "/",
    )


def _webhook_url(env: Mapping[str, str]) -> str | None:
    url = _url(env, "BITRIX24_WEBHOOK_URL")
    if url is None:
        return None
    path = urlsplit(url).path.strip("/").split("/")
    if len(path) < 3 or path[0] != "rest" or not path[1].isdigit():
        raise SettingsError(
            "BITRIX24_WEBHOOK_URL must look like https://portal.bitrix24.ru/rest/<user id>/<key>/"
        )
    return url.rstrip("/") + "/"
