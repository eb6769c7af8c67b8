"""The Procfile `make run` starts (scripts/procfile.py): the sandbox portal talks to this stack's own web
(issue 12, finding 12). Everything here is on loopback."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

from tests.support.processes import ROOT, free_port, wait_until

# .env as `make` writes it from .env.example, under the exported settings (scripts/procfile.py start):
# SANDBOX_APP_URL is empty there, so the emulator learns the app's URL from its Procfile line.
ENV_FILE_DEFAULTS = {"WEB_PORT": "5000", "SANDBOX_BITRIX24_PORT": "8082", "SANDBOX_APP_URL": ""}


def procfile(env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run([sys.executable, "scripts/procfile.py"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


class _Recorder(BaseHTTPRequestHandler):
    """Stands for the app on WEB_PORT: notes every POST it is sent."""
    received: list[tuple[str, dict]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.received.append((self.path, parse_qs(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"accepted": true}')

    def log_message(self, *args):
        pass


def test_the_sandbox_portal_launches_and_sends_events_to_this_stacks_web_port(stack):
    web_port, portal_port = free_port(), free_port()
    assert web_port != 5000
    # A second stack on this machine: its ports exported, .env as made from .env.example.
    exported = {**{k: v for k, v in stack.env.items() if k != "SANDBOX_APP_URL"},
                "WEB_PORT": str(web_port), "SANDBOX_BITRIX24_PORT": str(portal_port)}
    line = procfile(exported)["bitrix24"]
    app = ThreadingHTTPServer(("127.0.0.1", web_port), _Recorder)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    portal = subprocess.Popen(line, shell=True, cwd=ROOT, env={**ENV_FILE_DEFAULTS, **exported},
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{portal_port}"
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 30, "the sandbox portal answers")
        launch = requests.post(f"{base}/_sandbox/launch", json={"user_id": 2}, timeout=10).json()
        assert urlsplit(launch["url"]).netloc == f"127.0.0.1:{web_port}", launch["url"]

        # ONAPPINSTALL goes only to a handler the app bound or named (app_install.py); ONAPPUNINSTALL goes to
        # the app's own events URL, the one the Procfile line gave the portal.
        uninstalled = requests.post(f"{base}/_sandbox/uninstall", json={}, timeout=10).json()
        assert uninstalled["delivered"]["status"] == 200, uninstalled
        received = [(path, fields["event"]) for path, fields in _Recorder.received]
        assert received == [("/bitrix/events", ["ONAPPUNINSTALL"])]
    finally:
        os.killpg(portal.pid, signal.SIGTERM)
        portal.wait(10)
        app.shutdown()
        app.server_close()


def test_the_app_url_follows_base_path_or_says_what_is_set(stack):
    env = {k: v for k, v in stack.env.items() if k != "SANDBOX_APP_URL"}
    under_a_prefix = procfile({**env, "WEB_PORT": "5123", "BASE_PATH": "/telemost"})["bitrix24"]
    assert under_a_prefix.startswith("SANDBOX_APP_URL=http://127.0.0.1:5123/telemost/ ")
    behind_nginx = procfile({**env, "SANDBOX_APP_URL": "http://127.0.0.1:8080/telemost-bitrix"})["bitrix24"]
    assert behind_nginx.startswith("SANDBOX_APP_URL=http://127.0.0.1:8080/telemost-bitrix/ ")


def test_a_malformed_web_host_stops_make_run_with_one_line(stack):
    result = subprocess.run([sys.executable, "scripts/procfile.py"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, env={**stack.env, "WEB_HOST": "0.0.0.0 --reload"})
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "telemost-bitrix-app: WEB_HOST must be an address or host name such as 127.0.0.1 or 0.0.0.0, "
        "got '0.0.0.0 --reload'"]


def test_every_port_and_url_setting_is_in_env_example():
    config = (ROOT / "shared" / "config.py").read_text()
    settings = set(re.findall(r"_(?:port|url|host)\(\s*env,\s*[\"']([A-Z0-9_]+)[\"']", config))
    assert {"WEB_HOST", "WEB_PORT", "SANDBOX_APP_URL", "SANDBOX_BITRIX24_PORT"} <= settings  # the pattern finds them
    listed = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
              if line and not line.startswith("#")}
    assert settings - listed == set()
