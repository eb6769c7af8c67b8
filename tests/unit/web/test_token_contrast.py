"""Every text colour of the design tokens meets WCAG AA (4.5:1) on every background it is drawn on, in
the light theme and both ways into the dark one (issue 15). axe-core in the browser walk checks what is
on screen at that moment; a hover colour it sees only when the pointer happens to rest on a button (CI
once caught white on the dark theme's hover fill at 4.23:1 that way). This reads style.css itself, so
every state is held, not only the one a screenshot catches."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

STYLE = Path(__file__).resolve().parents[3] / "web" / "frontend" / "src" / "style.css"
AA = 4.5
# (text token, background tokens it is drawn on); "#fff" is the white text of filled buttons.
PAIRS = [
    ("text", ("bg-surface", "bg-page", "bg-sunken")),
    ("text-muted", ("bg-surface", "bg-page", "bg-sunken")),
    ("link", ("bg-surface", "bg-sunken", "selection-bg")),
    ("alert", ("bg-surface", "alert-bg")),
    ("success", ("bg-surface", "success-bg")),
    ("warning", ("bg-surface", "warning-bg")),
    ("#fff", ("fill", "fill-hover", "alert-fill")),
]


def theme_blocks() -> dict[str, dict[str, str]]:
    """The token values of each theme: light, dark by the system's preference, dark by the portal's."""
    css = STYLE.read_text()
    starts = {"light": ":root {", "dark-by-system": ":root:not(.light) {", "dark-by-portal": ":root.dark {"}
    themes = {}
    for theme, start in starts.items():
        body = css[css.index(start):]
        body = body[: body.index("}")]
        themes[theme] = dict(re.findall(r"--b24-([\w-]+):\s*(#[0-9a-fA-F]{3,6})", body))
    return themes


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_wcag():
    assert contrast("#fff", "#000") == pytest.approx(21)
    assert contrast("#fff", "#0075ff") == pytest.approx(4.21, abs=0.01)  # the figure style.css quotes


@pytest.mark.parametrize("theme", ["light", "dark-by-system", "dark-by-portal"])
def test_every_text_token_meets_aa_on_its_backgrounds(theme):
    tokens = theme_blocks()[theme]
    failing = []
    for text, backgrounds in PAIRS:
        fore = text if text.startswith("#") else tokens[text]
        for background in backgrounds:
            ratio = contrast(fore, tokens[background])
            if ratio < AA:
                failing.append(f"{text} on {background}: {ratio:.2f}:1")
    assert failing == [], f"{theme}: {failing}"


def test_both_dark_blocks_agree():
    themes = theme_blocks()
    assert themes["dark-by-system"] == themes["dark-by-portal"]
