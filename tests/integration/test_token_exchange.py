"""Everyone the organiser of their own rooms without connecting anything (issue 17): with the organisation's
Yandex 360 service application set on the settings page, a room is made with the owner's own token, got by
token exchange with their e-mail (shared/yandex/employee_tokens.py; the emulator's grant and what of it is
unverified: tests/sandbox/test_telemost_token_exchange.py). Someone the organisation has no account for
falls back to the portal's token, and the room step says so. Through the real web, worker and emulators."""
from __future__ import annotations

SERVICE_APP = {"client_id": "sandbox-service-app", "client_secret": "sandbox-service-secret"}  # example.com's
OTHER_ORGANISATIONS_APP = {"client_id": "sandbox-service-app-2", "client_secret": "sandbox-service-secret-2"}


def set_service_app(ivan, app: dict) -> None:
    answer = ivan.request("PUT", "/api/settings", json={"yandex": {"service_app": app}})
    assert answer.status_code == 200, answer.text


def room_of(stack, conference: dict) -> dict:
    return next(room for room in stack.telemost_state()["conferences"] if room["id"] == conference["telemost_id"])


def test_an_employee_organises_their_own_room_through_the_service_application_and_edits_reach_it(stack, anna, ivan):
    set_service_app(ivan, SERVICE_APP)
    made = anna.wait_final(anna.create({"name": "Mine by exchange"})["id"])
    assert made["status"] == "ready", made
    assert room_of(stack, made)["owner_token"] == "oauth:anna.smirnova@example.com"  # Anna is the organiser
    room_step = next(step for step in made["steps"] if step["name"] == "create_room")
    assert room_step["note"] is None

    edited = anna.request("PUT", f"/api/conferences/{made['id']}",
                          json={"name": "Mine by exchange", "waiting_room_level": "ADMINS"})
    assert edited.status_code == 202
    assert anna.wait_final(made["id"])["status"] == "ready"
    assert room_of(stack, made)["waiting_room_level"] == "ADMINS"  # changed as its organiser


def test_someone_the_organisation_has_no_account_for_falls_back_and_the_step_says_so(stack, anna, ivan):
    """The other organisation's service app gets no token for Anna (one organisation's app never acts for
    another's people): her room is made with the deployment's token, and the step's note names why."""
    set_service_app(ivan, OTHER_ORGANISATIONS_APP)
    made = anna.wait_final(anna.create({"name": "Fallback"})["id"])
    assert made["status"] == "ready", made["steps"]
    assert room_of(stack, made)["owner_token"] == "sandbox-org-token"
    note = next(step for step in made["steps"] if step["name"] == "create_room")["note"]
    assert "anna.smirnova@example.com has no account in the portal's Yandex 360 organisation" in note
    assert "YANDEX_OAUTH_TOKEN" in note
