"""docker-compose.yml: valid Compose, and the production properties of DESIGN §2 and §5 (no Docker engine needed).

compose_spec.json beside this file is the Compose Specification JSON schema, vendored because the tests
have no network: it is compose/config/compose_spec.json from the PyPI wheel docker-compose==1.29.2
(docker_compose-1.29.2-py2.py3-none-any.whl, file sha256 0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac),
copied unchanged. Its "$schema" names draft 2019-09.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support.processes import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA = Path(__file__).with_name("compose_spec.json")
APP = ("migrate", "web", "worker", "worker-bitrix", "beat", "flower")
LONG_RUNNING = ("redis", "web", "worker", "worker-bitrix", "beat", "flower", "nginx")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def _mounts(service: dict) -> dict[str, str]:
    """{path in the container: volume name or host path}."""
    return {volume.split(":")[1]: volume.split(":")[0] for volume in service.get("volumes", [])}


def test_valid_against_the_compose_specification(compose):
    validator = jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text()))
    validator.validate(compose)
    assert not validator.is_valid({**compose, "servicez": {}})  # the schema does reject what is not Compose


def test_every_process_of_the_design_is_a_service(services):
    assert set(services) == {"redis", "migrate", "web", "worker", "worker-bitrix", "beat", "flower", "nginx"}


def test_redis_keeps_its_queue(compose, services):
    redis = services["redis"]
    assert re.fullmatch(r"redis:7(\.\d+)+(-[a-z]+)?", redis["image"])
    assert "--appendonly yes" in _command(redis) and "--maxmemory-policy noeviction" in _command(redis)
    assert _mounts(redis)["/data"] in compose["volumes"]
    assert "redis-cli" in str(redis["healthcheck"]["test"])


def test_migrations_run_once_before_web_worker_and_beat(services):
    assert _command(services["migrate"]) == "alembic upgrade head"
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_processes_run_the_commands_of_the_design(services):
    assert services["web"]["build"]["dockerfile"] == "Dockerfile.web"
    for name in ("migrate", "worker", "worker-bitrix", "beat", "flower"):
        assert services[name]["build"]["dockerfile"] == "Dockerfile.worker"
    assert _command(services["worker"]).startswith(
        "celery -A worker.celery_app worker --pool threads --concurrency 32 --queues conferences,maintenance")
    assert _command(services["worker-bitrix"]).startswith(
        "celery -A worker.celery_app worker --pool threads --concurrency 16 --queues bitrix")
    assert _command(services["beat"]).startswith("celery -A worker.celery_app beat --schedule /app/data/celerybeat-schedule")
    assert "exec celery -A worker.celery_app flower" in _command(services["flower"])


def test_app_containers_run_as_a_non_root_user(services):
    for name in APP:
        assert str(services[name].get("user", "")).split(":")[0] not in ("root", "0")
        dockerfile = (ROOT / services[name]["build"]["dockerfile"]).read_text()
        assert re.findall(r"^USER\s+(\S+)", dockerfile, re.M)[-1] not in ("root", "0")


def test_web_has_a_healthcheck_that_nginx_waits_for(services):
    assert "/health" in str(services["web"]["healthcheck"]["test"])
    assert services["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_long_running_services_restart_unless_stopped(services):
    assert {name: services[name].get("restart") for name in LONG_RUNNING} == dict.fromkeys(LONG_RUNNING, "unless-stopped")


def test_settings_come_from_the_env_file_and_data_lives_on_volumes(compose, services):
    for name in APP:
        service = services[name]
        assert service["env_file"] in (".env", [".env"])
        assert service["environment"]["DATABASE_PATH"] == "/app/data/telemost.db"
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert {_mounts(service)["/app/data"], _mounts(service)["/app/logs"]} <= set(compose["volumes"])


def test_no_secret_is_written_in_the_file(services):
    text = COMPOSE_FILE.read_text()
    assert not re.search(r"SECRET_KEY\s*[:=]", text)
    assert not re.search(r"(?i)(password|passwd|secret|token)\w*\s*[:=]\s*['\"]?[^\s'\"$]{3,}", text)
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text)  # no user:password@ in a URL
    for service in services.values():
        names = list(service.get("environment") or [])
        assert not [n for n in names if re.search(r"SECRET|TOKEN|PASSWORD|BASIC_AUTH|WEBHOOK", str(n), re.I)]


def test_nginx_publishes_80_and_443_with_its_config_and_certificates(services):
    nginx = services["nginx"]
    assert re.fullmatch(r"nginx:1\.27\.\d+(-[a-z]+)?", nginx["image"])
    assert {"80:80", "443:443"} <= set(nginx["ports"])
    assert _mounts(nginx)["/etc/nginx/nginx.conf"] == "./nginx/nginx.conf"
    assert "/etc/nginx/certs" in _mounts(nginx)


@pytest.mark.parametrize("env, starts", [
    ({}, False),
    ({"FLOWER_BASIC_AUTH": ""}, False),
    ({"FLOWER_BASIC_AUTH": "", "SANDBOX": "auto"}, False),
    ({"FLOWER_BASIC_AUTH": "", "SANDBOX": "on"}, True),
    ({"FLOWER_BASIC_AUTH": "ops:long-password"}, True),
])
def test_flower_refuses_to_start_without_basic_auth_outside_the_sandbox(services, tmp_path, env, starts):
    """The shell check of the flower command, run by sh with a stand-in for celery."""
    shell, flag, script = services["flower"]["command"]
    assert (shell, flag) == ("sh", "-c")
    assert "$" not in script.replace("$$", "")  # every $ escaped, or compose would substitute it from the host
    (tmp_path / "celery").write_text('#!/bin/sh\necho "args: $*"\necho "auth: ${FLOWER_BASIC_AUTH-unset}"\n')
    (tmp_path / "celery").chmod(0o755)
    result = subprocess.run([shell, flag, script.replace("$$", "$")], capture_output=True, text=True, timeout=10,
                            env={"PATH": f"{tmp_path}:{os.environ['PATH']}", **env})
    assert (result.returncode == 0) == starts, result.stderr
    if starts:
        assert "args: -A worker.celery_app flower" in result.stdout
        # Flower reads the password from the environment, never from its command line; an empty one is unset.
        assert f"auth: {env['FLOWER_BASIC_AUTH'] or 'unset'}" in result.stdout
    else:
        assert "FLOWER_BASIC_AUTH" in result.stderr
