"""nginx/nginx.conf and nginx/telemost-bitrix.conf in a real nginx, in front of the test session's web server.

The test config is nginx/nginx.conf with only what a test run needs changed: the listen port, the
upstream address (the stack's gunicorn), no TLS, and pid, logs and temp files in a temp folder, so that
it runs as any user without touching /var. A second server on another port includes the snippet.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from tests.support.processes import ROOT, free_port, wait_until
from web.frontend import MANIFEST

NGINX_CONF = ROOT / "nginx" / "nginx.conf"
SNIPPET = ROOT / "nginx" / "telemost-bitrix.conf"
PREFIX = "/telemost-bitrix"


@pytest.fixture(autouse=True)
def _fresh_sandbox(clean_sandbox):
    yield


def _nginx_binary() -> str:
    def find():
        return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if not find():
        subprocess.run([str(ROOT / "scripts" / "ensure-nginx.sh")], capture_output=True)
    if not find():
        pytest.skip("nginx is not installed and scripts/ensure-nginx.sh could not install it (it needs root and apt-get)")
    return find()


def _without_tls(text: str) -> str:
    """The config without comment lines and without any server { } that listens on 443."""
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    for match in reversed(list(re.finditer(r"\bserver\s*\{", text))):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        if re.search(r"listen\s+[^;]*443", text[match.start():end]):
            text = text[:match.start()] + text[end + 1:]
    return text


def _config_for_test(tmp: Path, web_port: int, port: int, snippet_port: int) -> str:
    text = _without_tls(NGINX_CONF.read_text())
    assert "server web:5000;" in text and re.search(r"listen\s+80;", text)
    text = text.replace("server web:5000;", f"server 127.0.0.1:{web_port};")
    text = re.sub(r"listen\s+80;", f"listen 127.0.0.1:{port};", text)
    text = re.sub(r"^\s*user\s+\S+;|^\s*include\s+\S*mime\.types;", "", text, flags=re.M)
    text = re.sub(r"^(\s*)pid\s+\S+;", rf"\1pid {tmp}/nginx.pid;", text, flags=re.M)
    text = re.sub(r"^(\s*)error_log\s+\S+", rf"\1error_log {tmp}/error.log", text, flags=re.M)
    text = re.sub(r"^(\s*)access_log\s+(?!off;)\S+;", rf"\1access_log {tmp}/access.log;", text, flags=re.M)
    temp = "".join(f"    {kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    snippet_server = f"    server {{\n        listen 127.0.0.1:{snippet_port};\n        include {SNIPPET};\n    }}\n"
    text = text.replace("http {\n", "http {\n" + temp, 1)
    return text[:text.rindex("}")] + snippet_server + "}\n"


@pytest.fixture(scope="module")
def nginx(stack):
    """{config file name: base URL of the prefix} for nginx.conf's server and the snippet's."""
    binary = _nginx_binary()
    tmp = Path(tempfile.mkdtemp(prefix="nginx-test-"))
    tmp.chmod(0o755)  # nginx's workers run as nobody when the tests run as root
    ports = {"nginx.conf": free_port(), "telemost-bitrix.conf": free_port()}
    web_port = int(stack.web_url.rsplit(":", 1)[1])
    (tmp / "nginx.conf").write_text(_config_for_test(tmp, web_port, ports["nginx.conf"], ports["telemost-bitrix.conf"]))
    process = subprocess.Popen([binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log"),
                                "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True)

    def listening() -> bool:
        assert process.poll() is None, (tmp / "error.log").read_text(errors="replace")
        for port in ports.values():
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    try:
        try:
            wait_until(listening, 10, "nginx listening")
        except TimeoutError:
            pytest.fail("nginx did not start: " + (tmp / "error.log").read_text(errors="replace"))
        yield {name: f"http://127.0.0.1:{port}{PREFIX}" for name, port in ports.items()}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(params=["nginx.conf", "telemost-bitrix.conf"])
def base(request, nginx) -> str:
    return nginx[request.param]


def test_health_under_the_prefix(base):
    response = requests.get(base + "/health", timeout=10)
    assert response.status_code == 200 and "healthy" in response.text


def test_openapi_names_the_prefix_as_its_server(base):
    response = requests.get(base + "/api/openapi.json", timeout=10)
    assert response.status_code == 200
    assert [server["url"] for server in response.json()["servers"]] == [PREFIX]


def test_api_call_with_an_app_token(stack, base):
    token = stack.login(2).token
    response = requests.get(base + "/api/conferences", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text


def test_launch_page_under_the_prefix_may_be_framed_by_the_portal(stack, base):
    launch = stack.launch(2)
    page = requests.post(base + "/", params=launch["query"], data=launch["form"], timeout=15)
    assert page.status_code == 200, page.text
    config = json.loads(re.search(r'<script id="app-config" type="application/json">(.*?)</script>', page.text, re.S)[1])
    assert config["basePath"] == PREFIX
    assets = [url for url in re.findall(r'(?:src|href)="([^"]+)"', page.text) if "/static/" in url]
    assert all(url.startswith(PREFIX + "/static/") for url in assets), assets
    if MANIFEST.exists():  # the front end is built (make test builds it): its files come through nginx too
        assert assets
        for url in assets:
            assert requests.get(base.rsplit(PREFIX, 1)[0] + url, timeout=10).status_code == 200, url
    assert "X-Frame-Options" not in page.headers
    assert "frame-ancestors" in page.headers["Content-Security-Policy"]


def test_body_over_10_mb_is_refused_by_nginx(stack, base):
    headers = {"Authorization": f"Bearer {stack.login(2).token}", "Content-Type": "application/json"}
    response = requests.post(base + "/api/conferences", data=b"x" * (11 * 1024 * 1024), headers=headers, timeout=30)
    assert response.status_code == 413 and "nginx" in response.text  # nginx's own page, not the app's JSON


def test_json_is_gzipped(base):
    response = requests.get(base + "/api/openapi.json", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert response.headers.get("Content-Encoding") == "gzip"


def _location_directives(text: str) -> list[str]:
    body = re.search(r"location /telemost-bitrix/ \{(.*?)\n\s*location =", text, re.S)[1]
    lines = [line.strip() for line in body.splitlines()]
    return sorted(line for line in lines if line.startswith(("proxy_", "client_max_body_size")))


def test_snippet_has_the_headers_and_limits_of_the_full_config():
    full, snippet = NGINX_CONF.read_text(), SNIPPET.read_text()
    assert _location_directives(snippet) == _location_directives(full)
    for text in (full, snippet):
        assert "proxy_hide_header X-Frame-Options;" in text and "client_max_body_size 10m;" in text
        assert not re.search(r"^\s*add_header\s+X-Frame-Options", text, re.M | re.I)
    assert "upstream telemost_web {\n        server web:5000;" in full
    assert "upstream telemost_web" in snippet and "ADJUST" in snippet
