"""The browser checks (checks.py) catch what they must: on small pages of their own, no app or sandbox."""
from __future__ import annotations

import pytest

from . import checks
from .checks import (
    axe_violations,
    blank_out_links,
    describe_violations,
    flag_untranslated,
    perceived_texts,
    raw_keys,
    untranslated_texts,
)

CSP = "default-src 'none'; script-src 'nonce-abc'; style-src 'unsafe-inline'"
CSP_URL = "http://checks.test/"


@pytest.fixture(autouse=True)
def _fresh_sandbox():
    """These tests need only the browser: not the sandbox stack the e2e conftest starts for each test."""
    yield


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    page.set_default_timeout(5000)
    yield page
    context.close()


def html(body: str, lang: str = "ru", head: str = "") -> str:
    return f"<!doctype html><html lang='{lang}'><head><title>Проверка</title>{head}</head><body>{body}</body></html>"


# -- axe --------------------------------------------------------------------------------------------------

CLEAN = html("<main><h1>Hello</h1><label for='name'>Name</label> <input id='name'></main>", lang="en")


def ids(violations) -> set[str]:
    return {violation["id"] for violation in violations}


def test_a_clean_page_has_no_violations(page):
    page.set_content(CLEAN)
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)


def test_a_missing_alt_and_faint_text_are_violations(page):
    page.set_content(html("<main><h1>Заголовок</h1><img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
                          "<p style='color:#ddd;background:#fff'>Бледный текст</p></main>"))
    violations = axe_violations(page)
    assert {"image-alt", "color-contrast"} <= ids(violations), describe_violations(violations)
    contrast = next(v for v in violations if v["id"] == "color-contrast")
    assert contrast["impact"] == "serious" and contrast["nodes"][0]["target"] == ["p"]
    assert "insufficient color contrast" in contrast["nodes"][0]["failureSummary"]


def test_axe_runs_under_a_strict_csp_once_per_document(page):
    body = ("<main><h1>Под CSP</h1><input></main>"
            "<script>window.inlineRan = true</script><script nonce='abc'>window.nonceRan = true</script>")
    page.route(CSP_URL, lambda route: route.fulfill(
        status=200, body=html(body), headers={"Content-Type": "text/html; charset=utf-8",
                                              "Content-Security-Policy": CSP}))
    page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                         " (e) => window.__csp.push(e.violatedDirective));")
    page.goto(CSP_URL)
    # The policy is in force: the inline script without the nonce was refused, the one with it ran.
    assert page.evaluate("[window.inlineRan, window.nonceRan]") == [None, True]
    violations = axe_violations(page)
    assert "label" in ids(violations), describe_violations(violations)
    # Injecting and running axe broke no rule of the policy (the one refusal is the inline script's).
    refused = page.evaluate("new Promise((done) => setTimeout(() => done(window.__csp), 50))")
    assert len(refused) == 1 and refused[0].startswith("script-src"), refused
    # A second check in the same document runs the axe already there.
    page.evaluate("window.axe.__injectedOnce = true")
    assert "label" in ids(axe_violations(page))
    assert page.evaluate("window.axe.__injectedOnce") is True


def test_axe_source_is_read_once():
    assert checks.axe_source() is checks.axe_source()
    assert checks.axe_source().startswith("/*! axe v")


# -- untranslated text in the page ------------------------------------------------------------------------

# (body, language, what the user perceives, what is flagged): both, so a case also fails when the walk
# misses a piece it should read (a "not flagged" would otherwise pass on an empty list).
PAGES = {
    "ru, a Russian word": ("<button>Создать</button>", "ru", ["Создать"], []),
    "ru, English text": ("<h1>Create meeting</h1>", "ru", ["Create meeting"], ["Create meeting"]),
    "ru, a name not to translate": ("<p>Организатор: <span translate='no'>John Smith</span></p>", "ru",
                                    ["Организатор:"], []),
    "ru, a link": ("<p>Ссылка: https://telemost.yandex.ru/j/123</p>", "ru",
                   ["Ссылка: https://telemost.yandex.ru/j/123"], []),
    "ru, an e-mail": ("<p>пишите на anna@example.com</p>", "ru", ["пишите на anna@example.com"], []),
    "ru, a time zone": ("<span>UTC+03:00 Москва</span>", "ru", ["UTC+03:00 Москва"], []),
    "ru, a placeholder": ("<input aria-label='Поиск' placeholder='Search people'>", "ru",
                          ["Search people", "Поиск"], ["Search people"]),
    "ru, a raw key": ("<label>form.name</label>", "ru", ["form.name"], ["form.name"]),
    "ru, hidden text": ("<p>Готово</p><div style='display:none'>Create meeting</div><div hidden>Delete</div>"
                        "<p style='visibility:hidden'>Cancel</p>", "ru", ["Готово"], []),
    "ru, aria-hidden text is seen": ("<p>Закрыть <span aria-hidden='true'>Close</span></p>", "ru",
                                     ["Закрыть", "Close"], ["Close"]),
    "ru, an option": ("<select aria-label='Язык'><option>Русский</option><option>English</option></select>",
                      "ru", ["Язык", "Русский", "English"], ["English"]),
    "ru, a button input and a title": ("<input type='submit' value='Send'><abbr title='Moscow time'>МСК</abbr>",
                                       "ru", ["Send", "Moscow time", "МСК"], ["Send", "Moscow time"]),
    "en, an English word": ("<button>Create</button>", "en", ["Create"], []),
    "en, a Russian word": ("<button>Создать</button>", "en", ["Создать"], ["Создать"]),
    "en, a Russian name not to translate": (
        "<p>Organizer: <span translate='no'>Анна Иванова</span></p>", "en", ["Organizer:"], []),
    "en, a raw key": ("<p>step.create_room</p>", "en", ["step.create_room"], ["step.create_room"]),
}


@pytest.mark.parametrize(("body", "language", "perceived", "flagged"), PAGES.values(), ids=PAGES.keys())
def test_untranslated_texts(page, body, language, perceived, flagged):
    page.set_content(html(f"<main>{body}</main>", lang=language))
    assert perceived_texts(page) == perceived
    assert untranslated_texts(page, language) == flagged


def test_untranslated_texts_in_a_frame(page):
    page.set_content(html("<iframe name='inner' srcdoc=\"<p>Create meeting</p><p>Создать</p>\"></iframe>"))
    frame = page.frame(name="inner")
    assert untranslated_texts(frame, "ru") == ["Create meeting"]
    assert untranslated_texts(frame, "en") == ["Создать"]


# -- the flagging, without a browser ----------------------------------------------------------------------

def test_russian_with_the_allowed_latin_words_passes():
    assert flag_untranslated(["Создать", "UTC+03:00 Москва", "ID встречи: 42", "OK", "Приложение для Bitrix24",
                              "GMT+3", "12:30, 5 мин."], "ru") == []


@pytest.mark.parametrize("piece", ["Create meeting", "Bitrix", "Ok", "IDs встреч", "Встреча (draft)", "10 MB"])
def test_russian_with_any_other_latin_word_is_flagged(piece):
    assert flag_untranslated([piece], "ru") == [piece]


def test_english_with_cyrillic_is_flagged():
    assert flag_untranslated(["Create", "Meeting at 10:30 UTC", "Создать", "Meeting «Планёрка»"], "en") == [
        "Создать", "Meeting «Планёрка»"]


@pytest.mark.parametrize("piece", ["form.name", "step.create_room", "Ошибка: err.network", "toast.saved!",
                                   "v.title", "status.done.long"])
@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_raw_key_is_flagged_in_both_languages(piece, language):
    assert flag_untranslated([piece], language) == [piece]


@pytest.mark.parametrize("piece", ["e.g. this", "Version 1.2", "files.zip", "Mr. Smith", "app.bitrix24.ru"])
def test_what_only_looks_like_a_key_is_not_one(piece):
    assert raw_keys(blank_out_links(piece)) == []
    assert flag_untranslated([piece], "en") == []


@pytest.mark.parametrize("piece", [
    "Ссылка: https://telemost.yandex.ru/j/123", "Ссылка: telemost.yandex.ru/j/12345678901234",
    "пишите на anna@example.com", "Портал company.bitrix24.ru", "http://localhost:8000/install?x=1",
    "Почта: Ivan.Petrov+tm@mail.example.org."])
def test_links_and_addresses_are_not_words(piece):
    assert flag_untranslated([piece], "ru") == []
    assert flag_untranslated([f"{piece} (Create)"], "ru") == [f"{piece} (Create)"]


def test_the_pieces_come_back_whole_stripped_once_in_order():
    pieces = ["  Create meeting ", "Готово", "Delete", "Create meeting", "Delete"]
    assert flag_untranslated(pieces, "ru") == ["Create meeting", "Delete"]


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        flag_untranslated(["Create"], "de")


def test_describe_violations():
    violations = [{"id": "color-contrast", "impact": "serious", "help": "Enough contrast", "nodes": [
        {"target": [f"p:nth-child({n})"],
         "failureSummary": "Fix any of the following:\n  Element has insufficient color contrast of 1.4\n  more"}
        for n in range(1, 6)]}, {"id": "label", "impact": "critical", "help": "Form elements must have labels",
                                 "nodes": [{"target": [["iframe", "input#q"]], "failureSummary": "x"}]}]
    text = describe_violations(violations)
    assert text.splitlines() == [
        "color-contrast (serious): Enough contrast [5 nodes]",
        "    p:nth-child(1): Element has insufficient color contrast of 1.4",
        "    p:nth-child(2): Element has insufficient color contrast of 1.4",
        "    p:nth-child(3): Element has insufficient color contrast of 1.4",
        "    ... and 2 more",
        "label (critical): Form elements must have labels [1 node]",
        "    iframe >>> input#q: x",
    ]
    assert describe_violations([]) == "no axe violations"
