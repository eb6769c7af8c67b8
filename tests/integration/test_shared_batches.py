"""A burst of one owner's conferences shares `batch` requests through the real Bitrix24 worker (issue 18).

The Bitrix24 worker is held (SIGSTOP) while twelve meetings with a calendar event and three invitees each
get their rooms, as in a burst that waits for the portal's bucket; let go, it sends their commands in
batches of up to 50, each conference whole (b24restdocs settings/how-to-call-rest-api/batch.md: at most
50 subqueries; $result[key] names a command of the same request), and every conference gets its own event,
link and invitations. The emulator counts each HTTP request and each command inside a batch
(sandbox/bitrix24: "batch" and "batch:<method>"), as the portal's bucket counts requests (limits.md)."""
from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

from tests.integration.test_pipeline import meeting
from tests.support.processes import wait_until

BURST = 12  # five commands each (an event, its read-back, three invitations): ten fill a batch


def held(stack, name):
    os.killpg(stack.processes[name].popen.pid, signal.SIGSTOP)


def let_go(stack, name):
    os.killpg(stack.processes[name].popen.pid, signal.SIGCONT)


def test_a_burst_of_one_owners_conferences_shares_batches_and_each_gets_its_own(stack, anna):
    held(stack, "worker-bitrix")
    try:
        with ThreadPoolExecutor(4) as pool:
            created = list(pool.map(lambda i: anna.create(meeting(name=f"Sync {i}")), range(BURST)))
        wait_until(lambda: all(anna.get(c["id"])["join_url"] for c in created), 60, "every room made")
    finally:
        let_go(stack, "worker-bitrix")
    done = [anna.wait_final(c["id"]) for c in created]

    assert [c["status"] for c in done] == ["ready"] * BURST, [c["steps"] for c in done]
    bitrix = stack.bitrix_state()
    sent = bitrix["requests"]
    assert sent["batch:calendar.event.add"] == BURST and sent["batch:im.notify.system.add"] == 3 * BURST
    assert sent["batch"] <= 4  # two full batches and what came after; alone, one each (twelve)
    assert bitrix["rejected"].get("QUERY_LIMIT_EXCEEDED", 0) == 0
    events = {e["id"]: e for e in bitrix["events"]}
    for conference in done:  # no answer crossed to another conference
        assert conference["join_url"] in events[conference["calendar_event_id"]]["description"]
        assert conference["name"] in events[conference["calendar_event_id"]]["name"]
    links = [n["message"] for n in bitrix["notifications"]]
    assert all(sum(c["join_url"] in m for m in links) == 3 for c in done)
