"""Keyboard only, every flow (issue 15): a person who never touches the mouse creates a meeting (with an
invitee from the picker), edits it and cancels it, and the focus is always where they go on from, visibly."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import forget_conferences
from .test_app_in_portal import card_ready, tomorrow

ACTIVE = "document.activeElement && document.activeElement.dataset.testid || null"
# Whatever marks the focus: an outline, or a ring (box-shadow) as the text fields have.
FOCUS_SHOWN = """() => { const s = getComputedStyle(document.activeElement);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none' }"""


class Keyboard:
    def __init__(self, portal) -> None:
        self.page = portal.page
        self.frame = portal.page.frame(name="app-frame")

    @property
    def focused(self) -> str | None:
        return self.frame.evaluate(ACTIVE)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def tab_to(self, testid: str, limit: int = 40, backwards: bool = False) -> None:
        """Tab (or Shift+Tab) until the element is focused: it must be reachable in the tab order."""
        for _ in range(limit):
            if self.focused == testid:
                assert self.frame.evaluate(FOCUS_SHOWN), f"{testid} has the focus but does not show it"
                return
            self.press("Shift+Tab" if backwards else "Tab")
        raise AssertionError(f"{testid} not reached by {'Shift+' if backwards else ''}Tab; focus on {self.focused}")

    def wait_focus(self, testid: str) -> None:
        self.frame.wait_for_function(f"() => ({ACTIVE}) === {testid!r}", timeout=5000)


def test_create_edit_and_cancel_with_the_keyboard_alone(portal, stack):
    forget_conferences(stack, 4)  # Olga's, so that hers is the only one in the history
    app = portal.open(4)
    keys = Keyboard(portal)
    portal.page.locator("iframe[name=app-frame]").focus()

    # Escape closes the form and gives the focus back to the button that opened it.
    keys.tab_to("new-conference")
    keys.press("Enter")
    keys.wait_focus("field-name")
    keys.press("Escape")
    expect(app.get_by_test_id("conference-form")).to_have_count(0)
    keys.wait_focus("new-conference")

    # The form, field by field; the people picker by arrows and Enter, closed after the choice.
    keys.press("Enter")
    keys.wait_focus("field-name")
    keys.type("Клавиатурная планёрка")
    keys.tab_to("field-date")
    keys.type(tomorrow())
    keys.tab_to("field-time")
    keys.type("11:00")
    keys.tab_to("invitee-search")
    keys.type("Serg")
    expect(app.get_by_test_id("invitee-option").first).to_be_visible()
    keys.press("ArrowDown")
    keys.wait_focus("invitee-option")
    keys.press("Enter")
    expect(app.get_by_test_id("invitee-chip")).to_have_count(1)
    expect(app.get_by_test_id("invitee-option")).to_have_count(0)
    keys.wait_focus("invitee-search")
    keys.tab_to("submit-conference")
    keys.press("Enter")

    # After the create the focus is on the card.
    keys.wait_focus("conference-card")
    card_ready(app)

    # Edit from the card, then Escape: the card comes back and has the focus.
    keys.tab_to("card-edit")
    keys.press("Enter")
    keys.wait_focus("field-name")
    keys.press("Escape")
    keys.wait_focus("conference-card")

    # Edit and save: the focus is on the card again.
    keys.tab_to("card-edit")
    keys.press("Enter")
    keys.wait_focus("field-name")
    keys.press("End")
    keys.type(" (перенесли)")
    keys.tab_to("submit-conference")
    keys.press("Enter")
    keys.wait_focus("conference-card")
    expect(app.get_by_test_id("conference-card")).to_contain_text("(перенесли)")
    card_ready(app)

    # Cancel from the history: the question takes the focus (on "keep it"), Escape answers no and gives
    # the focus back; then yes, and the focus is on the card of the cancelled meeting.
    keys.tab_to("cancel-button")
    keys.press("Enter")
    expect(app.get_by_test_id("confirm-dialog")).to_be_visible()
    keys.wait_focus("confirm-no")
    keys.press("Escape")
    expect(app.get_by_test_id("confirm-dialog")).to_have_count(0)
    keys.wait_focus("cancel-button")
    keys.press("Enter")
    keys.wait_focus("confirm-no")
    keys.press("Tab")
    keys.wait_focus("confirm-yes")
    keys.press("Tab")  # the question keeps the focus inside it
    keys.wait_focus("confirm-no")
    keys.press("Shift+Tab")
    keys.wait_focus("confirm-yes")
    keys.press("Enter")
    keys.wait_focus("conference-card")
    expect(app.get_by_test_id("conference-card")).to_have_attribute("data-status", "cancelled", timeout=30000)
    assert [c["status"] for c in stack.login(4).request("GET", "/api/conferences").json()["items"]] == ["cancelled"]
