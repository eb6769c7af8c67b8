"""Keys namespaced by step (shared/pipeline/batch.py): several steps share one batch request.

b24restdocs settings/how-to-call-rest-api/batch.md: "The array of requests can use numeric keys or be
associative", and a later command names an earlier answer as $result[request_id][response_field], "where
the request identifier is its key in the request array". It sets no rule on the characters of a key; the
namespaced keys hold letters and underscores only, as the keys before them did ("calendar_host")."""
from shared.pipeline.batch import namespaced, slice_of


def test_a_steps_keys_and_its_own_references_are_namespaced_and_others_left_alone():
    commands = {"event": ("calendar.event.add", {"name": "x"}),
                "host": ("calendar.event.getbyid", {"id": "$result[event]", "note": "$result[elsewhere]",
                                                    "list": ["$error[event]"]})}
    assert namespaced("calendar_event", commands) == {
        "calendar_event__event": ("calendar.event.add", {"name": "x"}),
        "calendar_event__host": ("calendar.event.getbyid", {"id": "$result[calendar_event__event]",
                                                            "note": "$result[elsewhere]",
                                                            "list": ["$error[calendar_event__event]"]})}


def test_each_step_gets_back_only_its_own_answers_under_its_own_keys():
    answers = {"calendar_event__event": 5, "notify_invitees__user_3": True, "calendar_event_x": 1}
    assert slice_of("calendar_event", answers) == {"event": 5}
    assert slice_of("notify_invitees", answers) == {"user_3": True}
