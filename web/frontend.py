"""The built front end (web/frontend, built by Vite into web/static/dist): which files the page loads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

MANIFEST = Path(__file__).parent / "static" / "dist" / ".vite" / "manifest.json"
ENTRY = "src/main.js"


@dataclass(frozen=True)
class Bundle:
    js: str | None = None
    css: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _read(mtime: float) -> Bundle:
    entry = json.loads(MANIFEST.read_text()).get(ENTRY) or {}
    return Bundle(js=entry.get("file"), css=list(entry.get("css") or []))


def bundle_assets() -> Bundle:
    """Read from Vite's manifest (cached until the build changes); empty when nothing is built yet."""
    try:
        return _read(MANIFEST.stat().st_mtime)
    except (OSError, ValueError):
        return Bundle()
