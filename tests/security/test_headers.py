"""Security headers (issue 12, finding 14): a strict Content-Security-Policy on the app's pages, nosniff and
no-referrer on every answer, no-store on the API. The browser's side (no violation on the real page, an
injected script blocked) is in tests/e2e."""
from __future__ import annotations

import re

import requests

from tests.integration.test_pipeline import meeting

BX24_SANDBOX = "/_sandbox/bx24.js"
INLINE = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1>", re.S)


def policy(response: requests.Response) -> dict[str, list[str]]:
    """{directive: its sources}."""
    header = response.headers["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in header.split(";") if part.strip())}


def nonce_of(response: requests.Response) -> str:
    [nonce] = [s[len("'nonce-"):-1] for s in policy(response)["script-src"] if s.startswith("'nonce-")]
    return nonce


def inline_blocks(page: str) -> list[tuple[str, str]]:
    """(tag, attributes) of every inline script or style that a browser would run or apply."""
    return [(tag, attrs) for tag, attrs, _ in INLINE.findall(page)
            if "src=" not in attrs and 'type="application/json"' not in attrs]


def assert_strict_page(response: requests.Response, carries_inline_blocks: bool = True) -> None:
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'self'" in csp[directive]
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "data:"} & set(csp[directive])
    blocks = inline_blocks(response.text)
    assert bool(blocks) == carries_inline_blocks  # so that the nonce check below is not vacuous
    assert all(f'nonce="{nonce_of(response)}"' in attrs for _, attrs in blocks), blocks
    assert response.headers["Cache-Control"] == "no-store"


def test_the_app_page_allows_only_its_own_scripts_the_bx24_host_and_its_nonce(stack):
    page = stack.open_app(2)  # Anna, an ordinary employee
    assert page.status_code == 200, page.text
    assert_strict_page(page, carries_inline_blocks=False)  # the built app's look is all in its bundle
    csp = policy(page)
    assert csp["script-src"][2:] == [stack.bitrix_url]  # 'self', the nonce, the BX24 script's host: no other
    assert f'<script src="{stack.bitrix_url}{BX24_SANDBOX}">' in page.text
    assert csp["frame-ancestors"] == ["'self'", stack.bitrix_url]
    assert csp["connect-src"] == ["'self'", stack.bitrix_url]  # BX24.callMethod calls the portal itself
    assert nonce_of(stack.open_app(2)) != nonce_of(page)  # one per answer


def test_the_install_page_is_as_strict(stack):
    page = stack.open_app(1, "/install")
    assert page.status_code == 200, page.text
    assert_strict_page(page)
    assert policy(page)["frame-ancestors"] == ["'self'", stack.bitrix_url]


def test_a_page_without_a_portal_is_as_strict(stack):
    popup = requests.get(stack.web_url + "/auth/yandex/callback", timeout=10)  # the Yandex popup's answer page
    assert "text/html" in popup.headers["Content-Type"]
    assert_strict_page(popup)
    refused = stack.open_app(2, form={"AUTH_ID": "forged"})
    assert refused.status_code == 401
    assert policy(refused)["default-src"] == ["'self'"] and refused.headers["Cache-Control"] == "no-store"


def test_every_answer_is_not_sniffed_and_sends_no_referrer(stack, anna):
    api = anna.create(meeting())
    static = re.search(r'src="([^"]+\.js)"', stack.open_app(2).text.replace(f"{stack.bitrix_url}{BX24_SANDBOX}", ""))
    answers = {
        "page": stack.open_app(2),
        "API 200": anna.request("GET", f"/api/conferences/{api['id']}"),
        "API 401": requests.get(stack.web_url + "/api/conferences", timeout=10),
        "API 404": anna.request("GET", "/api/conferences/999999"),
        "API 422": anna.request("POST", "/api/conferences", json={"name": ""}),
        "no such route": requests.get(stack.web_url + "/no-such-page", timeout=10),
        "made-up method": requests.request("FAKE", stack.web_url + "/health", timeout=10),
        "health": requests.get(stack.web_url + "/health", timeout=10),
        "metrics": requests.get(stack.web_url + "/metrics", timeout=10),
        "openapi": requests.get(stack.web_url + "/api/openapi.json", timeout=10),
    }
    if static:  # the front end is built (make test builds it)
        answers["bundle"] = requests.get(stack.web_url + static[1], timeout=10)
    for name, response in answers.items():
        assert response.headers.get("X-Content-Type-Options") == "nosniff", name
        assert response.headers.get("Referrer-Policy") == "no-referrer", name
        assert "Content-Security-Policy" in response.headers, name
    for name in ("API 200", "API 401", "API 404", "API 422", "openapi"):
        assert answers[name].headers.get("Cache-Control") == "no-store", name
    # Not a page: even opened as a document, it runs nothing.
    assert policy(answers["API 401"])["default-src"] == ["'none'"]
    if static:
        assert "no-store" not in answers["bundle"].headers.get("Cache-Control", "")  # the bundle stays cacheable
    anna.wait_final(api["id"])
