"""Only a room's organiser changes it, and a cohost without a Yandex account does not cost the room.

Telemost changes a room on behalf of its organiser: the Yandex 360 admin scripts for Telemost fetch the
organiser's own token ("Изменение параметров встречи выполняется от лица её организатора"). What another
account gets is UNVERIFIED: 404 ConferenceNotFound, or a 403 of ConferenceResponsesOf403
(api-specification.yaml, PATCH /conferences/{id}). So every organiser test runs against both answers of
the emulator (FOREIGN_ROOM_STATUS), and the app must be right with each.
"""
from __future__ import annotations

import pytest
import requests

from .test_edit_cancel import edit
from .test_pipeline import meeting, step
from .test_yandex_accounts import ANNA_YANDEX, connect

IVAN_YANDEX = "ivan.petrov@example.com"


@pytest.fixture(params=[404, 403], ids=["foreign-404", "foreign-403"])
def foreign_status(request, stack) -> int:
    """What Telemost answers an account other than the room's organiser, in this run of the test."""
    requests.post(f"{stack.telemost_url}/_sandbox/foreign-rooms", json={"status": request.param}).raise_for_status()
    return request.param


def room(stack) -> dict:
    [made] = stack.telemost_state()["conferences"]
    return made


def cancel(api, conference_id: int) -> dict:
    assert api.request("DELETE", f"/api/conferences/{conference_id}").status_code == 202
    return api.wait_final(conference_id)


def test_a_room_made_with_the_organisation_token_is_still_closed_with_it_after_connecting(stack, anna,
                                                                                          foreign_status):
    made = anna.wait_final(anna.create(meeting(cohosts=[], invitees=[]))["id"])
    connect(stack, anna)  # from now on her new rooms are her account's; this one stays the organisation's

    cancelled = cancel(anna, made["id"])

    assert cancelled["status"] == "cancelled", cancelled["steps"]
    assert room(stack)["waiting_room_level"] == "ADMINS"


def test_a_room_whose_account_was_disconnected_is_not_taken_for_closed(stack, anna, foreign_status):
    connect(stack, anna)
    made = anna.wait_final(anna.create(meeting(cohosts=[], invitees=[]))["id"])
    assert anna.request("DELETE", "/api/yandex/account").status_code == 204

    cancelled = cancel(anna, made["id"])

    # The organisation token is not the organiser: its refusal (either status) is no "already closed".
    assert f"made with the Yandex account {ANNA_YANDEX}" in step(cancelled, "create_room")["error"]
    assert step(cancelled, "create_room")["state"] == "failed"
    assert room(stack)["waiting_room_level"] == "ORGANIZATION"  # still open, and the step says so

    connect(stack, anna)
    assert anna.request("POST", f"/api/conferences/{made['id']}/retry").status_code == 202
    assert anna.wait_final(made["id"])["status"] == "cancelled"
    assert room(stack)["waiting_room_level"] == "ADMINS"


def test_an_edit_after_replacing_the_account_names_the_one_that_made_the_room(stack, anna, foreign_status):
    connect(stack, anna)
    made = anna.wait_final(anna.create(meeting(cohosts=[], invitees=[]))["id"])
    assert connect(stack, anna, IVAN_YANDEX, replace=True).status_code == 200

    assert edit(anna, made, waiting_room_level="PUBLIC").status_code == 202
    edited = anna.wait_final(made["id"])

    assert f"Connect {ANNA_YANDEX} to the app again" in step(edited, "create_room")["error"]
    assert room(stack)["waiting_room_level"] == "ORGANIZATION"


def test_an_unknown_cohost_costs_neither_the_room_nor_a_second_one_on_retry(stack, anna):
    """cohosts-add (yandex.com/dev/telemost/doc/ru/cohosts/cohosts-add.md): NoSuchUserPrincipalsFound, the
    addresses in details.emails joined by ';'. Whether a create naming such a cohost makes the room anyway
    is UNVERIFIED, so the app creates every room without cohosts and adds them after: safe both ways, as
    the create never carries one (the emulator refuses such a create, as if no room were made)."""
    made = anna.wait_final(anna.create(meeting(cohosts=["anna@example.com", "ghost@nowhere.example"]))["id"])

    assert step(made, "create_room")["state"] == "done"
    assert "ghost@nowhere.example" in step(made, "sync_cohosts")["error"]
    assert room(stack)["cohosts"] == ["anna@example.com"]

    assert anna.request("POST", f"/api/conferences/{made['id']}/retry").status_code == 202
    anna.wait_final(made["id"])
    assert len(stack.telemost_state()["conferences"]) == 1


def test_a_refusal_for_a_room_of_unknown_organiser_is_never_taken_for_closed(stack, anna, database,
                                                                             foreign_status):
    """A room made before organisers were recorded (migration 0008) is changed with the owner's token of
    today, which may not be its organiser's: a 404 from it may be an open room."""
    from sqlalchemy import update

    from shared.models import Conference
    made = anna.wait_final(anna.create(meeting(cohosts=[], invitees=[]))["id"])
    with database.write() as session:
        session.execute(update(Conference).values(room_organiser=None))
    connect(stack, anna)

    cancelled = cancel(anna, made["id"])

    assert "does not know which account made this one" in step(cancelled, "create_room")["error"]
    assert room(stack)["waiting_room_level"] == "ORGANIZATION"
