"""What an employee sees and does in the app inside the portal (issue: the front end)."""
from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from .conftest import CYRILLIC

READY_TIMEOUT = 30000


def tomorrow() -> str:
    return (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d")


def fill_meeting(app, name: str, cohost: str | None = None, invitee_query: str | None = None) -> None:
    app.get_by_test_id("new-conference").click()
    form = app.get_by_test_id("conference-form")
    expect(form).to_be_visible()
    form.get_by_test_id("field-name").fill(name)
    form.get_by_test_id("field-date").fill(tomorrow())
    form.get_by_test_id("field-time").fill("10:30")
    form.get_by_test_id("field-duration").fill("45")
    if cohost:
        form.get_by_test_id("field-cohost-input").fill(cohost)
        form.get_by_test_id("add-cohost").click()
        expect(form.get_by_test_id("cohost-chip")).to_have_count(1)
    if invitee_query:
        form.get_by_test_id("invitee-search").fill(invitee_query)
        form.get_by_test_id("invitee-option").first.click()
        expect(form.get_by_test_id("invitee-chip")).to_have_count(1)


def card_ready(app) -> None:
    expect(app.get_by_test_id("conference-card")).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT)


def test_a_meeting_with_a_cohost_and_an_invitee_becomes_ready_and_its_link_copies(portal, stack):
    app = portal.open(2)
    portal.shot("01-start")
    fill_meeting(app, "Планёрка отдела", cohost="boris@yandex.ru", invitee_query="Serg")
    portal.shot("02-form")
    app.get_by_test_id("submit-conference").click()

    card_ready(app)
    for name in ("create_room", "calendar_event", "notify_invitees"):
        expect(app.get_by_test_id(f"step-{name}")).to_have_attribute("data-state", "done")
    join = app.get_by_test_id("join-link")
    href = join.get_attribute("href")
    assert href.startswith("https://telemost.yandex.ru/j/")
    app.get_by_test_id("copy-join").click()
    expect(app.get_by_test_id("toast")).to_be_visible()
    portal.shot("03-ready")
    assert portal.clipboard() == href
    room = stack.telemost_state()["conferences"][0]
    assert room["cohosts"] == ["boris@yandex.ru"]
    assert [n["user_id"] for n in stack.bitrix_state()["notifications"]] == [3]


def test_a_broadcast_gets_a_watch_link(portal):
    app = portal.open(2)
    app.get_by_test_id("new-conference").click()
    form = app.get_by_test_id("conference-form")
    form.get_by_test_id("field-type-broadcast").check()
    form.get_by_test_id("field-name").fill("Town hall")
    form.get_by_test_id("field-live-title").fill("Town hall live")
    form.get_by_test_id("submit-conference").click()

    card_ready(app)
    assert app.get_by_test_id("watch-link").get_attribute("href").startswith("https://telemost.yandex.ru/live/")
    portal.shot("04-broadcast")


def test_the_servers_field_errors_show_beside_their_fields(portal):
    app = portal.open(2)
    app.get_by_test_id("new-conference").click()
    form = app.get_by_test_id("conference-form")
    form.get_by_test_id("field-cohost-input").fill("not-an-email")
    form.get_by_test_id("add-cohost").click()
    form.get_by_test_id("submit-conference").click()
    expect(form.get_by_test_id("error-name")).to_be_visible()
    portal.shot("05-errors")


def test_history_search_edit_and_cancel(portal, stack):
    api = stack.login(5)  # Dmitry: no other test makes conferences as him
    for name in ("Retro", "Demo day", "Design review"):
        api.wait_final(api.create({"name": name})["id"])
    app = portal.open(5)
    history = app.get_by_test_id("history")
    expect(history.get_by_test_id("history-item")).to_have_count(3)
    history.get_by_test_id("history-search").fill("demo")
    expect(history.get_by_test_id("history-item")).to_have_count(1)
    expect(history.get_by_test_id("history-item")).to_contain_text("Demo day")
    portal.shot("06-history-search")

    history.get_by_test_id("edit-button").click()
    form = app.get_by_test_id("conference-form")
    expect(form.get_by_test_id("field-name")).to_have_value("Demo day")
    form.get_by_test_id("field-name").fill("Demo day (final)")
    form.get_by_test_id("submit-conference").click()
    card_ready(app)
    portal.shot("07-edited")
    history.get_by_test_id("history-search").fill("final")
    expect(history.get_by_test_id("history-item")).to_have_count(1)

    history.get_by_test_id("cancel-button").click()
    app.get_by_test_id("confirm-yes").click()
    expect(history.get_by_test_id("history-item").first).to_have_attribute("data-status", "cancelled",
                                                                          timeout=READY_TIMEOUT)
    portal.shot("08-cancelled")


def test_a_failed_step_shows_its_message_and_retry_fixes_it(portal, stack):
    app = portal.open(2)
    stack.telemost_faults(error_rate=1.0, status=403)
    fill_meeting(app, "Blocked for now")
    app.get_by_test_id("submit-conference").click()

    expect(app.get_by_test_id("conference-card")).to_have_attribute("data-status", "failed", timeout=READY_TIMEOUT)
    expect(app.get_by_test_id("step-error").first).to_contain_text("Яндекс 360")
    portal.shot("09-failed")
    stack.telemost_faults()
    app.get_by_test_id("retry-button").click()
    card_ready(app)


def test_another_user_sees_none_of_the_first_users_conferences(portal, stack):
    api = stack.login(2)
    api.wait_final(api.create({"name": "Anna's private sync"})["id"])
    app = portal.open(3)  # Sergey owns no conference in any test
    expect(app.get_by_test_id("empty-state")).to_be_visible()
    expect(app.get_by_test_id("history-item")).to_have_count(0)
    portal.shot("10-other-user-empty")


def test_russian_by_default_and_english_when_the_portal_says_so(portal):
    app = portal.open(2)
    assert CYRILLIC.search(app.get_by_test_id("new-conference").inner_text())
    app = portal.open(2, lang="en")
    assert not CYRILLIC.search(app.get_by_test_id("new-conference").inner_text())
    portal.shot("11-english")


def test_works_in_a_600_pixel_frame(portal, page):
    page.set_viewport_size({"width": 640, "height": 900})
    app = portal.open(2)
    app.get_by_test_id("new-conference").click()
    width = app.locator("body").evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert width[0] <= width[1] + 1, width
    portal.shot("12-narrow-form")


INJECT = """() => new Promise((resolve) => {
    document.addEventListener("securitypolicyviolation",
        (e) => resolve({ran: window.__injected === true, directive: e.violatedDirective}), {once: true});
    const script = document.createElement("script");
    script.textContent = "window.__injected = true";
    document.body.appendChild(script);
    if (window.__injected === true) resolve({ran: true, directive: null});
})"""


def test_a_script_injected_into_the_app_page_does_not_run(portal, csp_violations):
    """What an HTML injection would do: add an inline script. The page's CSP admits only its nonce's."""
    portal.open(2)
    result = portal.page.frame(name="app-frame").evaluate(INJECT)
    assert result == {"ran": False, "directive": "script-src-elem"}
    for _ in range(50):  # the browser reports it to the test asynchronously, twice: event and console
        if len(csp_violations) >= 2:
            break
        portal.page.wait_for_timeout(100)
    assert any(v.get("directive") == "script-src-elem" for v in csp_violations), csp_violations
    csp_violations.clear()  # expected here; the fixture fails any other test that has one
