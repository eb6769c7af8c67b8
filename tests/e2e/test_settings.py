"""The settings page (issue 17) in Chromium, through the sandbox portal: an administrator turns meeting notes
on by default and limits broadcasts to administrators, saves, and reads the change in the history (in
Russian, then in English); a weekly series made from the form says on its card that it repeats and that
its notes are on; an employee who is no administrator sees no settings tab, and a broadcast of theirs is
refused with the setting's name. One test, three page loads: the settings are the portal's, shared by all."""
from __future__ import annotations

from playwright.sync_api import expect

from shared.db import Database
from shared.models import PortalSettings, SettingsChange, YandexAccount

from .conftest import forget_conferences
from .test_app_in_portal import tomorrow

ADMIN, EMPLOYEE = 1, 2


def forget_settings(stack) -> None:
    """The database outlives each test's sandbox reset: the portal starts from the built-in defaults."""
    database = Database(stack.env["DATABASE_URL"])
    try:
        with database.write() as session:
            session.query(SettingsChange).delete()
            session.query(PortalSettings).delete()
            session.query(YandexAccount).filter(YandexAccount.user_id == 0).delete()  # the organisation
    finally:
        database.dispose()


def test_an_administrator_sets_the_defaults_and_everyone_gets_them(portal, stack):
    forget_settings(stack)
    forget_conferences(stack, ADMIN)
    forget_conferences(stack, EMPLOYEE)

    app = portal.open(ADMIN)
    app.get_by_test_id("tab-settings").click()
    settings = app.get_by_test_id("settings-form")
    expect(app.get_by_test_id("changes-empty")).to_be_visible()
    expect(app.get_by_test_id("rooms-made-with")).to_be_visible()
    settings.get_by_test_id("settings-notes").check()
    settings.get_by_test_id("settings-broadcasts-admins").check()
    settings.get_by_test_id("settings-save").click()
    change = app.get_by_test_id("change").first
    expect(change.locator('[data-setting="defaults.auto_summary"]')).to_have_text("Конспект встречи: нет → да")
    expect(change.locator('[data-setting="broadcasts"]')).to_have_text(
        "Кто может создавать трансляции: Все сотрудники → Только администраторы портала")
    expect(app.get_by_test_id("settings-updated")).to_contain_text("Ivan")
    portal.shot("50-settings-ru")

    # The form starts from the portal's defaults; a weekly series on Mondays and Wednesdays, five times.
    app.get_by_test_id("tab-meetings").click()
    app.get_by_test_id("new-conference").click()
    form = app.get_by_test_id("conference-form")
    expect(form.get_by_test_id("field-notes")).to_be_checked()
    form.get_by_test_id("field-name").fill("Планёрка")
    form.get_by_test_id("field-date").fill(tomorrow())
    form.get_by_test_id("field-time").fill("10:00")
    form.get_by_test_id("field-repeat").select_option("WEEKLY")
    form.get_by_test_id("field-repeat-day-MO").check()
    form.get_by_test_id("field-repeat-day-WE").check()
    form.get_by_test_id("field-repeat-ends-count").check()
    form.get_by_test_id("field-repeat-count").fill("5")
    portal.shot("51-series-form-ru")
    form.get_by_test_id("submit-conference").click()
    card = app.get_by_test_id("conference-card")
    expect(card.get_by_test_id("card-recurrence")).to_have_text("Повторяется каждую неделю по пн, ср, 5 раз")
    expect(card.get_by_test_id("card-notes")).to_be_visible()
    portal.shot("52-series-card-ru")

    # In English, the history names the settings and their values in English.
    app = portal.open(ADMIN, lang="en")
    app.get_by_test_id("tab-settings").click()
    change = app.get_by_test_id("change").first
    expect(change.locator('[data-setting="defaults.auto_summary"]')).to_have_text("Meeting notes: no → yes")
    expect(change.locator('[data-setting="broadcasts"]')).to_have_text(
        "Who may make broadcasts: Every employee → Portal administrators only")
    portal.shot("53-settings-en")

    # The administrator connects the sandbox organisation: the Yandex sign-in in a popup, as an organisation
    # account; the page then says the portal's rooms are made with it.
    with portal.page.expect_popup() as signing_in:
        app.get_by_test_id("org-connect").click()
    yandex = signing_in.value
    yandex.get_by_role("button", name="ivan.petrov@example.com").click()
    expect(app.get_by_test_id("org-status")).to_have_attribute("data-connected", "true")
    expect(app.get_by_test_id("rooms-made-with")).to_have_attribute("data-value", "organisation")
    expect(app.get_by_test_id("change").first.locator('[data-setting="yandex.organisation"]')).to_have_text(
        "Yandex 360 organisation: not set → ivan.petrov@example.com")
    portal.shot("55-organisation-connected-en")

    # Someone who is no administrator: no settings tab; a broadcast is refused, saying why.
    app = portal.open(EMPLOYEE, lang="en")
    expect(app.get_by_test_id("tab-settings")).to_have_count(0)
    app.get_by_test_id("new-conference").click()
    form = app.get_by_test_id("conference-form")
    expect(form.get_by_test_id("field-notes")).to_be_checked()  # the portal's default, read by anyone
    form.get_by_test_id("field-type-broadcast").check()
    form.get_by_test_id("field-name").fill("Town hall")
    form.get_by_test_id("submit-conference").click()
    expect(form.get_by_test_id("form-error")).to_contain_text("Only portal administrators may make broadcasts")
    portal.shot("54-broadcast-refused-en")
    form.get_by_test_id("field-type-conference").check()
    form.get_by_test_id("submit-conference").click()
    expect(app.get_by_test_id("join-link")).to_be_visible()
    rooms = stack.telemost_state()["conferences"]
    assert rooms[-1]["owner_token"] == "oauth:ivan.petrov@example.com"  # the portal's organisation made it
    assert stack.telemost_state()["conferences"] == [] or all(
        room.get("live_stream") is None for room in stack.telemost_state()["conferences"])
