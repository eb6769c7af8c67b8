"""Dockerfile.web, Dockerfile.worker and .dockerignore, read line by line (there is no Docker engine here);
requirements/*.txt and the Makefile's installs of them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.processes import ROOT

DOCKERFILES = {"web": ROOT / "Dockerfile.web", "worker": ROOT / "Dockerfile.worker"}


def stages(path: Path) -> list[list[tuple[str, str]]]:
    """The build stages, each a list of (INSTRUCTION, arguments); comments dropped, continuations joined."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    result: list[list[tuple[str, str]]] = []
    for line in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines():
        if not line.strip():
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            result.append([])
        result[-1].append((instruction.upper(), " ".join(arguments.split())))
    return result


def arguments(stage: list[tuple[str, str]], instruction: str) -> list[str]:
    return [args for name, args in stage if name == instruction]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_base_images_are_pinned_to_a_version(name):
    for stage in stages(DOCKERFILES[name]):
        image = [word for word in arguments(stage, "FROM")[0].split() if not word.startswith("--")][0]
        tag = image.split("@")[0].rpartition(":")[2]
        assert ":" in image and re.search(r"\d+\.\d+", tag) and tag != "latest", image
    assert arguments(stages(DOCKERFILES[name])[-1], "FROM")[0].startswith("python:3.11.")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_the_final_stage_runs_as_a_non_root_user(name):
    users = arguments(stages(DOCKERFILES[name])[-1], "USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_no_secret_is_copied_into_the_image(name):
    for stage in stages(DOCKERFILES[name]):
        for args in arguments(stage, "COPY") + arguments(stage, "ADD"):
            sources = [word for word in args.split()[:-1] if not word.startswith("--")]
            assert sources and "." not in sources and "./" not in sources, f"copies the whole folder: {args}"
            assert not [s for s in sources if re.search(r"(^|/)\.env|\.pem$|\.key$|secret", s, re.I)], args
        for args in arguments(stage, "ENV") + arguments(stage, "ARG"):
            assert not re.search(r"SECRET|TOKEN|PASSWORD|BASIC_AUTH", args, re.I), args


@pytest.mark.parametrize("name", DOCKERFILES)
def test_python_runtime_and_pinned_requirements(name):
    final = stages(DOCKERFILES[name])[-1]
    assert any(f"pip install --no-cache-dir --require-hashes -r requirements/{name}.txt" in run
               for run in arguments(final, "RUN"))
    assert "requirements/ requirements/" in arguments(final, "COPY")
    assert any("PYTHONUNBUFFERED=1" in env for env in arguments(final, "ENV"))
    assert arguments(final, "WORKDIR") == ["/app"]
    # zoneinfo needs time zone data: the pip package is pinned, and the build fails without it.
    assert re.search(r"^tzdata==", (ROOT / "requirements" / "base.txt").read_text(), re.M)
    assert any("zoneinfo.ZoneInfo(" in run for run in arguments(final, "RUN"))


def test_web_image_builds_the_front_end_in_a_node_stage_and_serves_on_5000():
    node, *_, final = stages(DOCKERFILES["web"])
    image, _, alias = arguments(node, "FROM")[0].partition(" AS ")
    assert image.startswith("node:20.")
    runs = " && ".join(arguments(node, "RUN"))
    assert "npm ci" in runs and "npm run build" in runs
    assert any(c.startswith(f"--from={alias} ") and c.split()[-1].rstrip("/") == "web/static/dist"
               for c in arguments(final, "COPY"))
    assert arguments(final, "EXPOSE") == ["5000"]
    assert "/health" in arguments(final, "HEALTHCHECK")[0]
    command = arguments(final, "CMD")[0]
    assert '"gunicorn"' in command and '"gthread"' in command and '"web.wsgi:app"' in command


def test_worker_image_runs_the_celery_worker():
    command = arguments(stages(DOCKERFILES["worker"])[-1], "CMD")[0]
    assert '"celery", "-A", "worker.celery_app", "worker"' in command


def test_dockerignore_keeps_secrets_and_local_state_out():
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    entries = {line.removeprefix("**/").rstrip("/") for line in lines if line and not line.startswith("#")}
    assert {".env", ".venv", "var", "node_modules", ".git", ".pytest_cache", "*.pem"} <= entries
    assert "!.env" not in entries


REQUIREMENTS = ROOT / "requirements"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>\S+)"
                 r"(?P<hashes>( --hash=sha256:[0-9a-f]{64})+)$")


def requirement_lines(path: Path) -> list[str]:
    """The file's logical lines (continuations joined, comments and blank lines dropped)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    return [" ".join(line.split()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def makefile_recipes() -> list[str]:
    """The Makefile's recipe lines, with its simple variables (NAME = / NAME := value) substituted."""
    text = (ROOT / "Makefile").read_text()
    variables = dict(re.findall(r"^([A-Z_]+) :?= (.*)$", text, re.M))
    recipes = [line.strip() for line in text.splitlines() if line.startswith("\t")]
    for _ in range(3):  # variables inside variables
        recipes = [re.sub(r"\$\(([A-Z_]+)\)", lambda m: variables.get(m[1], m[0]), line) for line in recipes]
    return recipes


def test_every_install_of_the_requirements_checks_their_hashes():
    runs = [run for path in DOCKERFILES.values() for stage in stages(path) for run in arguments(stage, "RUN")]
    lines = runs + makefile_recipes()
    installs = [line for line in lines if re.search(r"pip install .*-r requirements/", line)]
    assert len(installs) >= 5, installs  # the two images; the Makefile's dev, bench and audit venvs
    for install in installs:
        assert "--require-hashes" in install, install


def test_every_requirement_is_pinned_and_hashed_alike_in_every_file():
    """pip's hash-checking mode refuses a requirement without == and hashes, and one pinned in two files
    keeps only the hashes both list: so a package pinned twice is pinned alike."""
    seen: dict[str, tuple[str, str]] = {}
    for path in sorted(REQUIREMENTS.glob("*.txt")):
        for line in requirement_lines(path):
            if line.startswith("-r "):
                assert (REQUIREMENTS / line.split()[1]).is_file(), f"{path.name}: {line}"
                continue
            match = PIN.match(line)
            assert match, f"{path.name}: not pinned with == and --hash=sha256: {line[:80]}"
            name = re.sub(r"[-_.]+", "-", match["name"]).lower()
            pin = (match["version"], " ".join(sorted(match["hashes"].split())))
            assert seen.setdefault(name, pin) == pin, f"{path.name}: {name} is pinned otherwise elsewhere"
    assert {"flask", "celery", "sqlalchemy", "pip-audit"} <= set(seen)
