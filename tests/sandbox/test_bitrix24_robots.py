"""The emulated automation rules (sandbox/bitrix24/robots.py and robot_runs.py), held to b24restdocs api-reference/bizproc/bizproc-robot/.

Robot calls go to a real local HTTP server (http.server in a thread), as the portal's queue server POSTs them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient

from sandbox.bitrix24 import create_app
from sandbox.bitrix24.params import parse_php_query

from . import test_bitrix24_emulator
from .conftest import FakeClock
from .test_bitrix24_emulator import assert_error, call, hook, state, token_for

client = test_bitrix24_emulator.client  # the emulator tests' fixture: the portal on a fake clock
HANDLER = "http://127.0.0.1:5000/bitrix/robot"  # on app_url's host, as bizproc-robot-add.md requires
PROPERTIES = {
    "topic": {"Name": {"ru": "Тема", "en": "Topic"}, "Type": "string", "Required": "Y"},
    "host": {"Name": "Host", "Type": "user"},
    "guests": {"Name": "Guests", "Type": "user", "Multiple": "Y"},
}
ROBOT = {
    "CODE": "telemost_meeting",
    "HANDLER": HANDLER,
    "AUTH_USER_ID": 1,
    "NAME": {"ru": "Встреча в Телемосте", "en": "Telemost meeting"},
    "PROPERTIES": PROPERTIES,
    "RETURN_PROPERTIES": {"join_url": {"Name": "Join URL", "Type": "string"}},
    "FILTER": {"INCLUDE": [["crm", "CCrmDocumentDeal"], ["crm", "CCrmDocumentLead"]]},
}


@dataclass
class AppHandler:
    """The app's robot handler: records each POST's raw form, answers 200 "ok"."""

    url: str = ""
    hits: list[dict[str, Any]] = field(default_factory=list)

    def form(self, index: int = -1) -> dict[str, Any]:
        return parse_php_query(self.hits[index]["raw"])


@pytest.fixture
def app_handler() -> Iterator[AppHandler]:
    handler = AppHandler()

    class Record(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            handler.hits.append({"path": self.path, "content_type": self.headers["Content-Type"], "raw": raw})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    # Same host as app_url (127.0.0.1), another port: the domain check compares hosts.
    handler.url = f"http://127.0.0.1:{server.server_port}/bitrix/robot"
    yield handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def add_robot(client: FlaskClient, **overrides: Any) -> str:
    admin = token_for(client, 1)
    added = call(client, "bizproc.robot.add", admin, **{**ROBOT, **overrides})
    assert added.status_code == 200 and added.json["result"] is True, added.json
    return admin


def installed_with_robot(client: FlaskClient, handler_url: str, **overrides: Any) -> None:
    add_robot(client, HANDLER=handler_url, **overrides)
    assert client.post("/_sandbox/install", json={"user_id": 1}).status_code == 200


def run(client: FlaskClient, **body: Any) -> Any:
    return client.post("/_sandbox/robot", json={"code": "telemost_meeting", "user_id": 2, **body})


def test_add_list_update_delete_round_trip_within_the_app(client: FlaskClient) -> None:
    """bizproc-robot-add.md (result true), bizproc-robot-list.md (result: the codes of the app's robots),
    bizproc-robot-update.md (CODE, FIELDS; ERROR_ACTIVITY_NOT_FOUND "Activity or Automation Rule not found!"),
    bizproc-robot-delete.md (true; ERROR_ACTIVITY_NOT_FOUND "Activity or Robot not found!"). A robot is the
    application's: CODE "must be unique within the application", list gives those "registered by the application"."""
    admin = add_robot(client)
    other_app = token_for(client, 1, client_id="other.app")
    assert call(client, "bizproc.robot.add", other_app, **ROBOT).json["result"] is True  # its own code space
    assert call(client, "bizproc.robot.list", admin).json["result"] == ["telemost_meeting"]
    updated = call(
        client,
        "bizproc.robot.update",
        admin,
        CODE="telemost_meeting",
        FIELDS={"NAME": "Meeting", "USE_SUBSCRIPTION": "N"},
    )
    assert updated.json["result"] is True
    [ours, _] = state(client)["robots"]["registered"]
    assert ours == {
        "code": "telemost_meeting",
        "handler": HANDLER,
        "name": "Meeting",
        "auth_user_id": 1,
        "use_subscription": "N",
        "properties": PROPERTIES,
        "return_properties": ROBOT["RETURN_PROPERTIES"],
        "document_type": None,
        "filter": ROBOT["FILTER"],
    }
    assert call(client, "bizproc.robot.delete", admin, CODE="telemost_meeting").json["result"] is True
    assert call(client, "bizproc.robot.list", admin).json["result"] == []
    assert call(client, "bizproc.robot.list", other_app).json["result"] == ["telemost_meeting"]
    assert_error(
        call(client, "bizproc.robot.delete", admin, CODE="telemost_meeting"),
        400,
        "ERROR_ACTIVITY_NOT_FOUND",
        "Activity or Robot not found!",
    )
    assert_error(
        call(client, "bizproc.robot.update", admin, CODE="telemost_meeting", FIELDS={"NAME": "x"}),
        400,
        "ERROR_ACTIVITY_NOT_FOUND",
        "Activity or Automation Rule not found!",
    )


@pytest.mark.parametrize(
    "overrides, code, text",
    [
        ({"CODE": ""}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity code!"),
        ({"CODE": "telemost meeting!"}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong activity code!"),
        ({"NAME": ""}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity NAME!"),
        ({"NAME": {"en": ""}}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity NAME!"),
        (
            {"PROPERTIES": {"1st": {"Name": "x"}}},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Wrong property key 1st!",
        ),
        (
            {"PROPERTIES": {"topic": {"Type": "string"}}},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Empty property NAME topic!",
        ),
        ({"RETURN_PROPERTIES": "join_url"}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong properties array!"),
        ({"FILTER": {"ONLY": ["b24"]}}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong activity FILTER!"),
        (
            {"DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal"]},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Wrong activity DOCUMENT_TYPE!",
        ),
        ({"HANDLER": "https://elsewhere.example/robot"}, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
        ({"HANDLER": "ftp://127.0.0.1/robot"}, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported handler protocol"),
    ],
)
def test_add_refuses_what_the_pages_error_table_lists(
    client: FlaskClient, overrides: dict, code: str, text: str
) -> None:
    """bizproc-robot-add.md, "Possible Error Codes" (codes and texts); CODE: a-z, A-Z, 0-9, dot, hyphen,
    underscore; a property key "must start with a letter"; HANDLER "must have the same domain where the
    application is installed"; DOCUMENT_TYPE "consists of three string-type elements"."""
    assert_error(
        call(client, "bizproc.robot.add", token_for(client, 1), **{**ROBOT, **overrides}), 400, code, text
    )
    assert state(client)["robots"]["registered"] == []


def test_only_an_administrator_in_an_application_manages_robots(
    client: FlaskClient, clock: FakeClock
) -> None:
    """bizproc-robot-add.md and the others: "Who can execute the method: administrator", ACCESS_DENIED "Access
    denied!"; "only in the context of an application": ACCESS_DENIED "Application context required" (setting-robot.md:
    "An incoming webhook will return the ACCESS_DENIED error with the description Application context required").
    HTTP 400 as bizproc-robot-list.md's error example shows it; the app must key on the code, not the status."""
    assert_error(
        call(client, "bizproc.robot.add", token_for(client, 2), **ROBOT),
        400,
        "ACCESS_DENIED",
        "Access denied!",
    )
    assert_error(
        call(client, "bizproc.robot.list", token_for(client, 2)), 400, "ACCESS_DENIED", "Access denied!"
    )
    # The sandbox's webhook has no bizproc scope at all; one with it is still no application.
    assert_error(hook(client, "bizproc.robot.add", **ROBOT), 403, "insufficient_scope")
    with_bizproc = create_app({"clock": clock, "webhook_scope": "bizproc,user"}).test_client()
    assert_error(
        hook(with_bizproc, "bizproc.robot.add", **ROBOT), 400, "ACCESS_DENIED", "Application context required"
    )
    assert_error(
        hook(with_bizproc, "bizproc.robot.list"), 400, "ACCESS_DENIED", "Application context required"
    )


def test_a_second_add_of_a_code_and_an_empty_update_are_refused(client: FlaskClient) -> None:
    """bizproc-robot-add.md: ERROR_ACTIVITY_ALREADY_INSTALLED "Activity or Automation rule already installed!";
    bizproc-robot-update.md: "Pass at least one field to update in FIELDS", else "No fields to update"."""
    admin = add_robot(client)
    assert_error(
        call(client, "bizproc.robot.add", admin, **{**ROBOT, "NAME": "again"}),
        400,
        "ERROR_ACTIVITY_ALREADY_INSTALLED",
        "Activity or Automation rule already installed!",
    )
    assert_error(
        call(client, "bizproc.robot.update", admin, CODE="telemost_meeting", FIELDS={}),
        400,
        "ERROR_ACTIVITY_VALIDATION_FAILURE",
        "No fields to update",
    )
    assert_error(
        call(
            client,
            "bizproc.robot.update",
            admin,
            CODE="telemost_meeting",
            FIELDS={"HANDLER": "https://elsewhere.example/"},
        ),
        400,
        "ERROR_WRONG_HANDLER_URL",
    )
    assert state(client)["robots"]["registered"][0]["name"] == ROBOT["NAME"]


def test_a_run_posts_the_workflow_fields_to_the_handler_and_a_repeat_keeps_the_token(
    client: FlaskClient, app_handler: AppHandler, clock: FakeClock
) -> None:
    """What the handler receives: document_id [module, object, "DEAL_7"] and properties (tutorials/bizproc/
    activity.md; bizproc-workflow-start.md for the document ids and the user_ID form of a user binding),
    event_token (bizproc-event-send.md: "received by the handler in the input data"), workflow_id,
    document_type, ts and auth (messageservice-sender-add.md, "What Comes to the Handler", for a robot's call);
    code, use_subscription, timeout_duration and auth's fields as b24pysdk's OAuthWorkflowData reads them.
    The token is AUTH_USER_ID's ("the user whose token will be passed to the application")."""
    installed_with_robot(client, app_handler.url)
    answer = run(client, document="deal:7", properties={"topic": "Sync", "host": 3, "guests": [4, "user_5"]})
    assert answer.status_code == 200, answer.json
    [hit] = app_handler.hits
    assert hit["path"] == "/bitrix/robot" and hit["content_type"] == "application/x-www-form-urlencoded"
    form = app_handler.form()
    told = dict(answer.json)
    delivered = told.pop("delivered")
    assert told == {"event_token": form["event_token"], "status": 200, "body": "ok"}
    assert "auth" not in delivered and delivered["properties"] == form["properties"]  # what was sent, no tokens
    assert form["code"] == "telemost_meeting" and form["workflow_id"] == form["event_token"].split("|")[0]
    assert form["document_id"] == ["crm", "CCrmDocumentDeal", "DEAL_7"]
    assert form["document_type"] == ["crm", "CCrmDocumentDeal", "DEAL"]
    assert form["properties"] == {"topic": "Sync", "host": "user_3", "guests": ["user_4", "user_5"]}
    assert (form["use_subscription"], form["timeout_duration"], form["ts"]) == ("Y", "0", str(int(clock.now)))
    auth = form["auth"]
    assert set(auth) == {
        "access_token",
        "expires",
        "expires_in",
        "scope",
        "domain",
        "server_endpoint",
        "status",
        "client_endpoint",
        "member_id",
        "user_id",
        "refresh_token",
        "application_token",
    }
    assert (auth["domain"], auth["user_id"], auth["application_token"]) == (
        "127.0.0.1:8082",
        "1",
        "sandbox-application-token",
    )
    me = call(client, "user.current", auth["access_token"]).json["result"]
    assert me["ID"] == "1"  # AUTH_USER_ID, not the user the run is for
    assert "access_token" not in str(answer.json) and auth["access_token"] not in str(answer.json)

    again = run(client, document="deal:7", event_token=form["event_token"], properties={"topic": "Sync"})
    assert again.json["event_token"] == form["event_token"]
    repeat = app_handler.form()
    assert (repeat["event_token"], repeat["workflow_id"]) == (form["event_token"], form["workflow_id"])
    runs = state(client)["robots"]["runs"]
    assert [(r["event_token"], r["user_id"], r["status"]) for r in runs] == [
        (form["event_token"], 2, 200)
    ] * 2
    assert runs[0]["document_id"] == ["crm", "CCrmDocumentDeal", "DEAL_7"]
    assert [d["event"] for d in state(client)["deliveries"]] == ["telemost_meeting"] * 2

    run(client, properties={"topic": "Default document"})
    assert app_handler.form()["document_id"] == ["crm", "CCrmDocumentDeal", "DEAL_1"]
    assert app_handler.form()["event_token"] != form["event_token"]


def test_event_send_returns_the_values_once_and_refuses_unknown_tokens(
    client: FlaskClient, app_handler: AppHandler
) -> None:
    """bizproc-event-send.md: any user; EVENT_TOKEN "must be valid and current", else 403 ACCESS_DENIED "Access
    denied!"; RETURN_VALUES "the values of properties that were registered as RETURN_PROPERTIES" (a key not
    declared is not said to be refused: kept as sent); LOG_MESSAGE "If this parameter is not passed, the method
    sends an empty string". Whether a second send with the same token is accepted is not documented: the
    emulator refuses it (INVENTED: a used token is no longer "current"), so the app must be safe both ways,
    sending once and not failing when a repeat is refused."""
    installed_with_robot(client, app_handler.url)
    token = run(client, properties={"topic": "Sync"}).json["event_token"]
    anna = token_for(client, 2)
    values = {"join_url": "https://telemost.yandex.ru/j/123", "undeclared": "kept"}
    sent = call(
        client, "bizproc.event.send", anna, EVENT_TOKEN=token, RETURN_VALUES=values, LOG_MESSAGE="Created"
    )
    assert sent.status_code == 200 and sent.json["result"] is True
    assert state(client)["robots"]["results"] == [
        {
            "event_token": token,
            "code": "telemost_meeting",
            "return_values": values,
            "log_message": "Created",
            "sent_by": 2,
        }
    ]
    assert_error(
        call(client, "bizproc.event.send", anna, EVENT_TOKEN=token, RETURN_VALUES=values),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )
    assert_error(
        call(client, "bizproc.event.send", anna, EVENT_TOKEN="55c1dc1c3f0d75.78875596|A1|x.y"),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )
    assert_error(call(client, "bizproc.event.send", anna), 403, "ACCESS_DENIED")
    # "An event can be sent if the Automation rule ... is registered with 'USE_SUBSCRIPTION': 'Y'".
    call(
        client,
        "bizproc.robot.update",
        token_for(client, 1),
        CODE="telemost_meeting",
        FIELDS={"USE_SUBSCRIPTION": "N"},
    )
    no_wait = run(client, properties={"topic": "Sync"}).json["event_token"]
    assert app_handler.form()["use_subscription"] == "N"
    assert_error(call(client, "bizproc.event.send", anna, EVENT_TOKEN=no_wait), 403, "ACCESS_DENIED")
    assert client.post("/_sandbox/reset").status_code == 200
    assert state(client)["robots"] == {"registered": [], "runs": [], "results": []}


def test_the_control_route_refuses_unknown_robots_and_bad_input(
    client: FlaskClient, app_handler: AppHandler
) -> None:
    """404 for a code no robot has, 409 while the app is not installed (bizproc-robot/index.md: robots work for
    "the installed application"), 400 for input the robot does not declare or its FILTER excludes."""
    add_robot(client, HANDLER=app_handler.url)
    assert run(client, properties={"topic": "x"}).status_code == 409
    client.post("/_sandbox/install", json={"user_id": 1})
    missing = client.post("/_sandbox/robot", json={"code": "nope", "user_id": 2})
    assert missing.status_code == 404 and "error" in missing.json
    assert run(client, properties={"topic": "x", "colour": "red"}).status_code == 400  # not declared
    assert run(client, properties={}).status_code == 400  # topic is Required and has no Default
    assert run(client, properties={"topic": "x"}, document="invoice:1").status_code == 400
    assert (
        run(client, properties={"topic": "x"}, document="company:1").status_code == 400
    )  # FILTER: deals, leads
    assert run(client, properties={"topic": "x"}, event_token="never-sent").status_code == 400
    assert client.post("/_sandbox/robot", json={"code": "telemost_meeting", "user_id": 99}).status_code == 404
    assert app_handler.hits == []
