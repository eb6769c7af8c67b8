"""What the worker writes into Bitrix24 for a meeting, as the portal reads it (issue 13: B2, B5, B12).

The rules, with their sources, are in tests/unit/pipeline/test_bitrix_text.py; this is the same through the pipeline.
"""
from __future__ import annotations

from .test_pipeline import meeting

MEANT = {"notify": True, "reinvite": False, "allow_invite": False, "hide_guests": False}


def test_a_meeting_and_its_edit_reach_the_calendar_and_the_invitee_as_meant(stack, anna):
    """b24restdocs calendar-event-add.md / calendar-event-update.md: meeting flags are booleans (PHP's (bool):
    "N" is true), a section is detected with auto_detect_section=Y; formatting.md: no entity decoding."""
    done = anna.wait_final(anna.create(meeting(name="Q&A [review]", invitees=[3], cohosts=[]))["id"])
    assert done["status"] == "ready", done["steps"]
    assert stack.bitrix_state()["events"][0]["meeting"] == MEANT

    edited = meeting(name="Q&A [review] moved", invitees=[3], cohosts=[])
    assert anna.request("PUT", f"/api/conferences/{done['id']}", json=edited).status_code == 202
    assert anna.wait_final(done["id"])["status"] == "ready"
    portal = stack.bitrix_state()
    assert portal["events"][0]["meeting"] == MEANT and portal["events"][0]["name"] == "Q&\u2060A [\u2060review] moved"
    (note,) = portal["notifications"]  # the change notice replaced the invitation (same TAG)
    assert "changed «Q&A [review] moved»" in note["shown"], note["shown"]
