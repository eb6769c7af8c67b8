"""The README's API-only sandbox walk-through, run as written (only the stack's ports put in): it installs the
app before the first launch, or the launch is refused (issue 13, start-up)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support.processes import ROOT


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    return re.search(r"The API works without a browser too.*?\n```\n(.*?)```", readme, re.S).group(1)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the walk-through uses curl and jq")
def test_the_api_walkthrough_installs_launches_and_creates_a_meeting(stack):
    web, portal = stack.web_url.split("//")[1], stack.bitrix_url.split("//")[1]
    script = walkthrough()
    assert "/_sandbox/install" in script.split("/_sandbox/launch")[0]  # installed before the first launch
    for default, port in (("5000", web.split(":")[1]), ("8082", portal.split(":")[1])):
        script = re.sub(rf"\b(localhost|127\.0\.0\.1):{default}\b", rf"127.0.0.1:{port}", script)

    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    installed, created, listed = result.stdout.splitlines()
    assert '"delivered":[{' in installed and '"status":200' in installed, installed
    assert '"name":"Weekly sync"' in created and '"invitees":[3,4]' in created, created
    assert '"name":"Weekly sync"' in listed, listed
