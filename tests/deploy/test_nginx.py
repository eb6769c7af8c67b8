"""nginx/nginx.conf and nginx/telemost-bitrix.conf in a real nginx, in front of the test session's web server
(tests/deploy/nginx_server.py)."""
from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import pytest
import requests

from web.frontend import MANIFEST

from .nginx_server import NGINX_CONF, PREFIX, SNIPPET, running_nginx


@pytest.fixture(autouse=True)
def _fresh_sandbox(clean_sandbox):
    yield


@pytest.fixture(scope="module")
def nginx(stack):
    with running_nginx(int(stack.web_url.rsplit(":", 1)[1])) as urls:
        yield urls


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


# --- /metrics: the monitoring network only (issue 12, finding 6) -----------------------------------------------

ALLOWED, OTHER = "127.0.0.1", "127.0.0.2"  # the config allows 127.0.0.1; 127.0.0.2 is loopback too, not allowed
# The same path as nginx normalises it before choosing a location: each must meet the same rule.
METRICS_PATHS = ("/metrics", "//metrics", "/%6Detrics", "/./metrics", "/health/../metrics")


def _get_from(source: str, url: str) -> tuple[int, str]:
    """GET with the connection's source address chosen (both are on loopback: nothing leaves this machine)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", parts.path)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def test_metrics_are_refused_to_an_address_outside_the_monitoring_network(base):
    for path in METRICS_PATHS:
        status, body = _get_from(OTHER, base + path)
        assert status in (403, 404) and "telemost_" not in body, (path, status)
    assert _get_from(OTHER, base + "/health")[0] == 200  # the address does reach the app otherwise


def test_metrics_are_served_to_the_monitoring_network(base):
    status, body = _get_from(ALLOWED, base + "/metrics")
    assert status == 200 and "telemost_http_request_seconds" in body


def _metrics_location(text: str) -> list[str]:
    body = re.search(r"location = /telemost-bitrix/metrics \{(.*?)\}", text, re.S)[1]
    return [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_snippet_guards_metrics_as_the_full_config_does():
    full, snippet = _metrics_location(NGINX_CONF.read_text()), _metrics_location(SNIPPET.read_text())
    assert full == snippet and full[-3:-1] == ["deny all;", "proxy_pass http://telemost_web;"]
    assert all(line.startswith("allow ") for line in full[:-3])


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
