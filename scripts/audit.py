#!/usr/bin/env python3
"""`make audit`: pip-audit over the pinned requirements, npm audit over the front end's lockfile.

Each check says in one line what it found, or that its advisory service did not answer. Exit status:
0 every check ran and found nothing; 1 a known vulnerability (each one listed); 2 a check itself failed
(bad input, a tool missing); 3 an advisory service did not answer and what did answer found nothing.
`make audit` treats 3 as done (it has said so); CI does not run it (it needs those services).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "web" / "frontend"
CLEAN, VULNERABLE, FAILED, NOT_ANSWERED = 0, 1, 2, 3
# pip-audit's services in the order tried: PyPI's JSON API, then OSV; the first that answers is used.
PIP_AUDIT_SERVICES = ("pypi", "osv")
UNREACHABLE = re.compile(r"ConnectionError|Timeout|NameResolution|Max retries|Could not connect|ServiceError")
TIMEOUT_SECONDS = 600


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def run(label: str, command: list[str], cwd: Path) -> subprocess.CompletedProcess | int:
    """The finished process, or the status of one that could not start (FAILED) or did not finish."""
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except FileNotFoundError:
        print(f"{label}: failed: {command[0]} is not installed")
        return FAILED
    except subprocess.TimeoutExpired:
        print(f"{label}: the advisory service did not answer: nothing within {TIMEOUT_SECONDS} s")
        return NOT_ANSWERED


def pip_audit(executable: str) -> int:
    # Every file is named: pip-audit without pip does not follow `-r` lines. Pins and hashes are complete
    # (pip install --require-hashes checks that), so --disable-pip audits them as written, with no venv.
    files = [arg for path in sorted((ROOT / "requirements").glob("*.txt")) for arg in ("-r", str(path))]
    base = [executable, "--disable-pip", "--require-hashes", "--format", "json", "--progress-spinner", "off"]
    for service in PIP_AUDIT_SERVICES:
        label = f"pip-audit ({service})"
        done = run(label, base + ["--vulnerability-service", service] + files, ROOT)
        if done == FAILED:
            return FAILED
        if done == NOT_ANSWERED:
            continue
        try:
            dependencies = json.loads(done.stdout)["dependencies"]
        except (ValueError, KeyError):
            if UNREACHABLE.search(done.stderr):
                print(f"{label}: the advisory service did not answer: {last_line(done.stderr)}")
                continue
            print(f"{label}: failed: {last_line(done.stderr)}")
            return FAILED
        skipped = [d["name"] for d in dependencies if "skip_reason" in d]
        if dependencies and len(skipped) == len(dependencies):
            print(f"{label}: the advisory service did not answer: no data for any of the {len(skipped)} "
                  "pinned packages (each look-up found nothing), so nothing was audited")
            continue
        found = [(d, vuln) for d in dependencies for vuln in d.get("vulns", [])]
        for dependency, vuln in found:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"{label}: {dependency['name']}=={dependency['version']}: {vuln['id']} (fixed in {fixed})")
        audited = len(dependencies) - len(skipped)
        print(f"{label}: {len(found)} known vulnerabilities in {audited} pinned packages"
              + (f"; not audited (no data): {', '.join(skipped)}" if skipped else ""))
        return VULNERABLE if found else NOT_ANSWERED if skipped else CLEAN
    return NOT_ANSWERED


def npm_audit() -> int:
    # The lockfile is what `npm ci` installs (here and in Dockerfile.web): no node_modules needed.
    done = run("npm audit", ["npm", "audit", "--json", "--package-lock-only"], FRONTEND)
    if isinstance(done, int):
        return done
    try:
        report = json.loads(done.stdout)
    except ValueError:
        print(f"npm audit: failed: {last_line(done.stderr)}")
        return FAILED
    if "error" in report:
        why = report.get("message") or report["error"].get("summary") or last_line(done.stderr)
        print(f"npm audit: the advisory service did not answer: {why}")
        return NOT_ANSWERED
    for name, vuln in sorted(report.get("vulnerabilities", {}).items()):
        print(f"npm audit: {name} {vuln.get('range', '')}: {vuln.get('severity')}"
              + (" (a fix is available: npm audit fix)" if vuln.get("fixAvailable") else ""))
    counts, packages = report["metadata"]["vulnerabilities"], report["metadata"]["dependencies"]["total"]
    total = counts.get("total", sum(counts.values()))
    print(f"npm audit: {total} known vulnerabilities in {packages} packages")
    return VULNERABLE if total else CLEAN


def main() -> int:
    statuses = {pip_audit(sys.argv[1] if len(sys.argv) > 1 else "pip-audit"), npm_audit()}
    for status in (VULNERABLE, FAILED, NOT_ANSWERED):
        if status in statuses:
            return status
    return CLEAN


if __name__ == "__main__":
    sys.exit(main())
