# For the app: a CRM card placement (CRM_{DEAL,LEAD,CONTACT,COMPANY}_DETAIL_TOOLBAR, _DETAIL_ACTIVITY and
# _DETAIL_TAB) opens with PLACEMENT_OPTIONS the JSON string {"ID": "8061", "URI": "/crm/deal/details/8061/?..."}:
# the record's id as a string in "ID", and no type key: the type is in the PLACEMENT code (b24restdocs
# api-reference/widgets/crm/detail-toolbar.md, detail-activity.md, detail-tab.md, "PLACEMENT_OPTIONS").
"""CRM records (lead, deal, contact, company) and the to-dos in their timelines (scope crm).

Pages (b24restdocs): api-reference/crm/universal/crm-item-get.md and object-fields.md; crm/data-types.md
(object types: lead 1, deal 2, contact 3, company 4); crm/timeline/activities/todo/crm-activity-todo-add.md,
crm-activity-todo-update.md and index.md; activity-base/crm-activity-list.md, crm-activity-update.md and
crm-activity-fields.md; crm/main-entities-fields.md, "Activities" (SUBJECT is "Subject, activity title": a
to-do's `title` is its SUBJECT); tutorials/crm/how-to-edit-crm-objects/how-to-change-date-in-activity.md
(NOT_FOUND: the record or the to-do is not there; OWNER_NOT_FOUND: the record a to-do is for is not there).

Who may read a record and write in its timeline: administrators, its responsible (assignedById) and its
observers. A simplification of Bitrix24's CRM role permissions (per-role read and edit levels, departments,
open records), which are not modelled. A missing required argument of crm.activity.todo.* is error 100 (its
tables), with the engine's text "Could not find value for parameter {name}" as the booking pages show it;
crm.item.get (an engine method too) answers the same: INVENTED, its table has no such row. crm.activity.update
is a legacy method: errors with an empty code and its table's texts.
Times are ISO 8601 in the server's zone (data-types.md: stored "according to the server parameters").

INVENTED or not settled by the docs: the server zone (Moscow); a deadline without an offset is read in it;
an unknown ownerTypeId is NOT_FOUND and an unknown ownerId OWNER_NOT_FOUND (the add page lists both, says not
which is which); the texts of OWNER_NOT_FOUND, WRONG_DATETIME_FORMAT and CAN_NOT_UPDATE_COMPLETED_TODO are
their table descriptions; an unknown responsibleId is refused (NOT_FOUND), an absent one on add is the caller
and on update stays; todo.update "updates the entire activity" (todo/index.md): an absent title, description,
pingOffsets or colorId returns to its add default; a to-do's TYPE_ID 6 (data-types.md: "activities managed by
providers"), PROVIDER_TYPE_ID "TODO", and START_TIME = END_TIME = DEADLINE; crm.activity.list ignores filter
keys that name no field; a contact's item carries fullName and title (name and last name), which
object-fields.md does not list for contacts; crm.activity.update's texts for a bad id, fields or COMPLETED;
activity ids start again at 1 after a sandbox reset.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .errors import RestError
from .methods import Caller, ListPage, method, paginate
from .params import as_int, as_list, get_ci

if TYPE_CHECKING:
    from .portal import Portal

TYPES = {1: "lead", 2: "deal", 3: "contact", 4: "company"}  # crm/data-types.md, "CRM Object Types"
SERVER_ZONE = ZoneInfo("Europe/Moscow")
SEEDED = "2024-01-15T10:00:00+03:00"
# crm-activity-todo-add.md: "2025-02-03T15:00:00"; its examples send `date -Iseconds` and toISOString().
DEADLINE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
PREFIX = re.compile(r"^(!%=|>=|<=|!@|!%|!=|=%|%=|>|<|@|%|!|=)?(.+)$")  # crm-activity-list.md, filter


@dataclass
class Entity:
    type_id: int
    id: int
    title: str
    assigned_by_id: int
    observers: list[int] = field(default_factory=list)
    name: str = ""  # a contact's first and last name; its title is both
    last_name: str = ""

    def readable_by(self, caller: Caller) -> bool:
        user = caller.user
        return user.is_admin or user.id == self.assigned_by_id or user.id in self.observers

    def as_item(self) -> dict[str, Any]:
        """crm-item-get.md, "Response Handling" (the fields every type has; object-fields.md)."""
        # fmt: off
        item = {
            "id": self.id, "createdTime": SEEDED, "updatedTime": SEEDED, "createdBy": 1, "updatedBy": 1,
            "assignedById": self.assigned_by_id, "opened": "Y", "title": self.title,
            "observers": list(self.observers), "entityTypeId": self.type_id,
        }
        # fmt: on
        if self.type_id == 3:
            item.update(name=self.name, lastName=self.last_name, fullName=self.title)
        return item


@dataclass
class Activity:
    id: int
    owner_type_id: int
    owner_id: int
    subject: str
    description: str
    deadline: datetime
    responsible_id: int
    author_id: int
    created: datetime
    updated: datetime
    ping_offsets: list[int] = field(default_factory=list)
    color_id: str = ""
    completed: bool = False

    @property
    def owner(self) -> tuple[int, int]:
        return self.owner_type_id, self.owner_id

    def as_row(self) -> dict[str, Any]:
        """crm-activity-list.md, "Response Handling": every value a string, dates ISO 8601."""
        deadline = _iso(self.deadline)
        # fmt: off
        return {
            "ID": str(self.id), "OWNER_ID": str(self.owner_id), "OWNER_TYPE_ID": str(self.owner_type_id),
            "TYPE_ID": "6", "PROVIDER_ID": "CRM_TODO", "PROVIDER_TYPE_ID": "TODO", "SUBJECT": self.subject,
            "CREATED": _iso(self.created), "LAST_UPDATED": _iso(self.updated), "START_TIME": deadline,
            "END_TIME": deadline, "DEADLINE": deadline, "COMPLETED": "Y" if self.completed else "N",
            "STATUS": "2" if self.completed else "1", "RESPONSIBLE_ID": str(self.responsible_id),
            "DESCRIPTION": self.description, "AUTHOR_ID": str(self.author_id),
            "EDITOR_ID": str(self.author_id),
        }
        # fmt: on

    def as_state(self) -> dict[str, Any]:
        # fmt: off
        return {
            "id": self.id, "title": self.subject, "description": self.description,
            "deadline": _iso(self.deadline), "completed": self.completed,
            "responsible_id": self.responsible_id, "author_id": self.author_id, "provider": "CRM_TODO",
        }
        # fmt: on


@dataclass
class CrmStore:
    entities: list[Entity] = field(
        default_factory=lambda: [
            Entity(2, 1, "Поставка оборудования", 2, [3]),
            Entity(2, 2, "Внедрение CRM", 3),
            Entity(1, 1, "Заявка с сайта", 2),
            Entity(3, 1, "Ольга Кузнецова", 2, name="Ольга", last_name="Кузнецова"),
            Entity(4, 1, "ООО «Ромашка»", 3),
        ]
    )
    activities: list[Activity] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def find(self, type_id: int | None, entity_id: int | None) -> Entity | None:
        return next((e for e in self.entities if (e.type_id, e.id) == (type_id, entity_id)), None)

    def state(self) -> list[dict[str, Any]]:
        # fmt: off
        return [{"entity_type": TYPES[e.type_id], "entity_id": e.id, "title": e.title,
                 "responsible_id": e.assigned_by_id, "observers": list(e.observers),
                 "timeline": [a.as_state() for a in self.activities if a.owner == (e.type_id, e.id)]}
                for e in self.entities]
        # fmt: on


def _iso(moment: datetime) -> str:
    return moment.astimezone(SERVER_ZONE).isoformat(timespec="seconds")


def _now(portal: Portal) -> datetime:
    return datetime.fromtimestamp(portal.now(), SERVER_ZONE)


def _required(params: dict[str, Any], *names: str) -> None:
    for name in names:
        if params.get(name) in (None, ""):
            code: Any = 100  # a JSON number, as the booking pages' examples show it
            raise RestError(400, code, f"Could not find value for parameter {{{name}}}")


def _deadline(value: Any) -> datetime:
    if not isinstance(value, str) or not DEADLINE.fullmatch(value.strip()):
        raise RestError(400, "WRONG_DATETIME_FORMAT", "Incorrect date format")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RestError(400, "WRONG_DATETIME_FORMAT", "Incorrect date format") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SERVER_ZONE)


def _owner(portal: Portal, caller: Caller, params: dict[str, Any]) -> Entity:
    """The record a to-do is for, that the caller may edit (todo pages: "permission to edit the CRM object")."""
    type_id = as_int(params.get("ownerTypeId"))
    if type_id not in TYPES:
        raise RestError(400, "NOT_FOUND", "Not found.")
    owner = portal.crm.find(type_id, as_int(params.get("ownerId")))
    if owner is None:
        raise RestError(400, "OWNER_NOT_FOUND", "Owner of the entity not found")
    if not owner.readable_by(caller):
        raise RestError(400, "ACCESS_DENIED", "Access denied.")
    return owner


def _responsible(portal: Portal, value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    user = portal.users.get(value)
    if user is None or not user.active:
        raise RestError(400, "NOT_FOUND", "Not found.")  # INVENTED (module docstring)
    return user.id


def _apply_todo(portal: Portal, todo: Activity, params: dict[str, Any]) -> None:
    todo.deadline = _deadline(params["deadline"])
    todo.subject = str(params.get("title") or "")
    todo.description = str(params.get("description") or "")
    todo.responsible_id = _responsible(portal, params.get("responsibleId"), todo.responsible_id)
    todo.ping_offsets = [n for n in (as_int(v) for v in as_list(params.get("pingOffsets"))) if n is not None]
    todo.color_id = str(params.get("colorId") or "")
    todo.updated = _now(portal)


# --- methods ---


def item_get(portal: Portal, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    _required(params, "entityTypeId", "id")
    type_id = as_int(params["entityTypeId"])
    if type_id not in TYPES:
        raise RestError(400, "NOT_FOUND", "SPA not found")
    entity = portal.crm.find(type_id, as_int(params["id"]))
    if entity is None:
        raise RestError(400, "NOT_FOUND", "Element not found")
    if not entity.readable_by(caller):
        raise RestError(400, "ACCESS_DENIED", "You do not have permission to view this item")
    return {"item": entity.as_item()}


def todo_add(portal: Portal, caller: Caller, params: dict[str, Any]) -> dict[str, int]:
    _required(params, "ownerTypeId", "ownerId", "deadline")
    _deadline(params["deadline"])
    owner = _owner(portal, caller, params)
    now = _now(portal)
    todo = Activity(
        next(portal.crm.ids), owner.type_id, owner.id, "", "", now, caller.user.id, caller.user.id, now, now
    )
    _apply_todo(portal, todo, params)
    portal.crm.activities.append(todo)
    return {"id": todo.id}


def todo_update(portal: Portal, caller: Caller, params: dict[str, Any]) -> dict[str, int]:
    _required(params, "id", "ownerTypeId", "ownerId", "deadline")
    _deadline(params["deadline"])
    owner = _owner(portal, caller, params)
    mine = [
        a
        for a in portal.crm.activities
        if a.id == as_int(params["id"]) and a.owner == (owner.type_id, owner.id)
    ]
    todo = mine[0] if mine else None
    if todo is None:
        raise RestError(400, "NOT_FOUND", "Not found.")
    if todo.completed:
        raise RestError(400, "CAN_NOT_UPDATE_COMPLETED_TODO", "Completed activity cannot be modified")
    _apply_todo(portal, todo, params)
    return {"id": todo.id}


def _matches(row: dict[str, Any], key: str, wanted: Any) -> bool:
    if key.upper() == "BINDINGS":  # the one binding of a to-do is its owner
        return any(
            all(str(row[k]) == str(v) for k, v in binding.items() if k in ("OWNER_TYPE_ID", "OWNER_ID"))
            for binding in as_list(wanted)
            if isinstance(binding, dict)
        )
    parsed = PREFIX.match(key.upper())
    if parsed is None or parsed.group(2) not in row:
        return True
    op, name = parsed.groups()
    actual = str(row[name]).lower()
    if isinstance(wanted, list) and op in (None, "=", "!", "!="):  # an array is IN, as with @
        op = "@" if op in (None, "=") else "!@"
    if op in ("@", "!@"):
        return (actual in {str(v).lower() for v in as_list(wanted)}) == (op == "@")
    target = str(wanted).lower()
    if op in ("%", "!%"):
        return (target in actual) == (op == "%")
    if op in ("=%", "%=", "!%="):
        pattern = ".*".join(re.escape(part) for part in target.split("%"))
        return (re.fullmatch(pattern, actual, re.DOTALL) is not None) == (op != "!%=")
    if op in (">", ">=", "<", "<="):
        left, right = _sort_key(actual), _sort_key(target)
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]
    return (actual == target) == (op in (None, "="))


def _sort_key(value: Any) -> tuple[int, Any]:
    number = as_int(value)
    return (0, number) if number is not None else (1, str(value or ""))


def activity_list(portal: Portal, caller: Caller, params: dict[str, Any]) -> ListPage:
    """Only the to-dos of records the caller may read ("taking the current user's permissions into account")."""
    visible = {(e.type_id, e.id) for e in portal.crm.entities if e.readable_by(caller)}
    filters = get_ci(params, "filter") if isinstance(get_ci(params, "filter"), dict) else {}
    rows = [a.as_row() for a in portal.crm.activities if a.owner in visible]  # kept in the order of their ids
    rows = [r for r in rows if all(_matches(r, str(k), v) for k, v in filters.items())]
    order = get_ci(params, "order") if isinstance(get_ci(params, "order"), dict) else {"START_TIME": "ASC"}
    for name, direction in reversed(list(order.items())):  # "By default ... START_TIME", ascending
        rows.sort(
            key=lambda r, n=str(name).upper(): _sort_key(r.get(n)), reverse=str(direction).upper() == "DESC"
        )
    select = [str(s).upper() for s in as_list(get_ci(params, "select"))]
    if select and "*" not in select:
        rows = [{k: v for k, v in r.items() if k in select} for r in rows]
    return paginate(rows, get_ci(params, "start"))


def activity_update(portal: Portal, caller: Caller, params: dict[str, Any]) -> bool:
    """The legacy method: errors have an empty code and the texts of its table. Of the fields it marks required
    (a table shared with crm.activity.add) its own example sends only RESPONSIBLE_ID, with DESCRIPTION: so
    RESPONSIBLE_ID is required, the owner may be given (and must then be the to-do's), the rest is not asked."""
    fields = get_ci(params, "fields")
    activity_id = as_int(get_ci(params, "id"))
    if not activity_id or activity_id <= 0:
        raise RestError(400, "", "ID is not defined or invalid.")
    if not isinstance(fields, dict) or not fields:
        raise RestError(400, "", "The parameter 'fields' must be array.")
    fields = {str(k).upper(): v for k, v in fields.items()}
    todo = next((a for a in portal.crm.activities if a.id == activity_id), None)
    given = (
        as_int(fields.get("OWNER_TYPE_ID", todo and todo.owner_type_id)),
        as_int(fields.get("OWNER_ID", todo and todo.owner_id)),
    )
    if todo is None or given != todo.owner:
        raise RestError(400, "", "Activity is not found")  # "... not found for the entity in CRM"
    owner = portal.crm.find(todo.owner_type_id, todo.owner_id)
    if owner is None or not owner.readable_by(caller):
        raise RestError(400, "", "Access denied.")
    user = portal.users.get(fields.get("RESPONSIBLE_ID"))
    if user is None or not user.active:
        raise RestError(400, "", "The field RESPONSIBLE_ID is not defined or invalid")
    if "SUBJECT" in fields and not str(fields["SUBJECT"] or "").strip():
        raise RestError(400, "", "The field SUBJECT is not defined or empty")
    if fields.get("COMPLETED", "N") not in ("Y", "N"):  # a char Y/N (crm-activity-fields.md)
        raise RestError(400, "", "The field COMPLETED is not defined or invalid")  # INVENTED text
    todo.responsible_id = user.id
    todo.subject = str(fields.get("SUBJECT", todo.subject))
    todo.description = str(fields.get("DESCRIPTION", todo.description) or "")
    todo.completed = fields.get("COMPLETED", "Y" if todo.completed else "N") == "Y"
    todo.updated = _now(portal)
    return True


METHODS = {
    "crm.item.get": method(item_get, "crm"),
    "crm.activity.todo.add": method(todo_add, "crm"),
    "crm.activity.todo.update": method(todo_update, "crm"),
    "crm.activity.list": method(activity_list, "crm"),
    "crm.activity.update": method(activity_update, "crm"),
}
