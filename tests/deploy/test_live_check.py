"""`make live-check` (scripts/live_check.py) kept working: run here against the stack's emulators, never
the real services (issue 13)."""
from __future__ import annotations

import subprocess

from tests.support.processes import BIN, ROOT

# Without these, empty: an exported empty setting wins over .env and means "not set", so credentials in a
# developer's .env never reach this test.
NO_CREDENTIALS = {"LIVE_CHECK_BITRIX24_WEBHOOK": "", "LIVE_CHECK_YANDEX_TOKEN": "", "LIVE_CHECK_COHOST_EMAIL": ""}
CALLS = ("Bitrix24 user.current", "Telemost POST /conferences (PUBLIC)", "Telemost GET /conferences/{id}",
         "Telemost PATCH /conferences/{id}/cohosts", "Telemost DELETE /conferences/{id}/cohosts",
         "Bitrix24 calendar.event.add (own calendar)", "Bitrix24 calendar.event.delete",
         "Bitrix24 im.notify.system.add (to the webhook user)", "Telemost PATCH /conferences/{id} (close)")


def live_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "scripts/live_check.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_live_check_refuses_without_explicit_credentials(stack):
    result = live_check({**stack.env, **NO_CREDENTIALS, "LIVE_CHECK_YANDEX_TOKEN": "some-token"})
    assert result.returncode == 2 and result.stdout == ""
    assert "needs explicit test credentials" in result.stderr
    assert "LIVE_CHECK_BITRIX24_WEBHOOK" in result.stderr and "LIVE_CHECK_COHOST_EMAIL" in result.stderr
    assert "LIVE_CHECK_YANDEX_TOKEN" not in result.stderr  # only what is missing is named


def test_live_check_runs_every_call_and_prints_the_table(stack):
    rooms_before = {room["id"] for room in stack.telemost_state()["conferences"]}
    result = live_check({**stack.env, "LIVE_CHECK_BITRIX24_WEBHOOK": f"{stack.bitrix_url}/rest/1/sandboxwebhook/",
                         "LIVE_CHECK_YANDEX_TOKEN": "sandbox-org-token",
                         "LIVE_CHECK_TELEMOST_API_URL": f"{stack.telemost_url}/v1/telemost-api",
                         "LIVE_CHECK_COHOST_EMAIL": "live-check.cohost@example.com"})
    assert result.returncode == 0, result.stdout + result.stderr
    header, rule, *rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in result.stdout.splitlines()]
    assert header == ["call", "HTTP", "emulator", "only in the real answer", "only in the emulator's"]
    assert [row[0] for row in rows] == list(CALLS)
    for name, status, emulated, only_real, only_emulated in rows:
        assert status.startswith("2") and emulated == status, name
        assert (only_real, only_emulated) == ("-", "-"), name  # the same emulator both times: no difference
    # The room is left as a cancel leaves one: nobody gets in without an organiser.
    made = [room for room in stack.telemost_state()["conferences"] if room["id"] not in rooms_before]
    assert [(room["waiting_room_level"], room["cohosts"]) for room in made] == [("ADMINS", [])], made
