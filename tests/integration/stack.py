"""The whole system on free ports: Redis, both emulators, web (gunicorn), worker and beat (Celery)."""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from shared.limiter.allowances import DEFAULT_SETTINGS as LIMIT_SETTINGS
from tests.support.processes import BIN, ROOT, Process, free_port, http_ok, wait_until

FINAL_STATUSES = {"ready", "partially_failed", "failed", "cancelled"}
WORKERS = ("worker", "worker-bitrix")  # rooms and maintenance; Bitrix24 (shared/jobs.py)


@dataclass
class Stack:
    env: dict[str, str]
    web_url: str
    telemost_url: str
    bitrix_url: str
    redis_port: int
    log_dir: Path
    processes: dict[str, Process] = field(default_factory=dict)
    # How Redis keeps its data, and where (the chaos runs switch persistence between restarts).
    redis_options: tuple[str, ...] = ("--save", "", "--appendonly", "no")
    redis_dir: Path | None = None

    # --- processes ---------------------------------------------------------------------------
    def process(self, name: str) -> Process:
        return self.processes[name]

    def start(self, name: str) -> None:
        self.processes[name] = _definitions(self)[name]().start()

    def stop(self, name: str) -> None:
        self.processes[name].stop()

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    # --- the sandbox -------------------------------------------------------------------------
    def telemost_state(self) -> dict:
        return requests.get(f"{self.telemost_url}/_sandbox/state", timeout=5).json()

    def bitrix_state(self) -> dict:
        return requests.get(f"{self.bitrix_url}/_sandbox/state", timeout=5).json()

    def telemost_faults(self, **spec) -> None:
        requests.post(f"{self.telemost_url}/_sandbox/faults", json=spec, timeout=5).raise_for_status()

    def bitrix_faults(self, **spec) -> None:
        requests.post(f"{self.bitrix_url}/_sandbox/faults", json=spec, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        self.telemost_faults()
        self.bitrix_faults()

    def wait_quiet(self, timeout: float = 60) -> None:
        """Until no conference has work left, so that one test's rooms and events never leak into the next."""
        from sqlalchemy import func, select

        from shared.db import Database
        from shared.models import Conference
        from shared.housekeeping.sweeper import ACTIVE_STATUSES

        database = Database(self.env["DATABASE_URL"])

        def quiet() -> bool:
            with database.read() as session:
                return session.scalar(select(func.count()).select_from(Conference)
                                      .where(Conference.status.in_(ACTIVE_STATUSES))) == 0
        try:
            wait_until(quiet, timeout, "all conferences final", interval=0.2)
        finally:
            database.dispose()

    def reset_sandbox(self) -> None:
        for url in (self.telemost_url, self.bitrix_url):
            requests.post(f"{url}/_sandbox/reset", timeout=5).raise_for_status()
        self._wait_stored_events()

    def _wait_stored_events(self, timeout: float = 30) -> None:
        """The reset drops the calendar echoes still in the portal's queue; one delivered just before it is
        stored already, and its read of the portal must not land in the next test's counts."""
        from sqlalchemy import func, select

        from shared.db import Database
        from shared.models import InboundEvent

        database = Database(self.env["DATABASE_URL"])

        def processed() -> bool:
            with database.read() as session:
                return session.scalar(select(func.count()).select_from(InboundEvent)) == 0
        try:
            wait_until(processed, timeout, "the stored Bitrix24 events processed", interval=0.1)
        finally:
            database.dispose()

    def launch(self, user_id: int) -> dict:
        response = requests.post(f"{self.bitrix_url}/_sandbox/launch", json={"user_id": user_id}, timeout=5)
        response.raise_for_status()
        return response.json()

    def open_app(self, user_id: int, path: str = "/", **changes) -> requests.Response:
        """What the portal does when the user opens the app: a form POST of the launch fields."""
        launch = self.launch(user_id)
        form = {**launch["form"], **changes.pop("form", {})}
        query = {**launch["query"], **changes.pop("query", {})}
        return requests.post(self.web_url + path, params=query, data=form, timeout=15)

    def install(self) -> None:
        """As a portal does it: the administrator opens the install page, whose installFinish makes the
        portal mark the app installed. ONAPPINSTALL reaches only a bound handler (b24restdocs
        api-reference/common/events/on-app-install.md) and the app binds none: nothing is delivered."""
        response = self.open_app(1, "/install")
        assert response.status_code == 200, response.text
        finished = requests.post(f"{self.bitrix_url}/_sandbox/install", json={"user_id": 1}, timeout=15).json()
        assert finished == {"installed": True, "delivered": []}, finished

    def login(self, user_id: int) -> "ApiClient":
        page = self.open_app(user_id)
        assert page.status_code == 200, page.text
        config = json.loads(re.search(r'<script id="app-config" type="application/json">(.*?)</script>',
                                      page.text, re.S).group(1))
        return ApiClient(self.web_url, config["token"])


class ApiClient:
    """The app's JSON API as the front end uses it, with the caller's app token."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    @property
    def token(self) -> str:
        return self.http.headers["Authorization"].removeprefix("Bearer ")

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.base_url + path, timeout=15, **kwargs)

    def create(self, body: dict, **kwargs) -> dict:
        response = self.request("POST", "/api/conferences", json=body, **kwargs)
        assert response.status_code == 202, response.text
        return response.json()

    def get(self, conference_id: int) -> dict:
        response = self.request("GET", f"/api/conferences/{conference_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_final(self, conference_id: int, timeout: float = 60) -> dict:
        seen: dict = {}

        def final() -> bool:
            seen.update(self.get(conference_id))
            return seen["status"] in FINAL_STATUSES

        try:
            wait_until(final, timeout, f"conference {conference_id} final", interval=0.2)
        except TimeoutError:
            raise AssertionError(f"conference {conference_id} still {seen.get('status')}: {seen.get('steps')}") from None
        return seen


def _database_url(tmp: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'telemost.db'}"
    _reset_postgres(url)
    return url


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def build_stack(tmp: Path) -> Stack:
    ports = {name: free_port() for name in ("web", "telemost", "bitrix", "redis", "flower")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BITRIX24_", "YANDEX_", "TELEMOST_"))}
    env.update({
        "FLASK_ENV": "testing", "SECRET_KEY": secrets.token_urlsafe(32), "SANDBOX": "on",
        "DATABASE_URL": _database_url(tmp), "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "WEB_PORT": str(ports["web"]), "FLOWER_PORT": str(ports["flower"]),
        "SANDBOX_TELEMOST_PORT": str(ports["telemost"]), "SANDBOX_BITRIX24_PORT": str(ports["bitrix"]),
        "SANDBOX_APP_URL": f"http://127.0.0.1:{ports['web']}/",
        "SWEEP_EVERY_SECONDS": "1", "SWEEP_RESEND_AFTER_SECONDS": "3", "HTTP_TIMEOUT_SECONDS": "5",
        # Every test's reset empties the emulator's calendar while the database keeps the conferences linked to
        # it: beat's reconciliation would cancel them in the middle of a later test. Its tests run it themselves.
        "CALENDAR_RECONCILE_EVERY_SECONDS": "86400",
        # The emulator's bucket starts empty at every test while the limiter's record in Redis lives on:
        # the limiter is tested on its own (test_rate_limit.py) and kept out of the other tests' way.
        "BITRIX24_RATE_PER_SECOND": "100", "BITRIX24_BURST": "1000",
        # The tests, the chaos run and the benchmark make far more than any person: the per-user and
        # per-portal limits at their highest; tests/security/test_limits.py sets small ones of its own.
        **{name: "100000000" for name in LIMIT_SETTINGS},
        "LOGGING_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
    })
    return Stack(env=env, web_url=f"http://127.0.0.1:{ports['web']}",
                 telemost_url=f"http://127.0.0.1:{ports['telemost']}", bitrix_url=f"http://127.0.0.1:{ports['bitrix']}",
                 redis_port=ports["redis"], log_dir=tmp)


def variant(stack: Stack, tmp: Path, env: dict[str, str], drop: tuple[str, ...] = ()) -> Stack:
    """Another web and worker with other settings, sharing the emulators and Redis (its own database)."""
    web_port = free_port()
    changed = {k: v for k, v in stack.env.items() if k not in drop}
    changed.update({"WEB_PORT": str(web_port), "DATABASE_URL": f"sqlite:///{tmp / 'variant.db'}", **env})
    other = Stack(env=changed, web_url=f"http://127.0.0.1:{web_port}", telemost_url=stack.telemost_url,
                  bitrix_url=stack.bitrix_url, redis_port=stack.redis_port, log_dir=tmp)
    subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=other.env, check=True,
                   capture_output=True)
    for name in ("web", *WORKERS):
        other.start(name)
    return other


def _redis_answers(port: int) -> bool:
    return redis.Redis(port=port, socket_connect_timeout=0.5).ping()


def _definitions(stack: Stack) -> dict:
    env, tmp = stack.env, stack.log_dir
    gunicorn = [str(BIN / "gunicorn"), "--worker-class", "gthread", "--threads", "8", "--workers", "1",
                "--graceful-timeout", "2"]
    # An emulator keeps answering its control routes while every worker thread waits on a slow answer.
    emulator = [*gunicorn[:4], "32", *gunicorn[5:]]
    celery = [str(BIN / "celery"), "-A", "worker.celery_app"]
    worker_options = ["--loglevel", "INFO", "--without-mingle", "--without-gossip"]
    web_port, tm_port, bx_port = (env["WEB_PORT"], env["SANDBOX_TELEMOST_PORT"], env["SANDBOX_BITRIX24_PORT"])
    return {
        "redis": lambda: Process("redis", ["redis-server", "--port", str(stack.redis_port), "--bind", "127.0.0.1",
                                           *stack.redis_options, "--dir", str(stack.redis_dir or tmp)], env, tmp,
                                 ready=lambda: _redis_answers(stack.redis_port)),
        "telemost": lambda: Process("telemost", emulator + ["--bind", f"127.0.0.1:{tm_port}",
                                                            "sandbox.telemost.app:create_app()"], env, tmp,
                                    ready=http_ok(f"{stack.telemost_url}/healthz")),
        "bitrix": lambda: Process("bitrix", emulator + ["--bind", f"127.0.0.1:{bx_port}",
                                                        "sandbox.bitrix24.app:create_app()"], env, tmp,
                                  ready=http_ok(f"{stack.bitrix_url}/healthz")),
        "web": lambda: Process("web", gunicorn + ["--bind", f"127.0.0.1:{web_port}", "web.wsgi:app"], env, tmp,
                               ready=http_ok(f"{stack.web_url}/health")),
        "worker": lambda: Process("worker", celery + ["worker", "--pool", "threads", "--concurrency", "8",
                                                      "--queues", "conferences,maintenance", "--hostname", "rooms@%h",
                                                      *worker_options], env, tmp),
        "worker-bitrix": lambda: Process("worker-bitrix", celery + ["worker", "--pool", "threads", "--concurrency", "8",
                                                                    "--queues", "bitrix", "--hostname", "bitrix@%h",
                                                                    *worker_options], env, tmp),
        "beat": lambda: Process("beat", celery + ["beat", "--schedule", str(tmp / "beat-schedule"),
                                                  "--loglevel", "INFO"], env, tmp),
    }


def start_stack(stack: Stack) -> Stack:
    stack.start("redis")
    subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, env=stack.env, check=True,
                   capture_output=True)
    for name in ("telemost", "bitrix", "web", *WORKERS, "beat"):
        stack.start(name)
    time.sleep(0.5)
    return stack


# --- more than one portal (tests/integration/test_two_portals.py) ------------------------------------------------
@dataclass
class PortalHandle:
    """Another Bitrix24 emulator process: one more portal, opened against the deployment at `web_url`.
    launch / open_app / install / login do what Stack's do, against this portal's URL."""
    name: str
    url: str
    member_id: str
    web_url: str
    process: Process

    def state(self) -> dict:
        return requests.get(f"{self.url}/_sandbox/state", timeout=5).json()

    def reset(self) -> None:
        requests.post(f"{self.url}/_sandbox/reset", timeout=5).raise_for_status()

    def launch(self, user_id: int) -> dict:
        response = requests.post(f"{self.url}/_sandbox/launch", json={"user_id": user_id}, timeout=5)
        response.raise_for_status()
        return response.json()

    def open_app(self, user_id: int, path: str = "/") -> requests.Response:
        launch = self.launch(user_id)
        return requests.post(self.web_url + path, params=launch["query"], data=launch["form"], timeout=15)

    def install(self) -> None:
        response = self.open_app(1, "/install")
        assert response.status_code == 200, response.text
        finished = requests.post(f"{self.url}/_sandbox/install", json={"user_id": 1}, timeout=15).json()
        assert finished == {"installed": True, "delivered": []}, finished

    def login(self, user_id: int) -> ApiClient:
        page = self.open_app(user_id)
        assert page.status_code == 200, page.text
        config = json.loads(re.search(r'<script id="app-config" type="application/json">(.*?)</script>',
                                      page.text, re.S).group(1))
        return ApiClient(self.web_url, config["token"])

    def stop(self) -> None:
        self.process.stop()


def start_portal(stack: Stack, name: str, member_id: str, app_url: str, oauth_root: str = "") -> PortalHandle:
    """One more Bitrix24 emulator, started as _definitions starts "bitrix", on a free port with its own
    member_id, domain, public_url and application token (sandbox/bitrix24/settings.py load_settings reads
    SANDBOX_BITRIX24_*). `app_url` is the deployment it opens (SANDBOX_APP_URL); `oauth_root` where its OAuth
    servers are said to be (SANDBOX_BITRIX24_OAUTH_ROOT; its own host when empty)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**stack.env, "SANDBOX_BITRIX24_PORT": str(port), "SANDBOX_BITRIX24_PUBLIC_URL": url,
           "SANDBOX_BITRIX24_MEMBER_ID": member_id, "SANDBOX_BITRIX24_APPLICATION_TOKEN": f"app-token-{member_id}",
           "SANDBOX_BITRIX24_OAUTH_ROOT": oauth_root, "SANDBOX_APP_URL": app_url}
    emulator = [str(BIN / "gunicorn"), "--worker-class", "gthread", "--threads", "32", "--workers", "1",
                "--graceful-timeout", "2"]
    process = Process(name, [*emulator, "--bind", f"127.0.0.1:{port}", "sandbox.bitrix24.app:create_app()"],
                      env, stack.log_dir, ready=http_ok(f"{url}/healthz")).start()
    return PortalHandle(name=name, url=url, member_id=member_id, web_url=app_url.rstrip("/"), process=process)


class SharedOAuthServer:
    """Bitrix24's OAuth servers serve every portal (oauth.bitrix.info, oauth.bitrix24.tech), while each emulator
    process serves only its own portal's tokens: this stand-in, in the test process, passes each OAuth request
    (<server>/oauth/token/, <server>/rest/app.info) to the portals' emulators in turn and answers with the
    first that knows the token (a token unknown to an emulator is refused there with no side effect)."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.backends: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
                answer = None
                for backend in outer.backends:
                    answer = requests.request(self.command, backend + self.path, data=body or None,
                                              headers=headers, timeout=10)
                    if answer.status_code < 400 and "error" not in (_json_or_empty(answer)):
                        break
                if answer is None:
                    self.send_error(502)
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _forward

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json_or_empty(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
