"""The app where people already work (issue 16), in the sandbox portal in Chromium: a chat's Telemost entry
posts a card with a Join button into the chat; a deal's entry puts a to-do into its timeline; an employee
card's entry opens the form with that employee invited; the automation rule returns its link to the
workflow. Each entry is a bound placement opened by a real form POST (tests/sandbox/test_bitrix24_portal_panels.py)."""
from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from .conftest import CYRILLIC, forget_conferences
from .test_app_in_portal import READY_TIMEOUT, card_ready


def open_portal(portal, user_id: int, lang: str | None = None) -> None:
    query = f"?user_id={user_id}" + (f"&lang={lang}" if lang else "")
    portal.page.goto(f"{portal.stack.bitrix_url}/{query}")
    expect(portal.app.get_by_test_id("new-conference")).to_be_visible(timeout=20000)


def submit_draft(portal) -> None:
    form = portal.app.get_by_test_id("conference-form")
    expect(form).to_be_visible(timeout=20000)
    form.get_by_test_id("submit-conference").click()
    card_ready(portal.app)


def test_a_meeting_from_a_chat_shows_in_the_chat_as_a_card_with_a_join_button(portal, stack):
    forget_conferences(stack, 2)
    open_portal(portal, 2)
    portal.page.locator('[data-dialog-id="chat1"] a[data-placement="IM_TEXTAREA"]').click()
    form = portal.app.get_by_test_id("conference-form")
    expect(form.get_by_test_id("form-chat")).to_contain_text("Отдел продаж", timeout=20000)
    expect(form.get_by_test_id("field-name")).to_have_value("Отдел продаж")
    expect(form.get_by_test_id("invitee-chip")).to_have_count(3)  # the chat's other members
    portal.shot("40-chat-form-ru")
    submit_draft(portal)
    expect(portal.app.get_by_test_id("step-chat_message")).to_have_attribute("data-state", "done")
    join = portal.app.get_by_test_id("join-link").get_attribute("href")

    open_portal(portal, 2)
    card = portal.page.locator('[data-dialog-id="chat1"] .message').last
    expect(card.get_by_role("link", name="Join the meeting")).to_have_attribute("href", join)
    portal.shot("41-chat-card-ru")


def test_a_meeting_from_a_deal_lands_in_its_timeline(portal, stack):
    forget_conferences(stack, 2)
    open_portal(portal, 2, lang="en")
    portal.page.locator('[data-record="deal:1"] a[data-placement="CRM_DEAL_DETAIL_TOOLBAR"]').click()
    form = portal.app.get_by_test_id("conference-form")
    expect(form.get_by_test_id("form-crm")).to_contain_text("Поставка оборудования", timeout=20000)
    expect(form.get_by_test_id("field-name")).to_have_value("Поставка оборудования")
    submit_draft(portal)
    app = portal.app
    expect(app.get_by_test_id("step-crm_link")).to_have_attribute("data-state", "done")
    expect(app.get_by_test_id("card-open-crm")).to_have_text("Open the CRM record")
    portal.shot("42-deal-card-en")
    join = app.get_by_test_id("join-link").get_attribute("href")

    open_portal(portal, 2, lang="en")
    todo = portal.page.locator('[data-record="deal:1"] .todo').last
    expect(todo).to_contain_text("Meeting in Yandex Telemost: Поставка оборудования")
    expect(todo).to_contain_text(join)
    portal.shot("43-deal-timeline-en")


def test_an_employee_card_opens_the_form_with_that_employee_invited(portal, stack):
    open_portal(portal, 2)
    portal.page.locator('[data-user-id="3"] a[data-placement="USER_PROFILE_TOOLBAR"]').click()
    form = portal.app.get_by_test_id("conference-form")
    expect(form.get_by_test_id("invitee-chip")).to_have_count(1, timeout=20000)
    expect(form.get_by_test_id("invitee-chip")).to_contain_text("Sergey")
    name = form.get_by_test_id("field-name").input_value()
    assert name.startswith("Встреча: ") and CYRILLIC.search(name)
    portal.shot("44-employee-form-ru")


def test_the_automation_rule_returns_its_link_to_the_workflow(portal, stack):
    open_portal(portal, 2, lang="en")
    runner = portal.page.locator("#robot-runner")
    start = (datetime.now() + timedelta(days=1)).replace(hour=11, minute=30).strftime("%d.%m.%Y %H:%M")
    runner.locator("#robot-name").fill("Call with the client")
    runner.locator("#robot-start").fill(start)
    runner.locator("#robot-invitees").fill("3")
    runner.get_by_role("button", name="Run the rule").click()
    link = runner.locator(".robot-result a").first
    expect(link).to_be_visible(timeout=READY_TIMEOUT)
    assert link.get_attribute("href").startswith("https://telemost.yandex.ru/j/")
    portal.shot("45-robot-link-en")
    made = stack.telemost_state()["conferences"]
    assert len(made) == 1 and made[0]["join_url"] == link.get_attribute("href")
