"""Every table of the pipeline comes from the one registry (shared/pipeline/registry.py)."""
from __future__ import annotations

from shared.pipeline import registry
from shared.pipeline.step import Lane
from tests.unit.pipeline.fakes import conference


def test_the_registry_lists_each_outside_effect_once_in_the_order_they_run():
    assert [step.name for step in registry.steps()] == ["create_room", "sync_cohosts", "calendar_event",
                                                         "chat_message", "crm_link", "notify_invitees", "robot_result"]
    assert registry.names_in_lane(Lane.TELEMOST) == ("create_room", "sync_cohosts")
    assert registry.names_in_lane(Lane.BITRIX24) == ("calendar_event", "chat_message", "crm_link", "notify_invitees",
                                                   "robot_result")
    assert [s.name for s in registry.dependants("create_room")] == ["sync_cohosts", "calendar_event", "chat_message",
                                                                    "crm_link", "notify_invitees", "robot_result"]


def test_a_new_conference_has_pending_steps_where_it_wants_them_and_skipped_ones_elsewhere():
    made = conference(telemost_id=None, applied=None, cohosts=[], create_calendar_event=True, invitees=[3])
    rows = registry.initial_steps(made)
    assert {row.name: row.state for row in rows} == {"create_room": "pending", "sync_cohosts": "skipped",
                                                     "calendar_event": "pending", "chat_message": "skipped",
                                                     "crm_link": "skipped", "notify_invitees": "skipped",
                                                     "robot_result": "skipped"}


def test_an_edit_reopens_what_is_wanted_keeps_a_running_step_and_joins_a_missing_one():
    made = conference(steps={"create_room": "done", "sync_cohosts": "running", "calendar_event": "failed"},
                      invite_users=True, invitees=[3])
    made.steps = [row for row in made.steps if row.name != "notify_invitees"]  # made before that step existed
    registry.reopen(made)
    assert {row.name: row.state for row in made.steps} == {"create_room": "pending", "sync_cohosts": "running",
                                                           "calendar_event": "skipped",
                                                           "chat_message": "skipped", "crm_link": "skipped",
                                                           "notify_invitees": "pending", "robot_result": "skipped"}


def test_a_cancel_reopens_every_step_that_is_not_running():
    made = conference(steps={step.name: "skipped" for step in registry.steps()}, cancel_requested=True)
    registry.reopen(made)
    assert {row.state for row in made.steps} == {"pending"}
