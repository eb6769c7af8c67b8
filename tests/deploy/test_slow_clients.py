"""Slow clients against the web as `make run` and compose start it (issue 12, finding 7).

40 sockets that send their request a byte at a time, or never finish it, held every gunicorn thread:
/health stopped answering. The web is protected by where it listens (127.0.0.1 under `make run`, the
compose network only in production) and by nginx in front, which reads whole requests before passing
them on; gunicorn's own limits (web/gunicorn.conf.py) bound what a request may be. Straight at the same
gunicorn, the same 40 sockets still stop /health (it did not answer within 10 s when this was written):
gunicorn cannot protect itself from them, which is why it listens where only nginx reaches it. Everything
here is on loopback.
"""
from __future__ import annotations

import re
import runpy
import socket
from contextlib import contextmanager
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.processes import ROOT, Process, free_port, http_ok

from .nginx_server import NGINX_CONF, PREFIX, running_nginx
from .test_dockerfiles import DOCKERFILES, arguments, stages
from .test_procfile import procfile

SLOW_SOCKETS = 40  # the review's figure; the Procfile's web has 2 workers of 8 threads
ROUNDS = 5
GUNICORN_CONFIG = "web/gunicorn.conf.py"


@pytest.fixture(scope="module")
def procfile_web(stack) -> Iterator[int]:
    """The Procfile's own web line (as `make run` starts it), on a free port, with the test stack's settings."""
    port = free_port()
    env = {**stack.env, "WEB_PORT": str(port)}
    env.pop("WEB_HOST", None)
    line = procfile(env)["web"]
    web = Process("procfile-web", ["sh", "-c", "exec " + line], env, stack.log_dir,
                  ready=http_ok(f"http://127.0.0.1:{port}/health")).start()
    try:
        yield port
    finally:
        web.stop()


@contextmanager
def slow_sockets(port: int, count: int = SLOW_SOCKETS) -> Iterator[Callable[[], None]]:
    """Sockets that never finish a request: a third send headers a byte a round, a third complete headers
    announcing a body they never send, a third say nothing. Yields a function that sends the next round."""
    dribbled = (f"GET {PREFIX}/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\nX-Slow: "
                + "x" * 64).encode()
    unfinished = (f"POST {PREFIX}/api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  "Content-Length: 100000\r\n\r\n{").encode()
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
    kinds = [("dribble", "unfinished", "silent")[i % 3] for i in range(count)]
    sent = [0] * count

    def next_round() -> None:
        for i, (sock, kind) in enumerate(zip(sockets, kinds)):
            try:
                if kind == "dribble" and sent[i] < len(dribbled):
                    sock.sendall(dribbled[sent[i]:sent[i] + 1])
                    sent[i] += 1
                elif kind == "unfinished" and sent[i] == 0:
                    sock.sendall(unfinished)
                    sent[i] = len(unfinished)
            except OSError:  # the server gave up on this one: that is allowed
                pass
    try:
        yield next_round
    finally:
        for sock in sockets:
            sock.close()


def test_slow_clients_at_nginx_do_not_stop_health(procfile_web):
    with running_nginx(procfile_web) as nginx:
        port = urlsplit(nginx["nginx.conf"]).port
        with slow_sockets(port) as next_round:
            for _ in range(ROUNDS):
                next_round()
                for base in nginx.values():
                    response = requests.get(base + "/health", timeout=10)
                    assert response.status_code == 200 and response.json()["status"] == "healthy"


def test_the_procfile_web_listens_on_this_machine_only(procfile_web):
    assert requests.get(f"http://127.0.0.1:{procfile_web}/health", timeout=10).status_code == 200
    # 127.0.0.2 is this machine too, but not the address gunicorn was bound to: a server on 0.0.0.0 answers it.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", procfile_web), timeout=5).close()


def test_the_procfile_binds_where_web_host_says(stack):
    default = procfile({k: v for k, v in stack.env.items() if k != "WEB_HOST"})["web"]
    assert f"--bind 127.0.0.1:{stack.env['WEB_PORT']} " in default and "0.0.0.0" not in default
    assert f"--bind 0.0.0.0:{stack.env['WEB_PORT']} " in procfile({**stack.env, "WEB_HOST": "0.0.0.0"})["web"]


def _head(port: int, request: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        return int(sock.recv(64).split()[1])


def test_gunicorn_refuses_request_heads_over_its_limits(procfile_web):
    limits = runpy.run_path(str(ROOT / GUNICORN_CONFIG))
    fields = "".join(f"X-Field-{i}: {i}\r\n" for i in range(limits["limit_request_fields"] + 1))
    assert _head(procfile_web, f"GET /health HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode()) in (400, 431)
    long_line = f"GET /health?{'q' * limits['limit_request_line']} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    assert _head(procfile_web, long_line) in (400, 414)
    big_field = f"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {'b' * limits['limit_request_field_size']}\r\n\r\n"
    assert _head(procfile_web, big_field.encode()) in (400, 431)
    ordinary = "".join(f"X-Field-{i}: {i}\r\n" for i in range(20))
    ordinary_head = f"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{ordinary}\r\n"
    assert _head(procfile_web, ordinary_head.encode()) == 200


def test_gunicorn_settings_are_those_of_make_run_and_the_image(stack):
    limits = runpy.run_path(str(ROOT / GUNICORN_CONFIG))
    assert {"timeout", "graceful_timeout", "keepalive", "limit_request_line", "limit_request_fields",
            "limit_request_field_size", "worker_connections"} <= set(limits)
    # nginx's upstream keepalive_timeout is shorter: nginx, not gunicorn, closes an idle connection.
    upstream = re.search(r"upstream telemost_web \{(.*?)\}", NGINX_CONF.read_text(), re.S)[1]
    assert int(re.search(r"keepalive_timeout (\d+)s;", upstream)[1]) < limits["keepalive"]
    assert f"--config {GUNICORN_CONFIG} " in procfile(stack.env)["web"]
    assert f'"--config", "{GUNICORN_CONFIG}"' in arguments(stages(DOCKERFILES["web"])[-1], "CMD")[0]
