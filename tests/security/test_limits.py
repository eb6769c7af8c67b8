"""Floods by an ordinary employee (issue 12, findings 5 and 10): the per-user and per-portal limits
(shared/limiter/allowances.py) stop a burst with 429 and Retry-After before anything is saved or reaches Telemost or
Bitrix24, and one user's people search is never served from another user's cache.

The limits are tested on a second web (and its workers) with small limits of its own, sharing the main
stack's database, Redis and emulators; the main stack runs with its limits at their highest. The small
limits are per day, so that no allowance comes back while a test runs, however slow the machine.
"""
from __future__ import annotations

import pytest
import redis

from tests.integration.stack import ApiClient, variant
from tests.integration.test_pipeline import meeting

SMALL_LIMITS = {
    "LIMIT_CREATES_PER_USER_PER_DAY": "3", "LIMIT_CREATES_PER_PORTAL_PER_DAY": "5",
    "LIMIT_EDITS_PER_USER_PER_DAY": "3", "LIMIT_EDITS_PER_PORTAL_PER_DAY": "5",
    "LIMIT_RETRIES_PER_USER_PER_DAY": "2", "LIMIT_RETRIES_PER_PORTAL_PER_DAY": "3",
    "LIMIT_INVITATIONS_PER_USER_PER_DAY": "6", "LIMIT_INVITATIONS_PER_PORTAL_PER_DAY": "10",
    "LIMIT_SEARCHES_PER_USER_PER_DAY": "4",
    "LIMIT_SEARCH_MISSES_PER_USER_PER_DAY": "3", "LIMIT_SEARCH_MISSES_PER_PORTAL_PER_DAY": "5",
}
CONFERENCES = "/api/conferences"


@pytest.fixture(scope="module")
def limited(stack, tmp_path_factory):
    other = variant(stack, tmp_path_factory.mktemp("limits"), {**SMALL_LIMITS,
                                                                "DATABASE_URL": stack.env["DATABASE_URL"]})
    yield other
    other.stop_all()
    _forget_counts(stack)


@pytest.fixture(autouse=True)
def _fresh_counts(stack):
    """Every test starts with every allowance whole and no cached search (they live in the shared Redis)."""
    _forget_counts(stack)
    yield


def _forget_counts(stack) -> None:
    client = redis.Redis(port=stack.redis_port)
    for pattern in ("telemost:limit:*", "cache:users:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)


def sign_in(limited, user_id: int) -> ApiClient:
    return limited.login(user_id)


def light(**overrides) -> dict:
    """A meeting with a calendar event and nothing else to send, unless the test says."""
    return meeting(**{"cohosts": [], "invitees": [], **overrides})


def assert_refused(response, *words: str) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "too_many_requests"
    for word in words:
        assert word in error["message"], error["message"]
    assert "Try again in" in error["message"]


def saved(api: ApiClient, name: str) -> list[str]:
    """The names of the caller's conferences that contain `name` (the database outlives each test)."""
    page = api.request("GET", CONFERENCES, params={"q": name, "per_page": 100}).json()
    return sorted(item["name"] for item in page["items"])


def searches_sent(stack) -> int:
    requests_seen = stack.bitrix_state()["requests"]
    return requests_seen.get("user.search", 0) + requests_seen.get("user.get", 0)


# --- 5. no limits per user ------------------------------------------------------------------------

def test_a_burst_of_creates_stops_at_the_limit_and_nothing_beyond_it_is_made(stack, limited):
    anna = sign_in(limited, 2)
    answers = [anna.request("POST", CONFERENCES, json=light(name=f"Flood {i}")) for i in range(8)]

    assert [a.status_code for a in answers] == [202] * 3 + [429] * 5
    assert_refused(answers[3], "your limit of 3 new conferences a day")
    for answer in answers[:3]:
        assert anna.wait_final(answer.json()["id"])["status"] == "ready"
    stack.wait_quiet()
    assert saved(anna, "Flood") == ["Flood 0", "Flood 1", "Flood 2"]
    assert len(stack.telemost_state()["conferences"]) == 3
    assert len(stack.bitrix_state()["events"]) == 3


def test_another_user_is_not_held_by_annas_limit_but_the_portals_holds_for_everyone(stack, limited):
    anna, ivan, sergey = (sign_in(limited, user) for user in (2, 1, 3))
    for i in range(4):
        anna.request("POST", CONFERENCES, json=light(name=f"Portal-A {i}"))

    ivans = [ivan.request("POST", CONFERENCES, json=light(name=f"Portal-I {i}")) for i in range(3)]
    sergeys = sergey.request("POST", CONFERENCES, json=light(name="Portal-S"))

    assert [a.status_code for a in ivans] == [202, 202, 429]  # the portal's 5: Anna's 3 and Ivan's 2
    assert_refused(ivans[2], "Your portal has reached its limit of 5 new conferences a day")
    assert_refused(sergeys, "Your portal has")
    stack.wait_quiet()
    assert len(stack.telemost_state()["conferences"]) == 5
    assert (saved(anna, "Portal-A"), saved(ivan, "Portal-I"), saved(sergey, "Portal-S")) == (
        ["Portal-A 0", "Portal-A 1", "Portal-A 2"], ["Portal-I 0", "Portal-I 1"], [])


def test_repeating_an_idempotency_key_costs_nothing_more(stack, limited):
    anna = sign_in(limited, 2)
    key = {"Idempotency-Key": "the-same-request"}
    first = anna.request("POST", CONFERENCES, json=light(), headers=key)
    repeats = [anna.request("POST", CONFERENCES, json=light(), headers=key) for _ in range(4)]
    others = [anna.request("POST", CONFERENCES, json=light(name=f"Other {i}")) for i in range(3)]
    late_repeat = anna.request("POST", CONFERENCES, json=light(), headers=key)

    assert first.status_code == 202 and {r.status_code for r in repeats} == {200}
    assert [r.status_code for r in others] == [202, 202, 429]  # the key's conference took one of the 3
    assert late_repeat.status_code == 200 and late_repeat.json()["id"] == first.json()["id"]


def test_a_refused_body_uses_up_nothing(stack, limited):
    anna = sign_in(limited, 2)
    invalid = [anna.request("POST", CONFERENCES, json={"name": ""}) for _ in range(5)]

    assert {r.status_code for r in invalid} == {422}
    assert [anna.request("POST", CONFERENCES, json=light()).status_code for _ in range(4)] == [202] * 3 + [429]


def test_a_burst_of_edits_stops_at_the_limit_and_the_last_one_allowed_stands(stack, limited):
    anna, ivan = sign_in(limited, 2), sign_in(limited, 1)
    own = anna.wait_final(anna.create(light(name="Planning"))["id"])
    ivans = ivan.wait_final(ivan.create(light(name="Board"))["id"])

    edits = [anna.request("PUT", f"{CONFERENCES}/{own['id']}", json=light(name=f"Planning v{i}")) for i in range(1, 6)]
    ivan_edits = [ivan.request("PUT", f"{CONFERENCES}/{ivans['id']}", json=light(name=f"Board v{i}"))
                  for i in range(1, 4)]

    assert [e.status_code for e in edits] == [202] * 3 + [429] * 2
    assert_refused(edits[3], "your limit of 3 changes to conferences a day")
    assert [e.status_code for e in ivan_edits] == [202, 202, 429]  # his own 2, then the portal's 5 are used
    assert_refused(ivan_edits[2], "Your portal has")
    done = anna.wait_final(own["id"])
    assert done["name"] == "Planning v3" and done["version"] == own["version"] + 3
    stack.wait_quiet()
    event = next(e for e in stack.bitrix_state()["events"] if e["id"] == done["calendar_event_id"])
    assert event["name"] == "Planning v3"


def test_a_burst_of_retries_stops_at_the_limit_and_the_refused_ones_reach_no_one(stack, limited):
    stack.telemost_faults(error_rate=1.0, status=403)  # a permanent refusal: every retry fails again
    anna, ivan = sign_in(limited, 2), sign_in(limited, 1)
    failed = anna.wait_final(anna.create(light(create_calendar_event=False))["id"])
    ivans = ivan.wait_final(ivan.create(light(create_calendar_event=False))["id"])
    assert failed["status"] == ivans["status"] == "failed"

    def retry(api: ApiClient, conference: dict):
        answer = api.request("POST", f"{CONFERENCES}/{conference['id']}/retry")
        if answer.status_code == 202:
            api.wait_final(conference["id"])
        return answer

    annas = [retry(anna, failed) for _ in range(2)]
    stack.wait_quiet()
    rooms_asked = stack.telemost_state()["requests"].get("POST /conferences", 0)
    refused = [retry(anna, failed) for _ in range(3)]
    ivan_retries = [retry(ivan, ivans) for _ in range(2)]

    assert [r.status_code for r in annas] == [202, 202]
    assert {r.status_code for r in refused} == {429}
    assert_refused(refused[0], "your limit of 2 retries a day")
    assert [r.status_code for r in ivan_retries] == [202, 429]  # Anna's 2 and his 1 are the portal's 3
    assert_refused(ivan_retries[1], "Your portal has")
    stack.wait_quiet()
    assert stack.telemost_state()["requests"]["POST /conferences"] == rooms_asked + 1  # Ivan's one retry only


def test_invitations_are_counted_by_invitee_and_stop_at_the_limit(stack, limited):
    anna, ivan = sign_in(limited, 2), sign_in(limited, 1)
    first = anna.request("POST", CONFERENCES, json=light(invitees=[3, 4, 5]))
    too_many = anna.request("POST", CONFERENCES, json=light(invitees=[1, 3, 4, 5]))  # 3 + 4 > 6
    second = anna.request("POST", CONFERENCES, json=light(invitees=[1, 3, 4]))
    # An edit tells those invited before and after it: 4 more, and Anna's 6 are used.
    edit = anna.request("PUT", f"{CONFERENCES}/{first.json()['id']}", json=light(invitees=[3, 4, 5, 6]))
    ivans = [ivan.request("POST", CONFERENCES, json=light(invitees=invitees)) for invitees in ([3, 4, 5], [3], [4])]

    assert (first.status_code, too_many.status_code, second.status_code) == (202, 429, 202)
    assert_refused(too_many, "your limit of 6 invitations and change notices a day")
    assert_refused(edit, "invitations")
    assert [r.status_code for r in ivans] == [202, 202, 429]  # 6 + 3 + 1 of the portal's 10
    assert_refused(ivans[2], "Your portal has", "invitations")
    assert anna.get(first.json()["id"])["invitees"] == [3, 4, 5]  # the refused edit changed nothing
    # The refused create took nothing from the creates allowance either: Anna's third conference is made.
    assert anna.request("POST", CONFERENCES, json=light()).status_code == 202
    stack.wait_quiet()
    assert len(stack.bitrix_state()["notifications"]) == 3 + 3 + 3 + 1


def test_a_burst_of_searches_stops_at_the_limit_and_the_refused_ones_cost_no_bitrix24_call(stack, limited):
    anna, ivan = sign_in(limited, 2), sign_in(limited, 1)
    before = searches_sent(stack)

    same = [anna.request("GET", "/api/bitrix/users", params={"q": "Ivanov"}) for _ in range(6)]

    assert [r.status_code for r in same] == [200] * 4 + [429] * 2
    assert_refused(same[4], "your limit of 4 people searches a day")
    assert searches_sent(stack) == before + 1  # one miss, three answers from Anna's cache
    assert ivan.request("GET", "/api/bitrix/users", params={"q": "Ivanov"}).status_code == 200


def test_searches_that_miss_the_cache_are_limited_per_user_and_per_portal(stack, limited):
    anna, ivan = sign_in(limited, 2), sign_in(limited, 1)
    before = searches_sent(stack)

    annas = [anna.request("GET", "/api/bitrix/users", params={"q": text}) for text in ("Iv", "Ol", "Ser", "Dm")]
    ivans = [ivan.request("GET", "/api/bitrix/users", params={"q": text}) for text in ("Iv", "Ol", "Ser")]

    assert [r.status_code for r in annas] == [200, 200, 200, 429]
    assert_refused(annas[3], "your limit of 3 people searches sent to Bitrix24 a day")
    assert [r.status_code for r in ivans] == [200, 200, 429]  # the portal's 5: Anna's 3 and Ivan's 2
    assert_refused(ivans[2], "Your portal has")
    assert searches_sent(stack) == before + 5


# --- 10. shared people-search cache ---------------------------------------------------------------

def test_one_users_search_is_never_answered_from_another_users_cache(stack, anna, ivan):
    """Bitrix24 answers a search with the caller's own rights, so Ivan's (an administrator's) answer may
    hold people Anna may not see. The sandbox shows everyone to everyone, so the test shows the cache's
    key instead: Anna's search after Ivan's is a Bitrix24 call of its own, and only her repeat is cached."""
    ivan_before = searches_sent(stack)
    assert ivan.request("GET", "/api/bitrix/users", params={"q": "Smirnova"}).status_code == 200
    assert searches_sent(stack) == ivan_before + 1

    first = anna.request("GET", "/api/bitrix/users", params={"q": "Smirnova"})
    assert first.status_code == 200
    assert searches_sent(stack) == ivan_before + 2  # not Ivan's cached answer

    again = anna.request("GET", "/api/bitrix/users", params={"q": "Smirnova"})
    assert again.json() == first.json()
    assert searches_sent(stack) == ivan_before + 2  # her own answer is cached for her
