"""The CRM records a meeting can be linked to, as the portal shows them to the caller.

A record reaches the app from a CRM card's placement (PLACEMENT_OPTIONS {"ID": ...}, which the portal's page
posts and anyone can forge) or from a request body: neither is trusted. The portal is asked with the
caller's own rights, crm.item.get (b24restdocs api-reference/crm/universal/crm-item-get.md: "any user with
read access permission"; ACCESS_DENIED or NOT_FOUND otherwise), one method for leads, deals, contacts and
companies. What it answers (the title, the responsible person) is kept with the conference: the to-do in
the record's timeline names the meeting, and the form proposes the responsible person as an invitee.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from pydantic import BaseModel

from shared.clients.errors import OutsideServiceError
from shared.problems import Problem
from shared.schemas import CRM_TYPES, CrmIn, ErrorOut
from web.api.bitrix_users import PortalUser, person_of
from web.api.portal_answers import as_not_found, refusal
from web.auth import login_required
from web.errors import ApiError
from web.openapi import documented

bp = Blueprint("crm", __name__, url_prefix="/api/bitrix")
NOT_VISIBLE = Problem("is not a CRM record you may see", "not_a_visible_record")


class PortalRecord(BaseModel):
    entity_type: str
    entity_id: int
    title: str | None
    responsible: PortalUser | None


def _title(item: dict) -> str | None:
    # A contact has a name where the others have a title (crm-item-get.md's fields of each type).
    title = item.get("title") or " ".join(filter(None, [item.get("name"), item.get("lastName")]))
    return str(title).strip()[:255] or None


def crm_of(record: CrmIn) -> dict:
    """{"entity_type", "entity_id", "title", "responsible_id"} as the portal answers the caller; raises ApiError
    422 naming crm.entity_id when the portal says the caller may not see it (or it is not there)."""
    api = current_app.extensions["bitrix"].client(g.caller.portal, g.caller.user_id)
    type_id, _ = CRM_TYPES[record.entity_type]
    try:
        answer = api.result("crm.item.get", {"entityTypeId": type_id, "id": record.entity_id})
    except OutsideServiceError as error:
        raise refusal(error, "crm.entity_id", NOT_VISIBLE) from None
    item = answer.get("item") if isinstance(answer, dict) else None
    if not isinstance(item, dict):
        raise ApiError(422, "Some fields are not valid", {"crm.entity_id": NOT_VISIBLE})
    responsible = str(item.get("assignedById") or "")
    return {
        "entity_type": record.entity_type,
        "entity_id": record.entity_id,
        "title": _title(item),
        "responsible_id": int(responsible) if responsible.isdigit() and int(responsible) > 0 else None,
    }


@bp.get("/crm/<any(deal, lead, contact, company):entity_type>/<int:entity_id>")
@login_required
@documented(
    "A CRM record the caller may see: its title and responsible person (for a meeting started from it)",
    responses={200: PortalRecord, 401: ErrorOut, 404: ErrorOut, 503: ErrorOut},
)
def record(entity_type: str, entity_id: int):
    if not 0 < entity_id < 2**31:
        raise ApiError(404, "No such CRM record", reason="no_such_record")
    try:
        found = crm_of(CrmIn.model_validate({"entity_type": entity_type, "entity_id": entity_id}))
        responsible = person_of(found["responsible_id"]) if found["responsible_id"] else None
    except ApiError as error:
        raise as_not_found(error, "No such CRM record among those you may see", "no_such_record") from None
    body = {key: found[key] for key in ("entity_type", "entity_id", "title")}
    return jsonify({**body, "responsible": responsible})
