"""Browser tests: Playwright drives Debian's Chromium through the sandbox portal page, as a user would."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect, sync_playwright

from shared.db import Database
from shared.models import Conference

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# This machine has no network but the package registries: Chromium must not try to phone home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(autouse=True)
def _fresh_sandbox(clean_sandbox):
    yield


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every frame of every page reports what its Content-Security-Policy refused (the app's frame included).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolation(
    {page: location.href, directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample}));
"""


@pytest.fixture
def csp_violations() -> list:
    """What the pages' CSP refused in a test: empty at its end, or the test fails (issue 12, finding 14)."""
    return []


@pytest.fixture
def page(browser, stack, csp_violations):
    context = browser.new_context(viewport={"width": 900, "height": 900}, locale="ru-RU",
                                  timezone_id="Europe/Moscow")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.web_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.bitrix_url)
    context.expose_binding("__cspViolation", lambda source, violation: csp_violations.append(violation))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    # Chromium also says so in the console ("... violates the following Content Security Policy directive ...").
    context.on("console", lambda message: csp_violations.append({"console": message.text})
               if "Content Security Policy" in message.text else None)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
    assert csp_violations == []


def screenshot_path(name: str) -> str:
    SCREENSHOTS.mkdir(exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")


class Portal:
    """The sandbox portal page with the app in its iframe."""

    def __init__(self, page: Page, stack) -> None:
        self.page, self.stack = page, stack

    def open(self, user_id: int, lang: str | None = None) -> Frame:
        query = f"?user_id={user_id}" + (f"&lang={lang}" if lang else "")
        self.page.goto(f"{self.stack.bitrix_url}/{query}")
        frame = self.page.frame_locator("iframe[name=app-frame]")
        expect(frame.get_by_test_id("new-conference")).to_be_visible(timeout=20000)
        return self.app

    @property
    def app(self):
        return self.page.frame_locator("iframe[name=app-frame]")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=screenshot_path(name), full_page=True)

    def shot_frame(self, name: str) -> None:
        """The app alone, as its frame shows it: what the README's pictures are."""
        self.page.locator("iframe[name=app-frame]").screenshot(path=screenshot_path(name))

    def clipboard(self) -> str:
        return self.page.evaluate("navigator.clipboard.readText()")


@pytest.fixture
def portal(page, stack) -> Portal:
    return Portal(page, stack)


CYRILLIC = re.compile("[А-Яа-яЁё]")


def forget_conferences(stack, owner_id: int) -> None:
    """The database outlives each test's sandbox reset: a screen that starts empty needs its user's conferences gone."""
    database = Database(stack.env["DATABASE_URL"])
    try:
        with database.write() as session:
            for conference in session.query(Conference).filter(Conference.owner_id == owner_id):
                session.delete(conference)
    finally:
        database.dispose()
