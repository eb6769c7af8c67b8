"""The documents' own links and pictures point at files that are there: a README picture renamed or a
doc moved shows here, not as a broken image on the project's page."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", "CONTRIBUTING.md", "bench/README.md", *(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def local_targets(document: Path) -> list[str]:
    """The links that name a file of the repository (not a web address, not an anchor in the page)."""
    targets = [target.split("#")[0] for target in LINK.findall(document.read_text())]
    return [t for t in targets if t and not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_local_link_and_picture_is_there(name):
    document = ROOT / name
    missing = [t for t in local_targets(document) if not (document.parent / t).exists()]
    assert missing == [], f"{name} points at what is not there: {missing}"


def test_the_readme_shows_its_pictures():
    pictures = [t for t in local_targets(ROOT / "README.md") if t.endswith(".png")]
    assert len(pictures) >= 4 and all(t.startswith("docs/screenshots/") for t in pictures)
