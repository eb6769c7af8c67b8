"""The conferences list as CSV, for a spreadsheet: the same filters as the list, every page at once."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, g

from shared.conferences import service as conferences
from shared.conferences.presenting import to_dict
from shared.schemas import ErrorOut, ListQuery
from web.api import db
from web.api.conferences import list_query
from web.auth import login_required
from web.openapi import documented

bp = Blueprint("export", __name__, url_prefix="/api/conferences")
MAX_ROWS = 10_000  # a year of a busy portal; a bigger export is a database query, not a download
COLUMNS = (
    "id",
    "type",
    "name",
    "status",
    "start_at",
    "duration_minutes",
    "timezone",
    "owner_id",
    "owner_name",
    "join_url",
    "watch_url",
    "invitees",
    "cohosts",
    "repeats",
    "auto_summary",
    "created_at",
)


def _row(conference: dict) -> list:
    recurrence = conference["recurrence"]
    values = {
        **conference,
        "owner_id": conference["owner"]["id"],
        "owner_name": conference["owner"]["name"],
        "invitees": " ".join(str(user) for user in conference["invitees"]),
        "cohosts": " ".join(conference["cohosts"]),
        "repeats": recurrence["freq"] if recurrence else "",
    }
    return [_cell(values[column]) for column in COLUMNS]


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula (CSV injection, OWASP) is kept as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/export.csv")
@login_required
@documented(
    "The conferences the list would show (same filters; scope=all for administrators), as CSV",
    query=ListQuery,
    responses={200: None, 403: ErrorOut, 422: ErrorOut},
)
def export_conferences():
    query = list_query()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    with db().read() as session:
        page = query.model_copy(update={"page": 1, "per_page": MAX_ROWS})
        items, _ = conferences.list_page(session, g.caller, page)
        for conference in items:
            writer.writerow(_row(to_dict(conference)))
    return Response(
        "\ufeff" + out.getvalue(),  # the BOM makes Excel read UTF-8 (Cyrillic names)
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="telemost-meetings.csv"',
            "Cache-Control": "no-store",
        },
    )
