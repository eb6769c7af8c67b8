"""The built front end stays light enough for a portal's frame and the Bitrix24 mobile app (issue 15): at
most 100 KB of JavaScript and 20 KB of CSS, gzip, over every file the Vite manifest names (entry, imports
and their CSS). `make test` builds the bundle first; without one this test says so and fails."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

DIST = Path(__file__).resolve().parents[3] / "web" / "static" / "dist"
LIMITS = {".js": 100 * 1024, ".css": 20 * 1024}


def bundle_files() -> set[str]:
    manifest = DIST / ".vite" / "manifest.json"
    assert manifest.exists(), "no built bundle: run `make frontend` (make test does)"
    files: set[str] = set()
    for chunk in json.loads(manifest.read_text()).values():
        files.add(chunk["file"])
        files.update(chunk.get("css", []))
    return files


def gzipped_sizes() -> dict[str, int]:
    sizes = dict.fromkeys(LIMITS, 0)
    for name in bundle_files():
        suffix = Path(name).suffix
        if suffix in sizes:
            sizes[suffix] += len(gzip.compress((DIST / name).read_bytes(), compresslevel=9))
    return sizes


def test_the_bundle_is_within_its_gzip_budget():
    sizes = gzipped_sizes()
    assert sizes[".js"] > 0 and sizes[".css"] > 0, sizes
    over = {kind: f"{size / 1024:.1f} KB > {LIMITS[kind] / 1024:.0f} KB" for kind, size in sizes.items()
            if size > LIMITS[kind]}
    assert not over, over
