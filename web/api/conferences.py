"""Conferences: the web side only validates, saves, sends work to the queue and reads (no outside calls)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from shared.conferences import service as conferences
from shared.conferences.presenting import to_dict
from shared.conferences.service import IDEMPOTENCY_WINDOW, NotFound
from shared.limiter.allowances import CREATES, EDITS, INVITATIONS, RETRIES
from shared.portal import settings as portal_settings
from shared.portal.settings import BroadcastNotAllowed
from shared.problems import Problem
from shared.schemas import ConferenceIn, ConferenceOut, ConferencePage, ErrorOut, ListQuery
from web.api import conditional, db, parse_body, parse_query
from web.api.places import places_for
from web.auth import login_required
from web.errors import ApiError
from web.limits import charge
from web.openapi import documented

bp = Blueprint("conferences", __name__, url_prefix="/api/conferences")
MAX_IDEMPOTENCY_KEY = 255
UNCHANGED = "The ETag of an earlier answer: 304 with no body when nothing has changed since"


def _idempotency_key() -> tuple[str | None, dict[str, str]]:
    """The header's key, or the problem with it (reported with the body's, in one 422)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None, {}
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        return None, {
            "Idempotency-Key": Problem(
                f"must be 1-{MAX_IDEMPOTENCY_KEY} printable characters",
                "bad_idempotency_key",
                limit=MAX_IDEMPOTENCY_KEY,
            )
        }
    return key, {}


def _enqueue(conference_id: int) -> None:
    current_app.extensions["queue"].provision(conference_id)


def _accepted(change):
    """Saves a change (retry, edit, cancel), sends the work on after the commit, answers 202."""
    try:
        conference = change()
    except NotFound:
        raise ApiError(404, "No such conference", reason="no_such_conference") from None
    except conferences.Conflict as exc:
        raise ApiError(409, str(exc), reason="cancelled") from None
    except conferences.Unchangeable as exc:
        raise ApiError(422, "Some fields are not valid", exc.fields) from None
    _enqueue(conference.id)
    return jsonify(to_dict(conference)), 202


def _invited(invitees: list[int], invite_users: bool | None) -> set[int]:
    return set(invitees) if invite_users else set()


# Limits (shared/limiter/allowances.py) count only requests that would be carried out: valid, by the conference's
# owner. A person's typo must not use up their allowance, and an invalid body costs the outside world
# nothing: no room, no notification, no Bitrix24 call, so it has nothing to protect there.


def _own(conference_id: int):
    with db().read() as session:
        try:
            return conferences.get(session, g.caller, conference_id)
        except NotFound:
            raise ApiError(404, "No such conference", reason="no_such_conference") from None


def _broadcast_refused(refused: BroadcastNotAllowed) -> ApiError:
    return ApiError(403, str(refused), {"type": str(refused)}, reason="broadcasts_admins_only")


def list_query() -> ListQuery:
    """The list's filters; everyone's (scope=all) for administrators only (the list and its CSV export)."""
    query = parse_query(ListQuery)
    if query.scope == "all" and not g.caller.is_admin:
        raise ApiError(403, "Only a portal administrator can see everyone's conferences", reason="admin_only")
    return query


@bp.post("")
@login_required
@documented(
    "Create a conference or broadcast",
    body=ConferenceIn,
    responses={
        202: ConferenceOut,
        200: ConferenceOut,
        400: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    headers={"Idempotency-Key": "The same key from the same user within 24 h returns the same conference"},
)
def create_conference():
    key, key_problem = _idempotency_key()
    data = parse_body(ConferenceIn, key_problem)
    if data.type == "broadcast":  # refused before it is charged: only what would be carried out counts
        with db().read() as session:
            try:
                portal_settings.check_broadcast(
                    g.caller, data, portal_settings.current(session, g.caller.portal)
                )
            except BroadcastNotAllowed as refused:
                raise _broadcast_refused(refused) from None
    # A repeat of the same Idempotency-Key answers the first conference (200) and pays nothing again.
    charge(
        {CREATES: 1, INVITATIONS: len(_invited(data.invitees, data.invite_users))},
        once=key,
        once_seconds=IDEMPOTENCY_WINDOW.total_seconds(),
    )
    try:
        conference, created = conferences.create(db(), g.caller, data, key, places_for(data))
    except BroadcastNotAllowed as refused:  # the setting changed since the check above
        raise _broadcast_refused(refused) from None
    if created:
        _enqueue(conference.id)  # after the commit: a task never sees a row that is not there
    return jsonify(to_dict(conference)), 202 if created else 200


@bp.get("")
@login_required
@documented(
    "List the caller's conferences, newest first",
    query=ListQuery,
    responses={200: ConferencePage, 304: None, 403: ErrorOut, 422: ErrorOut},
    headers={"If-None-Match": UNCHANGED},
)
def list_conferences():
    query = list_query()
    with db().read() as session:
        items, total = conferences.list_page(session, g.caller, query)
        return conditional(
            {
                "items": [to_dict(c) for c in items],
                "total": total,
                "page": query.page,
                "per_page": query.per_page,
            }
        )


@bp.get("/<id:conference_id>")
@login_required
@documented(
    "Read one conference",
    responses={200: ConferenceOut, 304: None, 404: ErrorOut},
    headers={"If-None-Match": UNCHANGED},
)
def get_conference(conference_id: int):
    return conditional(to_dict(_own(conference_id)))


@bp.post("/<id:conference_id>/retry")
@login_required
@documented("Run the failed steps again", responses={202: ConferenceOut, 404: ErrorOut, 429: ErrorOut})
def retry_conference(conference_id: int):
    _own(conference_id)
    charge({RETRIES: 1})
    return _accepted(lambda: conferences.retry(db(), g.caller, conference_id))


@bp.put("/<id:conference_id>")
@login_required
@documented(
    "Replace the conference's settings; the room, calendar and invitees follow",
    body=ConferenceIn,
    responses={202: ConferenceOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def update_conference(conference_id: int):
    before = _own(conference_id)  # another user's conference is a 404 before its body is looked at
    data = parse_body(ConferenceIn)
    # An edit may tell everyone invited before it (removed, or told of the change) and after it (invited).
    told = (
        _invited(before.invitees, before.invite_users)
        | set((before.applied or {}).get("invitees", []))
        | _invited(data.invitees, data.invite_users)
    )
    charge({EDITS: 1, INVITATIONS: len(told)})
    places = places_for(data, before)
    return _accepted(lambda: conferences.edit(db(), g.caller, conference_id, data, places))


@bp.delete("/<id:conference_id>")
@login_required
@documented(
    "Cancel: the calendar event is deleted, invitees are told, the room is closed",
    responses={202: ConferenceOut, 404: ErrorOut},
)
def cancel_conference(conference_id: int):
    return _accepted(lambda: conferences.cancel(db(), g.caller, conference_id))
