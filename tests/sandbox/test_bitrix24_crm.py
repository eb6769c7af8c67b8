"""The emulated CRM (sandbox/bitrix24/crm.py) and crm_fields on calendar events, held to b24restdocs."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from . import test_bitrix24_emulator as emulator
from .test_bitrix24_emulator import MEETING, add_event, call, state, token_for

client = emulator.client  # the fixture the emulator's tests use

DEAL_1 = {"ownerTypeId": 2, "ownerId": 1}
TODO = {
    **DEAL_1,
    "deadline": "2027-01-20T15:00:00+03:00",
    "title": "Meeting in Yandex Telemost: Kick-off",
    "description": "Join: https://telemost.yandex.ru/j/123",
    "responsibleId": 2,
    "pingOffsets": [15],
}


def add_todo(client: FlaskClient, auth: str, **overrides: object) -> int:
    response = call(client, "crm.activity.todo.add", auth, **{**TODO, **overrides})
    assert response.status_code == 200, response.json
    assert set(response.json["result"]) == {"id"}
    return response.json["result"]["id"]


def todos(client: FlaskClient, auth: str, **params: object) -> list[dict]:
    response = call(client, "crm.activity.list", auth, **params)
    assert response.status_code == 200, response.json
    return response.json["result"]


def test_a_record_is_read_by_its_responsible_its_observers_and_an_admin_others_get_access_denied(
    client,
) -> None:
    """crm-item-get.md: {"item": {id, title, assignedById, createdBy, observers, entityTypeId, ...}}; 400
    ACCESS_DENIED "You do not have permission to view this item". Who may read is the module's simplification of
    the CRM roles: administrators, the responsible, the observers."""
    for user_id in (1, 2, 3):  # the admin, the responsible, the observer of deal 1
        item = call(client, "crm.item.get", token_for(client, user_id), entityTypeId=2, id=1).json["result"][
            "item"
        ]
        assert (item["id"], item["title"], item["assignedById"], item["observers"]) == (
            1,
            "Поставка оборудования",
            2,
            [3],
        )
        assert item["entityTypeId"] == 2 and isinstance(item["createdBy"], int)
    refused = call(client, "crm.item.get", token_for(client, 5), entityTypeId=2, id=1)
    assert refused.status_code == 400 and refused.json["error"] == "ACCESS_DENIED"
    contact = call(client, "crm.item.get", token_for(client, 2), entityTypeId="3", id="1").json["result"][
        "item"
    ]
    assert (contact["name"], contact["lastName"]) == ("Ольга", "Кузнецова")  # object-fields.md, "Contact"


def test_an_unknown_type_or_record_is_not_found_and_a_missing_argument_is_error_100(client) -> None:
    """crm-item-get.md, "Possible Error Codes": 400 NOT_FOUND for an invalid entityTypeId and for an id with no
    item; a required argument left out is 100 "Could not find value for parameter {...}" (the engine's error, as
    e.g. booking/booking/booking-v1-booking-delete.md shows it)."""
    admin = token_for(client, 1)
    for params in ({"entityTypeId": 999, "id": 1}, {"entityTypeId": 2, "id": 99}):
        response = call(client, "crm.item.get", admin, **params)
        assert (response.status_code, response.json["error"]) == (400, "NOT_FOUND")
    missing = call(client, "crm.item.get", admin, entityTypeId=2).json
    assert missing == {"error": 100, "error_description": "Could not find value for parameter {id}"}


def test_a_todo_is_added_listed_updated_and_completed(client) -> None:
    """crm-activity-todo-add.md and -update.md answer {"id"}; crm-activity-list.md rows (ID, OWNER_ID,
    OWNER_TYPE_ID, PROVIDER_ID CRM_TODO, SUBJECT, DESCRIPTION, DEADLINE, COMPLETED, RESPONSIBLE_ID, AUTHOR_ID);
    main-entities-fields.md: SUBJECT is the activity's title; crm-activity-update.md answers true (RESPONSIBLE_ID
    starred and in its example, so required) and finds the activity "for the entity"; a completed to-do cannot be
    updated (todo update page, CAN_NOT_UPDATE_COMPLETED_TODO)."""
    anna = token_for(client, 2)
    todo_id = add_todo(client, anna)
    [row] = todos(client, anna, filter={"OWNER_TYPE_ID": 2, "OWNER_ID": 1, "PROVIDER_ID": "CRM_TODO"})
    assert {
        k: row[k]
        for k in (
            "ID",
            "OWNER_ID",
            "OWNER_TYPE_ID",
            "PROVIDER_ID",
            "SUBJECT",
            "DEADLINE",
            "COMPLETED",
            "RESPONSIBLE_ID",
            "AUTHOR_ID",
        )
    } == {
        "ID": str(todo_id),
        "OWNER_ID": "1",
        "OWNER_TYPE_ID": "2",
        "PROVIDER_ID": "CRM_TODO",
        "SUBJECT": TODO["title"],
        "DEADLINE": "2027-01-20T15:00:00+03:00",
        "COMPLETED": "N",
        "RESPONSIBLE_ID": "2",
        "AUTHOR_ID": "2",
    }
    assert row["DESCRIPTION"] == TODO["description"] and row["CREATED"].endswith("+03:00")
    updated = call(
        client, "crm.activity.todo.update", anna, id=todo_id, **{**TODO, "title": "Cancelled: Kick-off"}
    )
    assert updated.json["result"] == {"id": todo_id}
    elsewhere = call(client, "crm.activity.todo.update", anna, **{**TODO, "id": todo_id, "ownerTypeId": 1})
    assert elsewhere.json["error"] == "NOT_FOUND"  # the to-do is not in lead 1's timeline
    no_responsible = call(client, "crm.activity.update", anna, id=todo_id, fields={"COMPLETED": "Y"})
    assert no_responsible.json["error_description"] == "The field RESPONSIBLE_ID is not defined or invalid"
    wrong_owner = call(
        client,
        "crm.activity.update",
        anna,
        id=todo_id,
        fields={"OWNER_TYPE_ID": 2, "OWNER_ID": 2, "RESPONSIBLE_ID": 2, "COMPLETED": "Y"},
    )
    assert wrong_owner.json == {"error": "", "error_description": "Activity is not found"}
    done = call(
        client,
        "crm.activity.update",
        anna,
        id=todo_id,
        fields={"OWNER_TYPE_ID": 2, "OWNER_ID": 1, "RESPONSIBLE_ID": 2, "COMPLETED": "Y"},
    )
    assert done.json["result"] is True
    [row] = todos(client, anna, filter={"ID": todo_id}, select=["ID", "SUBJECT", "COMPLETED"])
    assert row == {"ID": str(todo_id), "SUBJECT": "Cancelled: Kick-off", "COMPLETED": "Y"}
    again = call(client, "crm.activity.todo.update", anna, id=todo_id, **TODO)
    assert again.json["error"] == "CAN_NOT_UPDATE_COMPLETED_TODO"
    outsider = call(
        client, "crm.activity.update", token_for(client, 5), id=todo_id, fields={"RESPONSIBLE_ID": 5}
    )
    assert outsider.json == {"error": "", "error_description": "Access denied."}


def test_the_list_filters_by_owner_and_description_and_shows_only_visible_records(client) -> None:
    """crm-activity-list.md: filter keys with the prefixes % (substring), = , ! and @, select, order, pages
    of 50; "taking the current user's permissions into account": an outsider sees no to-do of deal 1."""
    admin, anna = token_for(client, 1), token_for(client, 2)
    first = add_todo(client, anna, description="Join: https://telemost.yandex.ru/j/111")
    second = add_todo(client, anna, description="Join: https://telemost.yandex.ru/j/222")
    lead = add_todo(client, anna, ownerTypeId=1, ownerId=1)
    found = todos(
        client,
        anna,
        filter={"OWNER_TYPE_ID": 2, "OWNER_ID": 1, "%DESCRIPTION": "j/222"},
        select=["ID", "DESCRIPTION"],
    )
    assert found == [{"ID": str(second), "DESCRIPTION": "Join: https://telemost.yandex.ru/j/222"}]
    assert [r["ID"] for r in todos(client, anna, filter={"@ID": [first, lead]})] == [str(first), str(lead)]
    assert [r["ID"] for r in todos(client, anna, filter={"!OWNER_TYPE_ID": 2})] == [str(lead)]
    by_id_desc = todos(client, admin, order={"ID": "DESC"}, filter={"=COMPLETED": "N"})
    assert [r["ID"] for r in by_id_desc] == [str(lead), str(second), str(first)]
    assert todos(client, token_for(client, 5)) == []
    page = call(client, "crm.activity.list", anna).json
    assert page["total"] == 3 and "next" not in page


def test_a_todo_needs_its_owner_and_a_deadline_in_iso_8601(client) -> None:
    """crm-activity-todo-add.md: ownerTypeId, ownerId, deadline required (100); NOT_FOUND, ACCESS_DENIED,
    OWNER_NOT_FOUND, WRONG_DATETIME_FORMAT. Deadlines as the page and data-types.md show them: with an offset,
    without one (read in the server's zone: INVENTED, Moscow), toISOString's Z with milliseconds."""
    anna = token_for(client, 2)
    missing = call(client, "crm.activity.todo.add", anna, **DEAL_1).json
    assert missing == {"error": 100, "error_description": "Could not find value for parameter {deadline}"}
    for overrides, code in (
        ({"deadline": "20.01.2027 15:00"}, "WRONG_DATETIME_FORMAT"),
        ({"deadline": "2027-01-20"}, "WRONG_DATETIME_FORMAT"),
        ({"ownerTypeId": 7}, "NOT_FOUND"),
        ({"ownerId": 99}, "OWNER_NOT_FOUND"),
    ):
        response = call(client, "crm.activity.todo.add", anna, **{**TODO, **overrides})
        assert (response.status_code, response.json["error"]) == (400, code), overrides
    refused = call(client, "crm.activity.todo.add", token_for(client, 5), **TODO)
    assert refused.json["error"] == "ACCESS_DENIED"
    local = add_todo(client, anna, deadline="2027-01-20T15:00:00")
    utc = add_todo(client, anna, deadline="2027-01-20T12:00:00.000Z")
    deadlines = {r["ID"]: r["DEADLINE"] for r in todos(client, anna)}
    assert deadlines[str(local)] == deadlines[str(utc)] == "2027-01-20T15:00:00+03:00"


def test_crm_fields_are_stored_with_a_calendar_event(client) -> None:
    """calendar-event-add.md and -update.md: crm_fields, an array of prefixed ids (CO_, C_, L_, D_); not an array
    is "The list of event links to CRM must be an array"; calendar-event-get-by-id.md shows them as
    UF_CRM_CAL_EVENT. Unknown prefixes and records are not settled by the pages: stored as given."""
    admin = token_for(client, 1)
    event_id = add_event(client, admin, crm_fields=["D_1", "X_9"])
    [event] = [e for e in state(client)["events"] if e["id"] == event_id]
    assert event["crm_fields"] == ["D_1", "X_9"]
    moved = call(
        client,
        "calendar.event.update",
        admin,
        id=event_id,
        type="user",
        ownerId=1,
        name="Weekly sync",
        crm_fields=["C_1"],
    )
    assert moved.status_code == 200, moved.json
    read = call(client, "calendar.event.getbyid", admin, id=event_id).json["result"]
    assert read["UF_CRM_CAL_EVENT"] == ["C_1"]
    refused = call(client, "calendar.event.add", admin, **{**MEETING, "crm_fields": "D_1"})
    assert refused.json == {
        "error": "",
        "error_description": "The list of event links to CRM must be an array",
    }


def test_the_state_shows_each_record_with_its_timeline_and_a_reset_clears_it(client) -> None:
    """CONTRACT.md §5: state holds `crm` (records and their timeline); the seeded deal 1, a contact and a
    company. A CRM card placement opens with PLACEMENT_OPTIONS {"ID", "URI"} (widgets/crm/detail-toolbar.md)."""
    anna = token_for(client, 2)
    todo_id = add_todo(client, anna)
    crm = state(client)["crm"]
    assert [(r["entity_type"], r["entity_id"]) for r in crm] == [
        ("deal", 1),
        ("deal", 2),
        ("lead", 1),
        ("contact", 1),
        ("company", 1),
    ]
    assert crm[0] == {
        "entity_type": "deal",
        "entity_id": 1,
        "title": "Поставка оборудования",
        "responsible_id": 2,
        "observers": [3],
        "timeline": [
            {
                "id": todo_id,
                "title": TODO["title"],
                "description": TODO["description"],
                "deadline": "2027-01-20T15:00:00+03:00",
                "completed": False,
                "responsible_id": 2,
                "author_id": 2,
                "provider": "CRM_TODO",
            }
        ],
    }
    client.post("/_sandbox/reset")
    assert all(r["timeline"] == [] for r in state(client)["crm"])
    admin = token_for(client, 1)
    bound = call(
        client, "placement.bind", admin, PLACEMENT="CRM_DEAL_DETAIL_TOOLBAR", HANDLER="http://app.example/"
    )
    assert bound.json.get("result") is True, bound.json
    opened = client.post(
        "/_sandbox/placement",
        json={
            "user_id": 2,
            "placement": "CRM_DEAL_DETAIL_TOOLBAR",
            "options": {"ID": "1", "URI": "/crm/deal/details/1/"},
        },
    ).json
    assert json.loads(opened["form"]["PLACEMENT_OPTIONS"])["ID"] == "1"
