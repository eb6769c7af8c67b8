#!/usr/bin/env python3
"""Write `--hash=sha256:…` under every pin in requirements/*.txt, for `pip install --require-hashes`.

Every file the index holds for the pinned version is hashed (as `pip-compile --generate-hashes` does),
so the wheel pip picks on another platform (the Docker images, an ARM host) matches too. The pins,
comments and `-r` lines are kept as written; only the hash lines under each pin are rewritten. Run it
after changing a pin: `make hashes` (README, Operations). It needs the index (PIP_INDEX_URL, else PyPI)
and only the standard library and pip, so it works before the venv exists.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

try:
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version
except ImportError:  # pip carries its own copy: enough for a machine with nothing else installed
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?==(?P<version>[^\s;\\]+)")
SDIST_SUFFIXES = (".tar.gz", ".tar.bz2", ".tgz", ".zip")
INDENT = "    "


class _Links(HTMLParser):
    """File names and sha256 fragments of a PEP 503 (HTML) simple page, for an index without JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[dict] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") or ""
        if tag == "a" and "#sha256=" in href:
            url, _, digest = href.partition("#sha256=")
            self.files.append({"filename": url.rsplit("/", 1)[-1], "hashes": {"sha256": digest}})


def index_files(index: str, name: str) -> list[dict]:
    """The project's files on the index (PEP 691 JSON where served, else the HTML page)."""
    url = f"{index.rstrip('/')}/{canonicalize_name(name)}/"
    request = urllib.request.Request(url, headers={
        "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read().decode()
        if "json" in response.headers.get("Content-Type", ""):
            return json.loads(body)["files"]
    links = _Links()
    links.feed(body)
    return links.files


def file_release(filename: str) -> tuple[str, str] | None:
    """(project, version) a distribution's file name says, or None for a name of no known form."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return (parts[0], parts[1]) if len(parts) >= 5 else None
    for suffix in SDIST_SUFFIXES:
        if filename.endswith(suffix):
            project, _, version = filename[: -len(suffix)].rpartition("-")
            return (project, version) if project else None
    return None


def same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return False


def release_hashes(index: str, name: str, version: str) -> list[str]:
    hashes = set()
    for entry in index_files(index, name):
        release = file_release(entry["filename"])
        if (release and canonicalize_name(release[0]) == canonicalize_name(name)
                and same_version(release[1], version) and entry.get("hashes", {}).get("sha256")):
            hashes.add(entry["hashes"]["sha256"])
    if not hashes:
        raise SystemExit(f"{name}=={version}: the index at {index} has no file of that version")
    return sorted(hashes)


def rewrite(text: str, hashes_of) -> str:
    """The file with each pin followed by its hash lines; anything else is kept as it is."""
    out: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        match = PIN.match(line.strip())
        if not match:
            out.append(line)
            continue
        requirement = match.group(0)
        if "#" in line:
            raise SystemExit(f"{requirement}: put its comment on a line of its own (hash lines follow a pin)")
        while line.rstrip().endswith("\\"):  # its old hash lines go
            line = next(lines, "")
        digests = hashes_of(match.group("name"), match.group("version"))
        out.append(f"{requirement} \\")
        out.extend(f"{INDENT}--hash=sha256:{digest}" + (" \\" if n < len(digests) - 1 else "")
                   for n, digest in enumerate(digests))
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: requirements/*.txt")
    parser.add_argument("--index-url", default=os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple"))
    args = parser.parse_args()
    cache: dict[tuple[str, str], list[str]] = {}

    def hashes_of(name: str, version: str) -> list[str]:
        key = (canonicalize_name(name), version)
        if key not in cache:
            cache[key] = release_hashes(args.index_url, name, version)
        return cache[key]

    for path in args.files or sorted((ROOT / "requirements").glob("*.txt")):
        text = path.read_text()
        new = rewrite(text, hashes_of)
        if new != text:
            path.write_text(new)
        pins = sum(1 for line in new.splitlines() if PIN.match(line))
        print(f"{os.path.relpath(path)}: {pins} pins, {new.count('--hash=')} hashes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
