"""Many Bitrix24 portals in one process, and the one OAuth server that serves them all.

    gunicorn $(python -m sandbox.bitrix24.portals --binds) 'sandbox.bitrix24.portals:create_app()'

Portal n (1..SANDBOX_BITRIX24_PORTALS) is a whole emulated portal of its own (app.create_app: its own tokens,
users, calendar, leaky bucket, member_id, application token, faults and /_sandbox/ routes) at
http://127.0.0.n:<SANDBOX_BITRIX24_PORT>/: every address of 127.0.0.0/8 is the loopback on Linux, so each
portal has a host of its own on one port, the process listens on each (one --bind each) and a request goes
to the portal its Host names. Portal 1 is at 127.0.0.1:<port>, where the app's sandbox settings expect the
emulator (shared/config.py), with the single-portal emulator's member_id and application token.

Bitrix24 has one OAuth server for every portal (b24restdocs settings/oauth/index.md: oauth.bitrix.info is
"the holder of the application's authorization; only it issues and renews tokens", and answers each with
the portal's member_id and client_endpoint). So here: /oauth-server*/ on 127.0.0.1:<port>, the host the app
trusts in sandbox mode, answers for a token of any portal, in process (oauth_server.oauth_blueprint of all
the portals), and every portal names it as its SERVER_ENDPOINT (Settings.oauth_root). The same host's
GET /_sandbox/portals sums up every portal (its domain, member_id, bucket and QUERY_LIMIT_EXCEEDED count).
"""

from __future__ import annotations

import argparse
import hashlib
import os
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from flask import Flask, jsonify
from werkzeug.exceptions import NotFound

from .app import create_app as create_portal
from .oauth_server import oauth_blueprint
from .portal import Portal
from .settings import ENV_PREFIX, OAUTH_SERVERS, load_settings

COUNT_ENV = ENV_PREFIX + "PORTALS"
MAX_PORTALS = 254  # 127.0.0.1 .. 127.0.0.254
OAUTH_PATHS = tuple(prefix + "/" for prefix, _ in OAUTH_SERVERS.values())

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def host_of(n: int, port: int) -> str:
    return f"127.0.0.{n}:{port}"


def portal_config(n: int, port: int) -> dict[str, Any]:
    """What sets portal n apart; portal 1 keeps the single-portal emulator's member_id and application token."""
    config: dict[str, Any] = {
        "public_url": f"http://{host_of(n, port)}",
        "oauth_root": f"http://{host_of(1, port)}",
    }
    if n > 1:
        config["member_id"] = hashlib.md5(f"sandbox-portal-{n}".encode()).hexdigest()  # 32 hex, as real ones
        config["application_token"] = f"sandbox-application-token-{n}"
    return config


def count_from_env(environ: dict[str, str] | None = None) -> int:
    raw = (os.environ if environ is None else environ).get(COUNT_ENV, "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PORTALS:
        raise SystemExit(f"{COUNT_ENV} must be a whole number from 1 to {MAX_PORTALS}, got {raw!r}")
    return int(raw)


def port_from_settings(config: dict[str, Any] | None = None) -> int:
    """The port of the emulator's public_url (SANDBOX_BITRIX24_PORT, else the default 8082)."""
    parts = urlsplit(load_settings(config).public_url)
    if parts.hostname != "127.0.0.1" or parts.port is None:
        raise SystemExit("the many-portal emulator runs on 127.0.0.n:<SANDBOX_BITRIX24_PORT>")
    return parts.port


class ManyPortals:
    """The WSGI app: the OAuth server's paths on portal 1's host, everything else to the portal of the Host."""

    def __init__(self, count: int, port: int, config: dict[str, Any] | None = None) -> None:
        self.port = port
        self.apps: dict[str, Flask] = {}
        for n in range(1, count + 1):
            self.apps[host_of(n, port)] = create_portal({**(config or {}), **portal_config(n, port)})
        self.portals: list[Portal] = [app.extensions["bitrix24_portal"] for app in self.apps.values()]
        self.oauth_host = host_of(1, port)
        self.oauth = oauth_app(self.portals)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        return self.app_for(environ)(environ, start_response)

    def app_for(self, environ: dict) -> WsgiApp:
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        path = environ.get("PATH_INFO", "")
        if host == self.oauth_host and (path.startswith(OAUTH_PATHS) or path == "/_sandbox/portals"):
            return self.oauth.wsgi_app
        app = self.apps.get(host)
        return app.wsgi_app if app is not None else NotFound(f"no portal at {host}")


def oauth_app(portals: list[Portal]) -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False
    app.register_blueprint(oauth_blueprint(*portals))

    @app.get("/_sandbox/portals")
    def summary():
        return jsonify([portal_summary(portal) for portal in portals])

    return app


def portal_summary(portal: Portal) -> dict[str, Any]:
    with portal.lock:
        return {
            "domain": portal.settings.domain,
            "member_id": portal.settings.member_id,
            "installed": portal.installed,
            "bucket": {"level": round(portal.bucket.level, 3), "capacity": portal.bucket.capacity},
            "rejected": dict(portal.rejected),
            "requests": portal.request_log.snapshot(),
        }


def create_app(count: int | None = None, config: dict[str, Any] | None = None) -> ManyPortals:
    """count: how many portals (SANDBOX_BITRIX24_PORTALS unless given); config: as app.create_app's, for all."""
    return ManyPortals(count or count_from_env(), port_from_settings(config), config)


def binds(count: int, port: int) -> list[str]:
    """gunicorn's options to listen on every portal's host."""
    return [option for n in range(1, count + 1) for option in ("--bind", host_of(n, port))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description="print gunicorn's --bind options for the many-portal emulator"
    )
    parser.add_argument("--binds", action="store_true", required=True)
    parser.parse_args()
    print(" ".join(binds(count_from_env(), port_from_settings())))


if __name__ == "__main__":
    main()
