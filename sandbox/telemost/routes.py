"""The emulated HTTP API under /v1/telemost-api (reference/telemost-api.md §2)."""
from __future__ import annotations

import re
from typing import Callable

from flask import Blueprint, Flask, Response, jsonify, request

from sandbox.control import Faults, RequestLog

from . import errors
from .state import SCOPE_CREATE, SCOPE_READ, SCOPE_UPDATE, TelemostState, Token
from .validation import read_cohosts_body, read_conference_changes, read_emails_query, read_json_object, read_page

API_PREFIX = "/v1/telemost-api"
_URL_VARIABLE = re.compile(r"<(?:\w+:)?(\w+)>")
_LABEL_NAMES = {"conference_id": "id"}  # so labels read like the docs: /conferences/{id}

# Which caller a token value stands for: the fixed and control-added tokens, then the ones the
# sandbox Yandex OAuth server issued (app.py chains them).
TokenLookup = Callable[[str], Token | None]
FaultRenderer = Callable[[int, int | None], Response]  # (status, retry_after) -> the answer


def register_api(app: Flask, store: TelemostState, find_token: TokenLookup,
                 faults: Faults, request_log: RequestLog) -> None:
    app.before_request(_count_and_inject_faults(faults, request_log))
    app.register_blueprint(_api_blueprint(store, find_token))


def _is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def route_label(strip_prefix: str = "") -> str:
    """'PATCH /conferences/{id}/cohosts': the route template, so counts do not grow per room."""
    if request.url_rule is None:  # no such path, or a method the path does not have
        return f"{request.method} (unknown route)"
    path = request.url_rule.rule.removeprefix(strip_prefix)
    return f"{request.method} " + _URL_VARIABLE.sub(lambda m: "{%s}" % _LABEL_NAMES.get(m[1], m[1]), path)


def fault_answer(faults: Faults, render: FaultRenderer) -> Response | None:
    """The injected failure for this request, if any, in the shape `render` gives it."""
    decision = faults.decide(request.path)
    if decision is None:
        return None
    # A decision without a status is a hang that has already been waited out: the gateway gave up.
    return render(decision.status if decision.status is not None else 504, decision.retry_after)


def oauth_credentials() -> str | None:
    """The token of `Authorization: OAuth <token>`, the form both Telemost and login.yandex.ru document.

    Strict: `Bearer` is refused (whether the real services take it is UNVERIFIED).
    """
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme != "OAuth":
        return None
    return credentials.strip() or None


def _count_and_inject_faults(faults: Faults, request_log: RequestLog) -> Callable[[], Response | None]:
    # An app-wide hook rather than the blueprint's, so that unknown API paths are counted and faulted too.
    def hook() -> Response | None:
        if not _is_api_request():
            return None
        request_log.count(route_label(API_PREFIX))
        return fault_answer(faults, lambda status, retry_after: errors.fault_error(status, retry_after).response())

    return hook


def _authorize(find_token: TokenLookup, scope: str) -> Token:
    """`Authorization: OAuth <token>` with the route's scope [D1][D2].

    A personal account passes: what it may do is checked with the request (state.py), as the newer
    create page says (yandex.com/dev/telemost/doc/ru/conferences/conference-create.md) [D5].
    """
    credentials = oauth_credentials()
    if credentials is None:
        raise errors.unauthorized("Authorization header must be 'OAuth <token>'.")
    token = find_token(credentials)
    if token is None:
        raise errors.unauthorized("Unknown or expired token.")
    if scope not in token.scopes:
        raise errors.insufficient_scope(scope)
    return token


def _no_content() -> Response:
    return Response(status=204)


def _api_blueprint(store: TelemostState, find_token: TokenLookup) -> Blueprint:
    bp = Blueprint("telemost_api", __name__, url_prefix=API_PREFIX)

    @bp.post("/conferences")
    def create_conference():
        caller = _authorize(find_token, SCOPE_CREATE)
        changes = read_conference_changes(read_json_object())
        return jsonify(store.create_conference(caller, changes)), 201

    @bp.get("/conferences/<conference_id>")
    def get_conference(conference_id: str):
        caller = _authorize(find_token, SCOPE_READ)
        return jsonify(store.get_conference(caller, conference_id))

    @bp.patch("/conferences/<conference_id>")
    def update_conference(conference_id: str):
        caller = _authorize(find_token, SCOPE_UPDATE)
        changes = read_conference_changes(read_json_object())
        return jsonify(store.update_conference(caller, conference_id, changes))

    @bp.get("/conferences/<conference_id>/cohosts")
    def list_cohosts(conference_id: str):
        caller = _authorize(find_token, SCOPE_READ)
        offset, limit = read_page(request.args)
        emails = store.list_cohosts(caller, conference_id, offset, limit)
        return jsonify({"cohosts": [{"email": email} for email in emails]})

    @bp.put("/conferences/<conference_id>/cohosts")
    def replace_cohosts(conference_id: str):
        caller = _authorize(find_token, SCOPE_UPDATE)
        store.replace_cohosts(caller, conference_id, read_cohosts_body(read_json_object()))
        return _no_content()

    @bp.patch("/conferences/<conference_id>/cohosts")
    def add_cohosts(conference_id: str):
        caller = _authorize(find_token, SCOPE_UPDATE)
        store.add_cohosts(caller, conference_id, read_cohosts_body(read_json_object()))
        return _no_content()

    @bp.delete("/conferences/<conference_id>/cohosts")
    def remove_cohosts(conference_id: str):
        caller = _authorize(find_token, SCOPE_UPDATE)
        store.remove_cohosts(caller, conference_id, read_emails_query(request.args.get("cohost_emails")))
        return _no_content()

    # Routes that public clients call but the docs do not have [§2.9]: listing, replacing and deleting
    # a conference. The real answer is UNVERIFIED (probably 404 or 405). They are declared here, not
    # left to Flask, so that calls to them are counted under their own label and answer 405 before
    # any auth check: a client that relies on them fails loudly in the sandbox.
    @bp.get("/conferences")
    def list_conferences_undocumented():
        raise errors.method_not_allowed("POST")

    @bp.route("/conferences/<conference_id>", methods=["PUT", "DELETE"])
    def replace_or_delete_conference_undocumented(conference_id: str):
        raise errors.method_not_allowed("GET, PATCH")

    return bp
