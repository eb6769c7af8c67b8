"""A real nginx with nginx/nginx.conf and nginx/telemost-bitrix.conf, in front of a web server of the tests.

The test config is nginx/nginx.conf with only what a test run needs changed: the listen port, the
upstream address (the web under test), no TLS, and pid, logs and temp files in a temp folder, so that
it runs as any user without touching /var. A second server on another port includes the snippet.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.processes import ROOT, free_port, wait_until

NGINX_CONF = ROOT / "nginx" / "nginx.conf"
SNIPPET = ROOT / "nginx" / "telemost-bitrix.conf"
PREFIX = "/telemost-bitrix"


def nginx_binary() -> str:
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


def config_for_test(tmp: Path, web_port: int, port: int, snippet_port: int) -> str:
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


@contextmanager
def running_nginx(web_port: int) -> Iterator[dict[str, str]]:
    """{config file name: base URL of the prefix} for nginx.conf's server and the snippet's."""
    binary = nginx_binary()
    tmp = Path(tempfile.mkdtemp(prefix="nginx-test-"))
    tmp.chmod(0o755)  # nginx's workers run as nobody when the tests run as root
    ports = {"nginx.conf": free_port(), "telemost-bitrix.conf": free_port()}
    (tmp / "nginx.conf").write_text(config_for_test(tmp, web_port, ports["nginx.conf"], ports["telemost-bitrix.conf"]))
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
