"""Checks the browser tests run on any page or frame: accessibility (axe-core) and untranslated text.

Both work on a Playwright `Frame` (or `Page`) and report findings as data, so a test asserts on them with a
readable message. The app's page has a strict Content-Security-Policy (script-src with a nonce, no
unsafe-eval, no unsafe-inline): axe goes in through `frame.evaluate`, which Playwright sends over the
DevTools protocol, and CSP does not govern that; an inline `add_script_tag` would be refused.

The DOM walking for the text check is one `evaluate` (one round trip, and a consistent snapshot); deciding
what is untranslated happens in Python (`flag_untranslated`), so it is unit-tested without a browser.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from playwright.sync_api import Frame, Page

AXE_JS = Path(__file__).resolve().parents[2] / "web/frontend/node_modules/axe-core/axe.min.js"


@functools.cache
def axe_source() -> str:
    """axe-core's source, read once per process (about 600 kB; every test that checks a page needs it)."""
    return AXE_JS.read_text(encoding="utf-8")


# axe's default rule set (best-practice rules included) on this document only: each frame is checked on its
# own (iframes: false), so axe never waits for an answer from a child frame that has no axe in it.
# Only what a test needs crosses back: the rule, its impact and help, and each failing node's selectors.
RUN_AXE = """
async () => {
  const results = await window.axe.run(document, {resultTypes: ['violations'], iframes: false});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target, failureSummary: n.failureSummary})),
  }));
}
"""


def axe_violations(frame: Frame | Page) -> list[dict[str, Any]]:
    """axe's violations in the frame's document: [{id, impact, help, nodes: [{target, failureSummary}]}]."""
    # Once per document: a new document (a navigation, set_content) has no window.axe and gets it again.
    if not frame.evaluate("() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        frame.evaluate(axe_source())
    return frame.evaluate(RUN_AXE)


def _target(target: Any) -> str:
    # A node's target is a list of selectors; one inside a shadow root or an iframe is itself a list.
    if isinstance(target, list):
        return " >>> ".join(_target(part) for part in target)
    return str(target)


def _first_finding(summary: str | None) -> str:
    # failureSummary opens with a header ("Fix any of the following:") that says nothing: the finding is
    # the first line after it.
    lines = [line.strip() for line in (summary or "").splitlines() if line.strip()]
    findings = [line for line in lines if not line.endswith("of the following:")]
    return (findings or lines or [""])[0]


def describe_violations(violations: list[dict[str, Any]], max_targets: int = 3) -> str:
    """A few lines for an assertion message: each rule, its impact and help, and up to three nodes."""
    if not violations:
        return "no axe violations"
    lines = []
    for violation in violations:
        nodes = violation.get("nodes", [])
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation.get('help')} "
                     f"[{len(nodes)} node{'s' if len(nodes) != 1 else ''}]")
        for node in nodes[:max_targets]:
            lines.append(f"    {_target(node.get('target'))}: {_first_finding(node.get('failureSummary'))}")
        if len(nodes) > max_targets:
            lines.append(f"    ... and {len(nodes) - max_targets} more")
    return "\n".join(lines)


# Every piece of text a user perceives, one string each: visible text nodes; the attributes that are shown
# or read out (placeholder, aria-label, title, alt, a button input's value); the options of a select (its
# closed list is not rendered, yet a user opens it). Left out: what is not rendered (display:none, the
# hidden attribute, <script>/<style>), text whose own box is visibility:hidden, and whatever is inside
# translate="no" (names, e-mails, links: data, not interface). aria-hidden subtrees stay in: sighted users
# see them. CSS generated content (::before) is not read.
COLLECT_TEXTS = """
() => {
  const pieces = [];
  const add = (text) => {
    const piece = (text || '').replace(/\\s+/g, ' ').trim();
    if (piece) pieces.push(piece);
  };
  const SKIPPED = new Set(['script', 'style', 'noscript', 'template']);
  const ATTRIBUTES = ['placeholder', 'aria-label', 'title', 'alt'];
  const BUTTONS = new Set(['button', 'submit', 'reset']);
  const untranslatable = (el) => (el.getAttribute('translate') || '').trim().toLowerCase() === 'no';
  const visitChildren = (parent, shown) => {
    for (const node of parent.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) { if (shown) add(node.data); }
      else if (node.nodeType === Node.ELEMENT_NODE) visit(node);
    }
  };
  const visit = (el) => {
    if (SKIPPED.has(el.localName) || untranslatable(el) || el.hasAttribute('hidden')) return;
    const style = getComputedStyle(el);
    if (style.display === 'none') return;
    // visibility is inherited, and a child may be visible again: decided per element, never pruned.
    const shown = style.visibility === 'visible';
    if (shown) {
      for (const name of ATTRIBUTES) if (el.hasAttribute(name)) add(el.getAttribute(name));
      if (el.localName === 'input' && BUTTONS.has(el.type)) add(el.value);
    }
    if (el.localName === 'select') {
      for (const item of el.querySelectorAll('optgroup, option')) {
        if (item.hasAttribute('hidden') || item.closest('[translate="no" i]')) continue;
        add(item.localName === 'option' ? item.text : item.label);
      }
      return;
    }
    visitChildren(el, shown);
    if (el.shadowRoot) visitChildren(el.shadowRoot, shown);
  };
  visit(document.documentElement);
  return pieces;
}
"""


def perceived_texts(frame: Frame | Page) -> list[str]:
    """Every piece of text a user perceives in the frame's document (whitespace collapsed), in DOM order."""
    return frame.evaluate(COLLECT_TEXTS)


# The first segments of the app's i18n keys (web/frontend/src): "form.name" on screen is a missing message.
KEY_PREFIXES = ("app", "form", "card", "step", "status", "type", "v", "zone", "history", "server", "problem",
                "err", "yandex", "confirm", "toast")

# Latin words a Russian interface shows as they are. Kept small: each one is a word no translation replaces.
ALLOWED_LATIN = {
    "UTC",  # time zone offsets ("UTC+03:00 Москва") are written so in Russian too
    "GMT",  # the same, in zone names that some browsers give
    "Bitrix24",  # the product's name, never translated in its own Russian interface
    "ID",  # "ID встречи": the usual Russian way to write an identifier
    "OK",  # the button word Russian interfaces keep
}

# Links and addresses are data, and their Latin letters are not interface text: blanked out first.
URL = re.compile(r"https?://\S+", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A bare host needs one of the few top-level domains the app's links use (Yandex, Bitrix24 portals): with
# any, "form.name" or "form.info" (keys) would pass for hosts of the .name and .info domains.
BARE_HOST = re.compile(
    r"(?<![\w.@])(?:[\w-]+\.)+(?:ru|su|рф|com|net|org|io|by|kz|ua)"
    r"(?![\w-])(?::\d+)?(?:/\S*)?",
    re.IGNORECASE,
)
KEY = re.compile(r"\b[a-z][a-zA-Z]*(?:\.[a-zA-Z0-9_]+)+\b")
# A Latin word: a run of letters and digits with two letters in a row ("Bitrix24" is one word, "24" none).
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]*[A-Za-z]{2}[A-Za-z0-9]*(?![A-Za-z0-9])")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LANGUAGES = ("ru", "en")


def blank_out_links(text: str) -> str:
    """The text with its URLs, e-mail addresses and bare hosts replaced by a space each."""
    for pattern in (URL, EMAIL, BARE_HOST):
        text = pattern.sub(" ", text)
    return text


def raw_keys(text: str) -> list[str]:
    """The i18n keys in a text (after links are blanked): "form.name", "step.create_room"."""
    return [m.group(0) for m in KEY.finditer(text) if m.group(0).split(".", 1)[0] in KEY_PREFIXES]


def is_untranslated(piece: str, language: str) -> bool:
    """Whether one piece of text shows a raw key, or a word of the other language."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    text = blank_out_links(piece)
    if raw_keys(text):
        return True
    if language == "ru":
        return any(word not in ALLOWED_LATIN for word in LATIN_WORD.findall(text))
    return bool(CYRILLIC.search(text))


def flag_untranslated(pieces: Iterable[str], language: str) -> list[str]:
    """The pieces (stripped, each once, in order) that are untranslated in `language` ("ru" or "en")."""
    flagged: dict[str, None] = {}
    for piece in pieces:
        piece = piece.strip()
        if piece and is_untranslated(piece, language):
            flagged.setdefault(piece)
    return list(flagged)


def untranslated_texts(frame: Frame | Page, language: str) -> list[str]:
    """The pieces of text in the frame a user of `language` would find untranslated, whole, for context."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    return flag_untranslated(perceived_texts(frame), language)
