"""What the app shows without being asked: Flower, /metrics, /health, logs. No secret may be in any of them."""
from __future__ import annotations

import os
import re
import subprocess
import time
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import select, text

from shared.crypto import TokenBox
from shared.models import BitrixCredential, YandexAccount
from tests.deploy.test_procfile import procfile
from tests.integration.stack import ApiClient
from tests.integration.test_pipeline import meeting
from tests.integration.test_yandex_accounts import connect
from tests.support.processes import BIN, ROOT, free_port, wait_until

from .test_attacks import app_config

CLIENT_SECRET = "sandbox-secret"  # the sandbox portal's application secret (BITRIX24_CLIENT_SECRET)
ORG_TOKEN = "sandbox-org-token"  # the Yandex organisation token (YANDEX_OAUTH_TOKEN)


class Secrets:
    """Every secret a run has handed out, by name, and the ways each could show up."""

    def __init__(self, stack) -> None:
        self.values: dict[str, str] = {"SECRET_KEY": stack.env["SECRET_KEY"], "client secret": CLIENT_SECRET,
                                       "Yandex organisation token": ORG_TOKEN}
        self.whole_only: set[str] = set()  # secrets whose beginning is not secret

    def add(self, name: str, value: str | None) -> None:
        if value:
            self.values[name] = value

    def add_app_token(self, name: str, token: str) -> None:
        # Its payload (portal, user, name) is readable by design; the signature is what must not leak.
        self.add(name, token)
        self.add(f"{name} (its signature)", token.rsplit(".", 1)[1])
        self.whole_only.add(name)

    def add_held_by_the_app(self, stack, database) -> None:
        """The token pairs the app holds now: those it was given and those it got by refreshing."""
        box = TokenBox(stack.env["SECRET_KEY"])
        with database.read() as session:
            for c in session.scalars(select(BitrixCredential)):
                self.add(f"Bitrix24 access token of user {c.user_id}", box.open(c.access_token))
                self.add(f"Bitrix24 refresh token of user {c.user_id}", box.open(c.refresh_token))
            for y in session.scalars(select(YandexAccount)):
                self.add(f"Yandex access token of user {y.user_id}", box.open(y.access_token))
                if y.refresh_token:
                    self.add(f"Yandex refresh token of user {y.user_id}", box.open(y.refresh_token))

    def found_in(self, where: str, content: str) -> list[str]:
        leaks = []
        for name, value in self.values.items():
            # The whole value, or a beginning long enough to be that secret and nothing else (a shortened token).
            for shown in {value} if name in self.whole_only or len(value) < 32 else {value, value[:16]}:
                if shown in content:
                    leaks.append(f"{name} in {where}")
        return sorted(set(leaks))


def open_app(stack, user_id: int, secrets: Secrets) -> ApiClient:
    """A launch whose Bitrix24 tokens the test knows, then the app page it opens."""
    launch = stack.launch(user_id)
    secrets.add(f"AUTH_ID of user {user_id}", launch["form"]["AUTH_ID"])
    secrets.add(f"REFRESH_ID of user {user_id}", launch["form"]["REFRESH_ID"])
    secrets.add("the portal's application token", launch["form"]["APPLICATION_TOKEN"])
    page = requests.post(stack.web_url + "/", params=launch["query"], data=launch["form"], timeout=15)
    assert page.status_code == 200, page.text
    api = ApiClient(stack.web_url, app_config(page)["token"])
    secrets.add_app_token(f"app token of user {user_id}", api.token)
    return api


def tomorrow(hours: int = 10) -> str:
    day = datetime.now(timezone(timedelta(hours=3))) + timedelta(days=1)
    return day.replace(hour=hours, minute=0, second=0, microsecond=0).isoformat()


# --- /metrics, /health and the documents ----------------------------------------------------------------------

def test_metrics_health_and_the_openapi_document_show_no_secret(stack, database):
    secrets = Secrets(stack)
    anna = open_app(stack, 2, secrets)
    done = anna.wait_final(anna.create(meeting(invitees=[3]))["id"])
    assert done["status"] == "ready", done["steps"]
    secrets.add_held_by_the_app(stack, database)

    leaks = []
    for path in ("/metrics", "/health", "/api/openapi.json"):
        response = requests.get(stack.web_url + path, timeout=5)
        assert response.status_code == 200
        leaks += secrets.found_in(path, response.text)
    assert leaks == []
    assert "telemost_outside_calls" in requests.get(stack.web_url + "/metrics", timeout=5).text  # it did answer


# --- logs ---------------------------------------------------------------------------------------------------

def test_no_secret_reaches_any_process_log_after_a_full_run(stack, database):
    secrets = Secrets(stack)
    anna, ivan = open_app(stack, 2, secrets), open_app(stack, 1, secrets)
    launch = stack.launch(2)  # the front end renewing its token
    renewed = requests.post(f"{stack.web_url}/api/session", json={
        "auth_id": launch["form"]["AUTH_ID"], "domain": launch["query"]["DOMAIN"],
        "member_id": launch["form"]["member_id"]}).json()["token"]
    secrets.add("AUTH_ID of the renewal", launch["form"]["AUTH_ID"])
    secrets.add_app_token("renewed app token", renewed)
    assert connect(stack, anna).status_code == 200  # Anna's own Yandex account: its tokens are secrets too

    # Created, edited, cancelled; one that fails; one after the portal's tokens expired (a refresh).
    first = anna.wait_final(anna.create(meeting(invitees=[3]))["id"])
    assert first["status"] == "ready", first["steps"]
    edited = {**{k: first[k] for k in ("name", "description", "duration_minutes", "cohosts", "invitees")},
              "name": "Moved sync", "start_at": tomorrow(12), "invitees": [3, 4]}
    assert anna.request("PUT", f"/api/conferences/{first['id']}", json=edited).status_code == 202
    assert anna.wait_final(first["id"])["status"] == "ready"
    assert anna.request("DELETE", f"/api/conferences/{first['id']}").status_code == 202
    assert anna.wait_final(first["id"])["status"] == "cancelled"

    stack.telemost_faults(error_rate=1.0, status=403)
    assert ivan.wait_final(ivan.create({"name": "Refused"})["id"])["status"] == "failed"
    stack.telemost_faults()

    with database.write() as session:
        session.execute(text("UPDATE bitrix_credentials SET expires_at = :past"), {"past": "2000-01-01 00:00:00"})
    refreshed = ivan.wait_final(ivan.create(meeting(invitees=[2]))["id"])
    assert refreshed["status"] == "ready", refreshed["steps"]
    assert stack.bitrix_state()["requests"].get("oauth/token", 0) >= 1
    secrets.add_held_by_the_app(stack, database)
    time.sleep(0.5)  # the last lines reach the files

    logs = sorted(stack.log_dir.glob("*.log"))
    assert {p.stem for p in logs} >= {"web", "worker", "beat", "bitrix", "telemost", "redis"}
    leaks = [leak for path in logs for leak in secrets.found_in(path.name, path.read_text(errors="replace"))]
    assert leaks == []
    assert "conference" in (stack.log_dir / "worker.log").read_text()  # the logs did record the run


# --- Flower ----------------------------------------------------------------------------------------------------

def _procfile(stack, **env) -> dict[str, str]:
    return procfile({**stack.env, **env})


def test_flower_without_a_password_listens_on_this_machine_only(stack):
    flower = _procfile(stack, FLOWER_BASIC_AUTH="")["flower"]
    assert "--address=127.0.0.1" in flower and "0.0.0.0" not in flower


def test_flower_with_a_password_keeps_it_off_its_command_line(stack):
    flower = _procfile(stack, FLOWER_BASIC_AUTH="ops:a-long-flower-password")["flower"]
    assert "--address=0.0.0.0" in flower
    assert "a-long-flower-password" not in flower and "basic_auth" not in flower


def test_flower_asks_for_the_password_when_one_is_set(stack):
    port = free_port()
    env = {**stack.env, "FLOWER_BASIC_AUTH": "ops:a-long-flower-password"}
    # The command procfile.py prints (and docker compose runs): the password comes from the environment.
    command = _procfile(stack, **env)["flower"].replace(".venv/bin/celery", str(BIN / "celery"))
    command = re.sub(r"--port=\d+", f"--port={port}", command).replace("--address=0.0.0.0", "--address=127.0.0.1")
    log = open(stack.log_dir / "flower.log", "ab")
    flower = subprocess.Popen(command, shell=True, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(url, timeout=1).status_code in (200, 401), 30, "Flower answers")
        for auth in (None, ("ops", "wrong"), ("intruder", "a-long-flower-password")):
            for path in ("/", "/workers", "/tasks", "/api/workers", "/api/tasks", "/api/task/types"):
                assert requests.get(url + path, auth=auth, timeout=5).status_code == 401, (path, auth)
        assert requests.get(url + "/", auth=("ops", "a-long-flower-password"), timeout=5).status_code == 200
        # Flower serves its Prometheus /metrics without asking (by its design): counts by task and worker only.
        scraped = requests.get(url + "/metrics", timeout=5).text
        for secret in ("a-long-flower-password", stack.env["SECRET_KEY"], CLIENT_SECRET, ORG_TOKEN):
            assert secret not in scraped
    finally:
        os.killpg(flower.pid, 15)
        flower.wait(timeout=10)
        log.close()
