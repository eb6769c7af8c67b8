"""A weekly series end to end: the calendar event carries its rule (b24restdocs calendar-event-add.md, "rrule
Parameter"), invitees read that it repeats, an edit of the rule reaches the event (calendar-event-update.md,
recurrence_mode all), and a cancel deletes the series' event and tells the invitees."""
from __future__ import annotations

from .test_edit_cancel import notifications, ready
from .test_pipeline import meeting

WEEKLY = {"freq": "WEEKLY", "interval": 1, "byday": ["MO"], "count": 4}


def test_a_weekly_series_is_made_edited_and_cancelled(stack, anna):
    before = ready(anna, meeting(create_calendar_event=True, invitees=[3, 4], recurrence=WEEKLY))
    event = stack.bitrix_state()["events"][0]
    assert event["rrule"] == {"FREQ": "WEEKLY", "INTERVAL": 1, "BYDAY": ["MO"], "COUNT": 4}
    assert event["remind"] == [{"type": "min", "count": before["reminder_minutes"]}]
    assert all("every week on Monday, 4 times" in text for text in notifications(stack).values())

    body = {k: before[k] for k in ("type", "name", "description", "start_at", "duration_minutes", "timezone",
                                   "waiting_room_level", "live_stream", "cohosts", "invitees",
                                   "create_calendar_event", "invite_users")}
    changed = {**WEEKLY, "byday": ["MO", "WE"]}
    response = anna.request("PUT", f"/api/conferences/{before['id']}", json={**body, "recurrence": changed})
    assert response.status_code == 202, response.json()
    after = anna.wait_final(before["id"])
    assert after["status"] == "ready" and after["recurrence"]["byday"] == ["MO", "WE"], after["steps"]
    assert stack.bitrix_state()["events"][0]["rrule"]["BYDAY"] == ["MO", "WE"]
    told = notifications(stack)
    assert all("changed" in told[u] and "every week on Monday and Wednesday, 4 times" in told[u] for u in (3, 4))

    assert anna.request("DELETE", f"/api/conferences/{before['id']}").status_code == 202
    gone = anna.wait_final(before["id"])
    assert gone["status"] == "cancelled" and gone["calendar_event_id"] is None
    assert stack.bitrix_state()["events"] == []
    told = notifications(stack)
    assert all("cancelled" in told[u] and "Monday and Wednesday" in told[u] for u in (3, 4))
