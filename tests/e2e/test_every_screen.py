"""Every screen of the app, in Russian and in English, at the Bitrix24 mobile app's width (360 px) and at
desktop width, in the portal's light and dark themes: axe-core finds no violation at all and no interface
text is left untranslated (issue 15).

Four walks instead of eight: each pair of (language, width), (language, theme) and (width, theme) is
walked once (a pairwise covering set). The text depends on the language, the layout on the width, the
colours on the theme; a fault that needs all three at once is not one these checks can find.

The browser's own locale stays ru-RU in all of them (conftest): the interface's language must come from
the portal's LANG, not from the browser.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .checks import axe_violations, describe_violations, untranslated_texts
from .conftest import forget_conferences
from .test_app_in_portal import READY_TIMEOUT, card_ready, tomorrow

WALKER = 6  # Maria: no other test makes conferences as her, and the walk starts with none


class Walk:
    def __init__(self, portal, language: str, name: str) -> None:
        self.portal, self.language, self.name = portal, language, name
        self.seen: list[str] = []

    def check(self, screen: str) -> None:
        """The screen as it is now: no axe violation, nothing untranslated; its screenshot kept."""
        frame = self.portal.page.frame(name="app-frame")
        violations = axe_violations(frame)
        assert violations == [], f"{self.name} {screen}: {describe_violations(violations)}"
        assert untranslated_texts(frame, self.language) == [], f"{self.name} {screen}"
        self.portal.shot(f"screen-{self.name}-{screen}")
        self.portal.shot_frame(f"frame-{self.name}-{screen}")
        self.seen.append(screen)


# Russian at desktop width in the light theme first: its frames are the README's pictures (make pictures).
WALKS = [("ru", 1280, "light"), ("ru", 360, "dark"), ("en", 1280, "dark"), ("en", 360, "light")]


@pytest.mark.parametrize(("language", "width", "theme"), WALKS, ids=["-".join(map(str, walk)) for walk in WALKS])
def test_every_screen_passes_axe_and_is_fully_translated(portal, page, stack, language, width, theme):
    forget_conferences(stack, WALKER)
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=theme)
    walk = Walk(portal, language, f"{language}-{width}-{theme}")
    app = portal.open(WALKER, lang=None if language == "ru" else language)
    expect(app.get_by_test_id("empty-state")).to_be_visible()
    walk.check("empty")

    # The form, sent empty with a broadcast's fields open and a bad cohost: the field errors.
    app.get_by_test_id("new-conference").click()
    form = app.get_by_test_id("conference-form")
    form.get_by_test_id("field-type-broadcast").check()
    form.get_by_test_id("field-cohost-input").fill("not-an-email")
    form.get_by_test_id("add-cohost").click()
    form.get_by_test_id("submit-conference").click()
    expect(form.get_by_test_id("error-name")).to_be_visible()
    walk.check("form-errors")

    # A meeting with a cohost and an invitee; the people picker open with its suggestions.
    form.get_by_test_id("field-type-conference").check()
    form.get_by_test_id("field-cohost-input").fill("boris@yandex.ru")
    form.get_by_test_id("add-cohost").click()
    form.get_by_test_id("field-name").fill("Планёрка отдела")
    form.get_by_test_id("field-date").fill(tomorrow())
    form.get_by_test_id("field-time").fill("10:30")
    form.get_by_test_id("invitee-search").fill("Serg")
    expect(form.get_by_test_id("invitee-option").first).to_be_visible()
    walk.check("form-picker")
    form.get_by_test_id("invitee-option").first.click()
    expect(form.get_by_test_id("invitee-chip")).to_have_count(1)
    walk.check("form")

    # In progress: the room is there, the calendar event is slow to come.
    stack.bitrix_faults(latency_ms=2500, path="batch")  # the event is made in a batch
    form.get_by_test_id("submit-conference").click()
    card = app.get_by_test_id("conference-card")
    expect(app.get_by_test_id("join-link")).to_be_visible(timeout=READY_TIMEOUT)
    expect(app.get_by_test_id("step-calendar_event")).not_to_have_attribute("data-state", "done")
    walk.check("progress")
    stack.bitrix_faults()
    card_ready(app)
    walk.check("ready")

    # A broadcast that Telemost refuses: the failed step says why and offers what fixes it.
    stack.telemost_faults(error_rate=1.0, status=403)
    app.get_by_test_id("new-conference").click()
    form.get_by_test_id("field-type-broadcast").check()
    form.get_by_test_id("field-name").fill("Town hall")
    form.get_by_test_id("submit-conference").click()
    expect(card).to_have_attribute("data-status", "failed", timeout=READY_TIMEOUT)
    expect(app.get_by_test_id("step-error").first).to_be_visible()
    walk.check("failed")
    stack.telemost_faults()

    # The history: a search that finds nothing, then a cancel and its question, then the cancelled row.
    history = app.get_by_test_id("history")
    expect(history.get_by_test_id("history-item")).to_have_count(2)
    history.get_by_test_id("history-search").fill("zzzz")
    expect(history.get_by_test_id("history-item")).to_have_count(0)
    walk.check("history-nothing-found")
    history.get_by_test_id("history-search").fill("")
    expect(history.get_by_test_id("history-item")).to_have_count(2)
    app.get_by_test_id("close-card").click()
    walk.check("history")
    planning = history.get_by_test_id("history-item").filter(has_text="Планёрка")
    planning.get_by_test_id("cancel-button").click()
    expect(app.get_by_test_id("confirm-dialog")).to_be_visible()
    walk.check("confirm-cancel")
    app.get_by_test_id("confirm-yes").click()
    expect(planning).to_have_attribute("data-status", "cancelled", timeout=READY_TIMEOUT)
    walk.check("cancelled")

    # Editing the failed broadcast: the form filled in, its type locked.
    history.get_by_test_id("history-item").filter(has_text="Town hall").get_by_test_id("edit-button").click()
    expect(form.get_by_test_id("field-name")).to_have_value("Town hall")
    walk.check("edit")
    assert len(walk.seen) == 12
