"""Each screen of the main flow, in Russian at the Bitrix24 mobile app's width and in English at desktop
width: axe-core finds no violation at all and no interface text is left untranslated (issue 15).

The browser's own locale stays ru-RU in both (conftest): the interface's language must come from the
portal's LANG, not from the browser.
"""
from __future__ import annotations

import pytest

from .checks import axe_violations, describe_violations, untranslated_texts
from .test_app_in_portal import card_ready, fill_meeting


def check_screen(portal, language: str, screen: str) -> None:
    frame = portal.page.frame(name="app-frame")
    violations = axe_violations(frame)
    assert violations == [], f"{screen}: {describe_violations(violations)}"
    assert untranslated_texts(frame, language) == [], screen
    portal.shot(f"screen-{language}-{screen}")


@pytest.mark.parametrize(("language", "width"), [("ru", 360), ("en", 1280)])
def test_start_form_and_ready_card_pass_axe_and_are_fully_translated(portal, page, language, width):
    page.set_viewport_size({"width": width, "height": 900})
    app = portal.open(2, lang=None if language == "ru" else language)
    check_screen(portal, language, f"{width}-start")
    fill_meeting(app, "Планёрка", cohost="boris@yandex.ru", invitee_query="Serg")
    check_screen(portal, language, f"{width}-form")
    app.get_by_test_id("submit-conference").click()
    card_ready(app)
    check_screen(portal, language, f"{width}-ready")
