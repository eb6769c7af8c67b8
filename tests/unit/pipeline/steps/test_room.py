"""create_room's decisions (shared/pipeline/steps/room.py), without a stack."""
from __future__ import annotations

import pytest

from shared.clients.errors import PermanentError
from shared.pipeline.steps.room import STEP, room_settings
from tests.unit.pipeline.fakes import FakeTelemost, applied, conference, outside


def test_a_new_room_is_made_without_cohosts_and_recorded_with_its_organiser():
    made = conference(telemost_id=None, join_url=None, applied={}, cohosts=["olga@example.com"])
    telemost = FakeTelemost(organiser="account:anna@example.com")

    outcome = STEP.run(outside(telemost, conference_=made), made, None)

    assert telemost.calls == [("create_room", ("PUBLIC", [], None, False))]  # cohosts are the next step's (Y3)
    after = applied(outcome, made)
    assert (after.telemost_id, after.join_url, after.room_organiser) == (
        "room-1", "https://telemost.example/j/1", "account:anna@example.com")
    assert after.applied == {"room": {"waiting_room_level": "PUBLIC", "is_auto_summarization_enabled": False},
                             "cohosts": [], "room_note": None}
    assert STEP.note(after) is None


def test_a_room_made_otherwise_than_the_settings_asked_says_so_beside_it():
    made = conference(telemost_id=None, join_url=None, applied={})
    why = "anna@example.com has no account in the portal's Yandex 360 organisation, so ..."
    after = applied(STEP.run(outside(FakeTelemost(note=why), conference_=made), made, None), made)
    assert STEP.note(after) == why


def test_a_room_already_as_wanted_is_not_called_at_all():
    made = conference()
    outcome = STEP.run(outside(FakeTelemost(), conference_=made), made, None)
    assert outcome.error is None and outside  # the fake would have recorded any call
    telemost = FakeTelemost()
    STEP.run(outside(telemost, conference_=made), made, None)
    assert telemost.calls == []


def test_an_edit_sends_only_the_new_settings_and_records_them():
    made = conference(waiting_room_level="ORGANIZATION")
    telemost = FakeTelemost()
    after = applied(STEP.run(outside(telemost, conference_=made), made, None), made)
    wanted = {"waiting_room_level": "ORGANIZATION", "is_auto_summarization_enabled": False}
    assert telemost.calls == [("update_room", ("room-1", wanted))]
    assert after.applied["room"] == wanted


def test_meeting_notes_are_asked_for_on_create_and_on_an_edit():
    """is_auto_summarization_enabled is a field of create and PATCH (reference/real-platform-findings.md,
    "Unused capabilities"; the emulator's sandbox/telemost/validation.py takes it on both)."""
    made = conference(telemost_id=None, join_url=None, applied={}, auto_summary=True)
    telemost = FakeTelemost()
    STEP.run(outside(telemost, conference_=made), made, None)
    assert telemost.calls == [("create_room", ("PUBLIC", [], None, True))]
    edited = conference(auto_summary=True)
    telemost = FakeTelemost()
    STEP.run(outside(telemost, conference_=edited), edited, None)
    assert telemost.calls == [("update_room", ("room-1", {"waiting_room_level": "PUBLIC",
                                                          "is_auto_summarization_enabled": True}))]


def test_a_cancel_before_any_room_needs_no_telemost_and_one_after_locks_the_room():
    never_made = conference(telemost_id=None, cancel_requested=True)
    assert STEP.run(outside(conference_=never_made), never_made, None).apply is None  # asks for no client
    assert room_settings(conference(cancel_requested=True)) == {"waiting_room_level": "ADMINS"}


def test_a_broadcast_room_carries_its_live_stream_without_empty_fields():
    made = conference(type="broadcast", live_stream={"title": "Town hall", "description": None,
                                                      "access_level": "PUBLIC"})
    assert room_settings(made) == {"waiting_room_level": "PUBLIC", "is_auto_summarization_enabled": False,
                                   "live_stream": {"title": "Town hall", "access_level": "PUBLIC"}}


def test_not_found_closes_a_cancelled_room_only_when_its_organiser_asked():
    gone = PermanentError("Telemost", "no such room", code="ConferenceNotFound", status=404)
    made = conference(cancel_requested=True)
    outcome = STEP.run(outside(FakeTelemost(refuse={"update_room": gone}), conference_=made), made, None)
    assert outcome.error is None  # the organisation token made it: the room is gone, the cancel goes on

    stranger = FakeTelemost(organiser="account:olga@example.com", refuse={"update_room": gone})
    with pytest.raises(PermanentError, match="Only the Yandex account that made a room can change it"):
        STEP.run(outside(stranger, conference_=made), made, None)


def test_a_personal_account_that_cannot_lock_a_room_says_the_link_still_works():
    refused = PermanentError("Telemost", "refused", code="ApiRestrictedToOrganizations", status=403)
    made = conference(cancel_requested=True)
    with pytest.raises(PermanentError, match="this room's link still works"):
        STEP.run(outside(FakeTelemost(refuse={"update_room": refused}), conference_=made), made, None)


def test_every_conference_wants_a_room():
    assert STEP.wanted(conference(telemost_id=None)) and STEP.waits_for is None
