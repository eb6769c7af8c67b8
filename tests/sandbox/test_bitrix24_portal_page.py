"""The sandbox portal around the app: install/uninstall events, the portal page, the BX24 shim and CORS
(DESIGN §6, reference/bitrix24-rest.md §1). Events go to a real local HTTP server; the two scripts run
in node with fake windows (the browser checks come elsewhere)."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from sandbox.bitrix24 import create_app, event_delivery

NOW = 1_800_000_000
APP_ORIGIN = "http://127.0.0.1:5000"
LAUNCH_FIELDS = {"AUTH_ID", "AUTH_EXPIRES", "REFRESH_ID", "SERVER_ENDPOINT", "APPLICATION_TOKEN",
                 "APPLICATION_SCOPE", "member_id", "status", "PLACEMENT", "PLACEMENT_OPTIONS"}
ASSETS = Path(__file__).resolve().parents[2] / "sandbox" / "bitrix24" / "assets"


def closed_port_url() -> str:
    """A URL nothing listens on: the port was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/bitrix/events"


@dataclass
class Receiver:
    """The app's event handler: records every POST, answers `status` / `body` after `delay` seconds."""

    root: str = ""
    hits: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: str = "ok"
    delay: float = 0.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    app = Flask("receiver")

    @app.route("/<path:path>", methods=["POST"])
    def record(path: str) -> tuple[str, int]:
        state.hits.append({"path": f"/{path}", "content_type": request.content_type,
                           "form": list(request.form.items(multi=True))})
        time.sleep(state.delay)
        return state.body, state.status

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.root = f"http://127.0.0.1:{server.server_port}/"
    yield state
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FlaskClient]:
    for name in list(os.environ):  # the defaults are under test
        if name.startswith("SANDBOX_"):
            monkeypatch.delenv(name)

    def make(**config: Any) -> FlaskClient:
        config.setdefault("app_events_url", closed_port_url())  # never some real process on :5000
        return create_app({"clock": lambda: float(NOW), **config}).test_client()

    return make


@pytest.fixture
def client(make_client: Callable[..., FlaskClient]) -> FlaskClient:
    return make_client()


@pytest.fixture
def app_client(make_client: Callable[..., FlaskClient], receiver: Receiver) -> FlaskClient:
    """The app at the receiver: events go to app_url + "bitrix/events", the default."""
    return make_client(app_url=receiver.root, app_events_url=f"{receiver.root}bitrix/events")


def current_user_id(client: FlaskClient, token: str) -> str:
    response = client.post("/rest/user.current.json", json={"auth": token})
    assert response.status_code == 200, response.json
    return response.json["result"]["ID"]


def state(client: FlaskClient) -> dict[str, Any]:
    return client.get("/_sandbox/state").json


def admin_token(client: FlaskClient) -> str:
    return client.post("/_sandbox/tokens", json={"user_id": 1}).json["access_token"]


# --- install / uninstall events (reference §1.3) ---

def bind(client: FlaskClient, event: str, handler: str) -> None:
    """What the app's installer may do before installFinish: event.bind with the admin's token."""
    bound = client.post("/rest/event.bind.json", json={"auth": admin_token(client), "event": event, "handler": handler})
    assert bound.status_code == 200, bound.json


def test_install_delivers_onappinstall_with_bracket_fields_and_usable_tokens(app_client: FlaskClient,
                                                                            receiver: Receiver) -> None:
    """ONAPPINSTALL goes to a handler the installer bound (b24restdocs api-reference/common/events/
    on-app-install.md: "The handler for this event can be set in the installation script")."""
    handler = f"{receiver.root}bitrix/events"
    bind(app_client, "ONAPPINSTALL", handler)
    answer = app_client.post("/_sandbox/install", json={"user_id": 1})
    assert answer.status_code == 200
    assert answer.json == {"installed": True, "delivered": [{"url": handler, "status": 200, "body": "ok"}]}
    [hit] = receiver.hits
    assert hit["path"] == "/bitrix/events" and hit["content_type"] == "application/x-www-form-urlencoded"
    form = dict(hit["form"])
    assert len(form) == len(hit["form"])  # no key twice
    assert {key: form.pop(key) for key in ("auth[access_token]", "auth[refresh_token]")}
    assert form == {
        "event": "ONAPPINSTALL", "data[VERSION]": "1", "data[ACTIVE]": "Y", "data[INSTALLED]": "Y",
        "data[LANGUAGE_ID]": "ru", "ts": str(NOW), "auth[expires]": str(NOW + 3600), "auth[expires_in]": "3600",
        "auth[scope]": "bizproc,calendar,crm,im,placement,user", "auth[domain]": "127.0.0.1:8082",
        "auth[server_endpoint]": "http://127.0.0.1:8082/oauth-server-ru/rest/",
        "auth[client_endpoint]": "http://127.0.0.1:8082/rest/", "auth[member_id]": "5a0db0f5c3d54b3e8f2a1c0d9e8f7a6b",
        "auth[user_id]": "1", "auth[status]": "L", "auth[application_token]": "sandbox-application-token",
    }
    tokens = dict(hit["form"])
    assert current_user_id(app_client, tokens["auth[access_token]"]) == "1"
    refreshed = app_client.post("/oauth-server-ru/oauth/token/", data={
        "grant_type": "refresh_token", "client_id": "local.sandbox.telemost", "client_secret": "sandbox-secret",
        "refresh_token": tokens["auth[refresh_token]"]})
    assert refreshed.status_code == 200 and refreshed.json["user_id"] == 1
    assert state(app_client)["installed"] is True


def test_onappinstall_reaches_only_a_bound_handler_or_the_installation_event_url(app_client: FlaskClient,
                                                                                receiver: Receiver) -> None:
    """Finding B7: unbound, nothing is sent (the install page does the work); a Market app's card may name an
    "Installation event handler URL" instead (b24restdocs settings/app-installation/installation-finish.md)."""
    assert app_client.post("/_sandbox/install", json={"user_id": 1}).json == {"installed": True, "delivered": []}
    assert receiver.hits == [] and state(app_client)["deliveries"] == []

    card_url = f"{receiver.root}market/install"
    answer = app_client.post("/_sandbox/install", json={"user_id": 1, "install_event_url": card_url})
    assert answer.json["delivered"] == [{"url": card_url, "status": 200, "body": "ok"}]
    assert [dict(hit["form"])["event"] for hit in receiver.hits] == ["ONAPPINSTALL"]
    assert app_client.post("/_sandbox/install", json={"user_id": 1, "install_event_url": "ftp://x"}).status_code == 400


@pytest.mark.parametrize(("user_id", "status"), [(2, 403), (7, 404), (99, 404), (None, 404)])
def test_only_an_active_admin_installs(app_client: FlaskClient, receiver: Receiver, user_id: Any, status: int) -> None:
    answer = app_client.post("/_sandbox/install", json={"user_id": user_id})
    assert answer.status_code == status and "error" in answer.json
    assert receiver.hits == []
    after = state(app_client)
    assert after["installed"] is False and after["deliveries"] == []


def test_uninstall_delivers_onappuninstall_without_tokens_and_revokes_the_api(app_client: FlaskClient,
                                                                               receiver: Receiver) -> None:
    app_client.post("/_sandbox/install", json={"user_id": 1})
    launch = app_client.post("/_sandbox/launch", json={"user_id": 3}).json["form"]
    admin = admin_token(app_client)
    bound = app_client.post("/rest/event.bind.json", json={"auth": admin, "event": "ONCALENDARENTRYADD",
                                                           "handler": f"{receiver.root}bitrix/events"})
    assert bound.status_code == 200 and state(app_client)["event_handlers"]

    answer = app_client.post("/_sandbox/uninstall", json={"clean": 1})
    assert answer.status_code == 200
    assert answer.json == {"installed": False, "delivered": {"status": 200, "body": "ok"}}
    form = dict(receiver.hits[-1]["form"])
    assert form == {
        "event": "ONAPPUNINSTALL", "data[LANGUAGE_ID]": "ru", "data[CLEAN]": "1", "ts": str(NOW),
        "auth[domain]": "127.0.0.1:8082", "auth[server_endpoint]": "http://127.0.0.1:8082/oauth-server-ru/rest/",
        "auth[client_endpoint]": "http://127.0.0.1:8082/rest/", "auth[member_id]": "5a0db0f5c3d54b3e8f2a1c0d9e8f7a6b",
        "auth[application_token]": "sandbox-application-token",
    }
    for token in (admin, launch["AUTH_ID"]):
        gone = app_client.post("/rest/user.current.json", json={"auth": token})
        assert (gone.status_code, gone.json["error"]) == (401, "invalid_token")
    refresh = app_client.post("/oauth-server-ru/oauth/token/", data={
        "grant_type": "refresh_token", "client_id": "local.sandbox.telemost", "client_secret": "sandbox-secret",
        "refresh_token": launch["REFRESH_ID"]})
    assert (refresh.status_code, refresh.json["error"]) == (400, "invalid_grant")
    after = state(app_client)
    assert after["installed"] is False and after["event_handlers"] == []
    assert app_client.post("/rest/1/sandboxwebhook/user.current.json").status_code == 200  # not the app's


def test_uninstall_checks_clean(app_client: FlaskClient, receiver: Receiver) -> None:
    assert app_client.post("/_sandbox/uninstall", json={"clean": 2}).status_code == 400
    assert app_client.post("/_sandbox/uninstall", json={"clean": True}).status_code == 400
    assert receiver.hits == []
    assert app_client.post("/_sandbox/uninstall", json={}).status_code == 200
    assert dict(receiver.hits[0]["form"])["data[CLEAN]"] == "0"


def test_a_failed_delivery_is_reported_not_raised(client: FlaskClient) -> None:
    answer = client.post("/_sandbox/install", json={"user_id": 1, "install_event_url": closed_port_url()})
    assert answer.status_code == 200 and answer.json["installed"] is True
    [delivered] = answer.json["delivered"]
    assert delivered["status"] is None and "ConnectionRefused" in delivered["error"]
    [logged] = state(client)["deliveries"]
    assert logged["event"] == "ONAPPINSTALL" and logged["status"] is None and logged["error"]


def test_an_error_answer_is_reported_with_its_status_and_500_characters(app_client: FlaskClient,
                                                                        receiver: Receiver) -> None:
    receiver.status, receiver.body = 500, "x" * 2000
    url = f"{receiver.root}bitrix/events"
    delivered = app_client.post("/_sandbox/install", json={"user_id": 1, "install_event_url": url}).json["delivered"]
    assert delivered == [{"url": url, "status": 500, "body": "x" * 500}]


def test_a_slow_app_times_out_and_is_reported(app_client: FlaskClient, receiver: Receiver,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_delivery, "DELIVERY_TIMEOUT_S", 0.2)
    receiver.delay = 1.0
    delivered = app_client.post("/_sandbox/uninstall", json={}).json["delivered"]
    assert delivered["status"] is None and "timed out" in delivered["error"]


def test_state_keeps_the_last_50_deliveries_and_reset_forgets_the_install(client: FlaskClient) -> None:
    client.post("/_sandbox/install", json={"user_id": 1})
    for _ in range(50):
        client.post("/_sandbox/uninstall", json={})
    deliveries = state(client)["deliveries"]
    assert len(deliveries) == 50 and {d["event"] for d in deliveries} == {"ONAPPUNINSTALL"}
    assert set(deliveries[0]) == {"event", "url", "status", "error"}
    client.post("/_sandbox/install", json={"user_id": 1, "install_event_url": closed_port_url()})
    assert state(client)["installed"] is True and state(client)["deliveries"][-1]["event"] == "ONAPPINSTALL"
    client.post("/_sandbox/reset")
    assert (state(client)["installed"], state(client)["deliveries"]) == (False, [])


def test_other_events_go_to_the_bound_handlers_once_installed(app_client: FlaskClient, receiver: Receiver) -> None:
    event = {"event": "ONCALENDARENTRYUPDATE", "data": {"FIELDS": {"ID": "5"}}}
    assert app_client.post("/_sandbox/events", json=event).status_code == 409
    app_client.post("/_sandbox/install", json={"user_id": 1})
    handler = f"{receiver.root}calendar/hook"
    app_client.post("/rest/event.bind.json", json={"auth": admin_token(app_client), "event": "ONCALENDARENTRYUPDATE",
                                                   "handler": handler})
    answer = app_client.post("/_sandbox/events", json={**event, "user_id": 2})
    assert answer.json == {"event": "ONCALENDARENTRYUPDATE",
                           "delivered": [{"url": handler, "status": 200, "body": "ok"}]}
    form = dict(receiver.hits[-1]["form"])
    assert (form["event"], form["data[FIELDS][ID]"], form["auth[user_id]"]) == ("ONCALENDARENTRYUPDATE", "5", "2")
    assert current_user_id(app_client, form["auth[access_token]"]) == "2"
    assert app_client.post("/_sandbox/events", json={"event": "ONNOTHING"}).status_code == 400


def test_the_events_url_follows_app_url_unless_set(make_client: Callable[..., FlaskClient],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    derived = create_app({"app_url": "https://app.example.com/b24/"}).test_client()
    assert state(derived)["config"]["app_events_url"] == "https://app.example.com/b24/bitrix/events"
    monkeypatch.setenv("SANDBOX_BITRIX24_APP_EVENTS_URL", "http://hooks.example.com/in")
    assert state(create_app().test_client())["config"]["app_events_url"] == "http://hooks.example.com/in"


# --- the portal page ---

class Page(HTMLParser):
    """What a test reads off the portal page: options, forms with their hidden inputs, iframes, ids, text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.options: list[tuple[str, str]] = []
        self.forms: dict[str, dict[str, Any]] = {}
        self.iframes: list[dict[str, str | None]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.config: dict[str, Any] = {}
        self._open: str | None = None
        self._form: dict[str, Any] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag == "form":
            self._form = {**attributes, "inputs": {}}
            self.forms[str(attributes.get("id"))] = self._form
        elif tag == "input" and self._form is not None and attributes.get("type") == "hidden":
            self._form["inputs"][attributes["name"]] = attributes["value"]
        elif tag == "iframe":
            self.iframes.append(attributes)
        self._open = f"{tag}#{attributes.get('value') or attributes.get('id') or ''}"

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None

    def handle_data(self, data: str) -> None:
        if self._open and self._open.startswith("option#"):
            self.options.append((self._open[len("option#"):], data.strip()))
        elif self._open == "script#portal-config":
            self.config = json.loads(data)
        self.text.append(data)
        self._open = None

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def page(client: FlaskClient, query: str = "") -> Page:
    response = client.get(f"/{query}")
    assert response.status_code == 200 and response.content_type.startswith("text/html")
    return Page(response.get_data(as_text=True))


def test_the_page_has_the_header_a_switcher_of_every_active_user_and_the_app_frame(client: FlaskClient) -> None:
    client.post("/_sandbox/users", json={"name": "Nina", "last_name": "Orlova", "email": "nina@example.com"})
    shown = page(client)
    assert "Sandbox Bitrix24 portal 127.0.0.1:8082" in shown.all_text
    assert shown.options == [("1", "Ivan Petrov (admin)"), ("2", "Anna Smirnova"), ("3", "Sergey Ivanov"),
                             ("4", "Olga Kuznetsova"), ("5", "Dmitry Sokolov"), ("6", "Maria Popova"),
                             ("8", "Nina Orlova")]  # Pavel Volkov (7) is fired
    switcher = shown.forms["user-switcher"]
    assert (switcher["method"], switcher["action"]) == ("get", "/")
    assert [frame["name"] for frame in shown.iframes] == ["app-frame"]
    assert client.get("/?user_id=7").status_code == 404 and client.get("/?user_id=99").status_code == 404


def test_an_admin_of_a_not_installed_app_gets_the_installer_by_a_real_launch_post(client: FlaskClient) -> None:
    shown = page(client)  # the first admin by default
    form = shown.forms["launch-form"]
    action = urlsplit(form["action"])
    assert (form["method"], form["target"]) == ("post", "app-frame")
    assert f"{action.scheme}://{action.netloc}{action.path}" == f"{APP_ORIGIN}/install"
    query = {key: values[0] for key, values in parse_qs(action.query).items()}
    assert set(query) == {"DOMAIN", "PROTOCOL", "LANG", "APP_SID"} and query["DOMAIN"] == "127.0.0.1:8082"
    assert set(form["inputs"]) == LAUNCH_FIELDS and form["inputs"]["PLACEMENT"] == "DEFAULT"
    assert current_user_id(client, form["inputs"]["AUTH_ID"]) == "1"
    config = shown.config
    assert (config["app_sid"], config["installing"], config["app_origin"]) == (query["APP_SID"], True, APP_ORIGIN)
    assert config["auth"]["access_token"] == form["inputs"]["AUTH_ID"] and config["user"]["is_admin"] is True
    assert page(client).config["app_sid"] != config["app_sid"]  # each opening is a new launch


def test_anyone_else_is_told_the_app_is_not_fully_installed(client: FlaskClient) -> None:
    shown = page(client, "?user_id=2")
    assert "The application is not fully installed yet" in shown.all_text
    assert "launch-form" not in shown.forms and shown.iframes == []
    assert shown.config["auth"] is None and shown.config["app_sid"] is None


def test_once_installed_the_chosen_user_gets_the_app_itself(client: FlaskClient) -> None:
    client.post("/_sandbox/install", json={"user_id": 1, "install_event_url": closed_port_url()})
    shown = page(client, "?user_id=3")
    form = shown.forms["launch-form"]
    assert form["action"].startswith(f"{APP_ORIGIN}/?DOMAIN=127.0.0.1%3A8082&PROTOCOL=0&LANG=ru&APP_SID=")
    assert current_user_id(client, form["inputs"]["AUTH_ID"]) == "3"
    assert (shown.config["installing"], shown.config["user"]["id"]) == (False, 3)
    assert "uninstall-form" in shown.forms and "ONAPPINSTALL" in shown.all_text  # the delivery log


def test_refresh_auth_gives_a_fresh_pair_in_getauth_shape(client: FlaskClient) -> None:
    fresh = client.post("/_sandbox/refresh_auth", json={"user_id": 4}).json
    assert set(fresh) == {"access_token", "refresh_token", "expires_in", "domain", "member_id"}
    assert (fresh["expires_in"], fresh["domain"]) == (3600, "127.0.0.1:8082")
    assert current_user_id(client, fresh["access_token"]) == "4"
    assert client.post("/_sandbox/refresh_auth", json={"user_id": 7}).status_code == 404


# --- CORS for the shim's calls from the app's origin ---

def preflight(client: FlaskClient, path: str, origin: str) -> Any:
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "content-type"})


def test_rest_answers_cors_for_the_app_origin_only(client: FlaskClient) -> None:
    allowed = preflight(client, "/rest/user.current.json", APP_ORIGIN)
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"].lower()
    foreign = preflight(client, "/rest/user.current.json", "http://evil.example")
    assert "Access-Control-Allow-Origin" not in foreign.headers
    call = client.post("/rest/user.current.json", json={"auth": admin_token(client)}, headers={"Origin": APP_ORIGIN})
    assert call.headers["Access-Control-Allow-Origin"] == APP_ORIGIN and "Origin" in call.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in client.get("/_sandbox/state", headers={"Origin": APP_ORIGIN}).headers
    assert state(client)["requests"] == {"user.current": 1, "total": 1}  # the preflights were not calls


def test_the_allowed_origin_follows_app_url(make_client: Callable[..., FlaskClient]) -> None:
    client = make_client(app_url="https://app.example.com/b24/")
    assert preflight(client, "/rest/batch", "https://app.example.com").headers["Access-Control-Allow-Origin"] == \
        "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in preflight(client, "/rest/batch", APP_ORIGIN).headers


# --- the scripts: served, and run in node with fake windows ---

SHIM_NAMES = ("init", "getAuth", "refreshAuth", "callMethod", "callBatch", "fitWindow", "resizeWindow",
              "setTitle", "openPath", "installFinish", "selectUsers", "selectUser", "isAdmin", "getLang", "placement", "closeApplication")
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

# Loads a script into a fresh context whose `window` the scenario builds; `out(value)` prints the result.
NODE_PRELUDE = r"""
const vm = require("vm"), fs = require("fs");
const SOURCE = fs.readFileSync(process.argv[1], "utf8");
const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms || 0));
function load(window, extra) {
  vm.runInNewContext(SOURCE, Object.assign({window, URLSearchParams, setTimeout, clearTimeout}, extra || {}));
  return window;
}
function fakeWindow(search) {
  const win = {location: {search: search || ""}, listeners: [],
               addEventListener(type, listener) { if (type === "message") win.listeners.push(listener); }};
  win.parent = win;
  win.dispatch = (event) => win.listeners.forEach((listener) => listener(event));
  return win;
}
const out = (value) => process.stdout.write(JSON.stringify(value));
"""


def run_node(script: str, scenario: str) -> Any:
    done = subprocess.run(["node", "-e", NODE_PRELUDE + scenario, str(ASSETS / script)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_shim_is_served_as_javascript_and_defines_every_function(client: FlaskClient) -> None:
    response = client.get("/_sandbox/bx24.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    text = response.get_data(as_text=True)
    assert "window.BX24 = {" in text
    for name in SHIM_NAMES:
        assert f"\n    {name}: " in text, name
    assert "info: function" in text
    assert client.get("/_sandbox/portal.js").mimetype == "text/javascript"


@needs_node
def test_the_shim_runs_standalone_without_auth() -> None:
    result = run_node("bx24.js", r"""
    const BX24 = load(fakeWindow("")).BX24;
    const before = BX24.getAuth();
    let called = false;
    BX24.init(() => { called = true; });
    tick(50).then(() => out({names: Object.keys(BX24), called, before, after: BX24.getAuth(), admin: BX24.isAdmin(),
                             placement: BX24.placement.info()}));
    """)
    assert set(SHIM_NAMES) <= set(result["names"])
    assert result["called"] is True and result["before"] is False and result["after"] is False
    assert result["admin"] is False and result["placement"] == {"placement": "DEFAULT", "options": {}}


# The portal page as a fake parent: answers init and refreshAuth, answers the first init only after a
# forged answer from another origin and one with another APP_SID, which the shim must ignore.
FRAMED_SHIM = r"""
const PORTAL = "http://127.0.0.1:8082", sent = [], fetched = [];
const parent = {postMessage(message, targetOrigin) {
  sent.push({cmd: message.cmd, targetOrigin, sid: message.sid});
  const reply = (result, origin, sid) => win.dispatch({origin: origin || PORTAL, source: parent,
    data: {protocol: "bx24-sandbox", sid: sid || message.sid, id: message.id, result}});
  const auth = (token) => ({auth: {access_token: token, refresh_token: "r-" + token, expires_in: 3600,
                                  domain: "127.0.0.1:8082", member_id: "m"}, client_endpoint: PORTAL + "/rest/",
                           lang: "ru", is_admin: true, placement: "DEFAULT", placement_options: {}});
  setTimeout(() => {
    if (message.cmd === "init") {
      reply(auth("forged"), "http://evil.example");
      reply(auth("forged"), PORTAL, "another-sid");
      reply(auth("good"));
    } else if (message.cmd === "refreshAuth") reply(auth("renewed"));
    else if (message.cmd === "selectUsers") reply([{id: "2", name: "Anna Smirnova"}]);
    else if (message.cmd === "selectUser") reply(null);
    else if (message.cmd === "resize") reply({height: message.args.height + "px"});
  }, 1);
}};
const win = fakeWindow("?DOMAIN=127.0.0.1%3A8082&PROTOCOL=0&LANG=ru&APP_SID=sid-1");
win.parent = parent;
const answers = [];
win.fetch = (url, options) => {
  const body = JSON.parse(options.body);
  fetched.push({url, body});
  const answer = answers.shift();
  return Promise.resolve({status: answer[0], json: () => Promise.resolve(answer[1])});
};
const BX24 = load(win).BX24;
const call = (method, params) => new Promise((resolve) => BX24.callMethod(method, params, resolve));
"""


@needs_node
def test_the_framed_shim_takes_auth_only_from_the_portal_with_its_app_sid() -> None:
    result = run_node("bx24.js", FRAMED_SHIM + r"""
    BX24.init(async () => {
      const auth = BX24.getAuth();
      answers.push([200, {result: {ID: "1"}, total: 7, next: 50}]);
      const ok = await call("user.current", {});
      answers.push([401, {error: "expired_token", error_description: "expired"}], [200, {result: true}]);
      const renewed = await call("user.admin");
      answers.push([400, {error: "", error_description: "Invalid date"}]);
      const failed = await call("calendar.event.add", {name: "x"});
      answers.push([200, {result: {result: [[{ID: "1"}]], result_total: [1], result_next: [], result_time: [],
                                   result_error: {"1": {error: "ERROR_X", error_description: "bad"}}}}]);
      const batch = await new Promise((resolve) => BX24.callBatch(
        [["user.get", {FILTER: {ID: 1}}], {method: "user.admin", params: {flag: true}}], resolve, true));
      const picked = await new Promise((resolve) => BX24.selectUsers(resolve));
      let single = "not called";
      BX24.selectUser((user) => { single = user; });
      const fitted = await new Promise((resolve) => BX24.fitWindow(resolve));
      await tick(20);
      out({auth, sent, fetched, lang: BX24.getLang(), admin: BX24.isAdmin(), after: BX24.getAuth().access_token,
           ok: [ok.data(), ok.error(), ok.more(), ok.total()], renewed: renewed.data(),
           failed: [failed.error().status, failed.error().ex, failed.data()],
           batch: [batch[0].data(), batch[0].total(), batch[1].error().ex.error], picked, single, fitted});
    });
    """)
    expires_in = result["auth"].pop("expires_in")
    assert result["auth"] == {"access_token": "good", "refresh_token": "r-good", "domain": "127.0.0.1:8082",
                              "member_id": "m"}
    assert expires_in in (3599, 3600)
    assert {(m["targetOrigin"], m["sid"]) for m in result["sent"]} == {("http://127.0.0.1:8082", "sid-1")}
    assert [m["cmd"] for m in result["sent"]] == ["init", "refreshAuth", "selectUsers", "selectUser", "resize"]
    assert (result["lang"], result["admin"], result["after"]) == ("ru", True, "renewed")
    urls = [f["url"] for f in result["fetched"]]
    assert urls == ["http://127.0.0.1:8082/rest/user.current.json", "http://127.0.0.1:8082/rest/user.admin.json",
                    "http://127.0.0.1:8082/rest/user.admin.json", "http://127.0.0.1:8082/rest/calendar.event.add.json",
                    "http://127.0.0.1:8082/rest/batch.json"]
    assert [f["body"]["auth"] for f in result["fetched"]] == ["good", "good", "renewed", "renewed", "renewed"]
    assert result["ok"] == [{"ID": "1"}, None, True, 7] and result["renewed"] is True
    assert result["failed"] == [400, {"error": "", "error_description": "Invalid date"}, None]
    assert result["fetched"][-1]["body"]["cmd"] == ["user.get?FILTER%5BID%5D=1", "user.admin?flag=1"]
    assert result["fetched"][-1]["body"]["halt"] == 1
    assert result["batch"] == [[{"ID": "1"}], 1, "ERROR_X"]
    assert result["picked"] == [{"id": "2", "name": "Anna Smirnova"}] and result["single"] == "not called"
    assert result["fitted"] == {"height": "0px"}


# The portal page's script over a fake DOM, with the config the page really renders.
PORTAL_DOM = r"""
const config = JSON.parse(process.argv[2]);
class Element {
  constructor(props) { Object.assign(this, {style: {}, hidden: false, children: [], listeners: {}, _text: ""}, props); }
  get textContent() { return this._text; }
  set textContent(value) { this._text = value; this.children = []; }
  addEventListener(type, listener) { this.listeners[type] = listener; }
  appendChild(child) { this.children.push(child); return child; }
  querySelector() { return this.select || (this.select = new Element()); }
  submit() { this.submitted = true; }
  focus() {}
}
const appWindow = {posted: [], postMessage(message, origin) { this.posted.push({message, origin}); }};
const elements = {"portal-config": new Element({_text: JSON.stringify(config)}),
                  "app-frame": new Element({contentWindow: appWindow})};
["launch-form", "user-switcher", "origin-warning", "portal-status", "picker", "picker-search", "picker-list",
 "picker-ok", "picker-cancel", "picker-title", "app-title", "slider", "slider-path", "slider-close"].forEach((id) => {
  elements[id] = new Element({hidden: id === "origin-warning"});
});
elements["picker-search"].value = "";
const document = {getElementById: (id) => elements[id] || null, createElement: (tag) => new Element({tag}),
                  createTextNode: (text) => ({text})};
const fetched = [];
const win = fakeWindow("");
win.location.origin = config.portal_origin;
win.location.reload = () => { win.reloaded = true; };
win.fetch = (path, options) => {
  fetched.push({path, body: JSON.parse(options.body)});
  const answer = {access_token: "fresh", refresh_token: "r", expires_in: 3600, domain: "d", member_id: "m"};
  return Promise.resolve({ok: true, status: 200, json: () => Promise.resolve(answer)});
};
load(win, {document});
const frame = elements["app-frame"];
const ask = (cmd, args, overrides) => win.dispatch(Object.assign({origin: config.app_origin, source: appWindow,
  data: {protocol: "bx24-sandbox", sid: config.app_sid, id: cmd, cmd, args}}, overrides || {}));
"""


def run_portal_script(client: FlaskClient, query: str, scenario: str) -> Any:
    config = page(client, query).config
    done = subprocess.run(["node", "-e", NODE_PRELUDE + PORTAL_DOM + scenario, str(ASSETS / "portal.js"),
                           json.dumps(config)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return {"config": config, **json.loads(done.stdout)}


@needs_node
def test_the_page_launches_and_answers_only_its_own_frame_with_its_app_sid(client: FlaskClient) -> None:
    result = run_portal_script(client, "?user_id=1", r"""
    ask("init", {}, {origin: "http://evil.example"});
    ask("init", {}, {data: {protocol: "bx24-sandbox", sid: "guessed", id: 1, cmd: "init"}});
    const stranger = {posted: [], postMessage(message) { this.posted.push(message); }};
    ask("init", {}, {source: stranger});
    ask("constructor", {});
    const ignored = appWindow.posted.length + stranger.posted.length;
    ask("init", {});
    ask("resize", {width: "100%", height: 1234});
    ask("resize", {height: "expression(alert(1))"});
    ask("refreshAuth", {});
    ask("selectUser", {});
    elements["picker-list"].children[1].onclick();
    ask("installFinish", {});
    tick(20).then(() => out({launched: elements["launch-form"].submitted === true, ignored, posted: appWindow.posted,
                             height: frame.style.height, width: frame.style.width, fetched,
                             reloaded: win.reloaded === true, warning: elements["origin-warning"].hidden === false,
                             picker: elements.picker.hidden}));
    """)
    config = result["config"]
    assert result["launched"] is True and result["ignored"] == 0 and result["warning"] is False
    replies = {item["message"]["id"]: item for item in result["posted"]}
    assert {item["origin"] for item in result["posted"]} == {config["app_origin"]}
    assert all(item["message"]["sid"] == config["app_sid"] for item in result["posted"])
    init = replies["init"]["message"]["result"]
    assert init["auth"]["access_token"] == config["auth"]["access_token"]
    assert (init["is_admin"], init["lang"], init["placement"], init["client_endpoint"]) == \
        (True, "ru", "DEFAULT", "http://127.0.0.1:8082/rest/")
    assert (result["height"], result["width"]) == ("1234px", "100%")
    assert replies["refreshAuth"]["message"]["result"]["auth"]["access_token"] == "fresh"
    assert replies["selectUser"]["message"]["result"] == {"id": "2", "name": "Anna Smirnova"}
    assert result["picker"] is True  # closed after the choice
    assert result["fetched"] == [{"path": "/_sandbox/refresh_auth", "body": {"user_id": 1}},
                                 {"path": "/_sandbox/install", "body": {"user_id": 1}}]
    assert result["reloaded"] is True


@needs_node
def test_the_frame_title_and_a_portal_path_in_a_slider(client: FlaskClient) -> None:
    """b24restdocs sdk/bx24-js-sdk/additional-functions/bx24-set-title.md (the heading of the app's
    container, made a string) and bx24-open-path.md (a path of the same portal, starting with "/", opened in
    a slider, the SDK adding from=rest_placement&from_app; the callback hears of an error or of the close)."""
    elements = ["app-title", "slider", "slider-path"]
    result = run_portal_script(client, "?user_id=1", r"""
    elements.slider.hidden = true;
    ask("setTitle", {title: "Планёрка"});
    ask("openPath", {path: "https://evil.example/"});
    ask("openPath", {path: "//evil.example/"});
    const refused = appWindow.posted.map((item) => item.message.result);
    ask("openPath", {path: "/company/personal/user/2/calendar/?EVENT_ID=7"});
    const opened = {hidden: elements.slider.hidden, path: elements["slider-path"]._text};
    elements["slider-close"].onclick();
    tick(20).then(() => out({title: elements["app-title"]._text, refused, opened, closed: elements.slider.hidden,
                             last: appWindow.posted[appWindow.posted.length - 1].message.result}));
    """)
    assert result["title"] == "Планёрка"
    assert result["refused"][1:] == [{"result": "error", "errorCode": "PATH_NOT_ALLOWED"}] * 2
    assert result["opened"]["hidden"] is False
    assert result["opened"]["path"] == ("/company/personal/user/2/calendar/?EVENT_ID=7"
                                        "&from=rest_placement&from_app=local.sandbox.telemost")
    assert result["closed"] is True and result["last"] == {"result": "close"}
    html = client.get("/?user_id=1").get_data(as_text=True)  # portal.html holds every element the scenario uses
    assert all(f'id="{name}"' in html for name in [*elements, "slider-close"])


@needs_node
def test_install_finish_is_ignored_once_installed(client: FlaskClient) -> None:
    client.post("/_sandbox/install", json={"user_id": 1})
    result = run_portal_script(client, "", r"""
    ask("installFinish", {});
    tick(20).then(() => out({fetched, reloaded: win.reloaded === true}));
    """)
    assert result["fetched"] == [] and result["reloaded"] is False
