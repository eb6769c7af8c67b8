"""The backup of a chaos run: taken with `make backup`'s script while the load goes on, restored at the end
into a fresh database with scripts/restore.py, for the audit of the copy (audit.audit_copy)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import ROOT

from .postgres import fresh_database

RESTORED_DATABASE = "telemost_chaos_restored"


@dataclass(frozen=True)
class Backup:
    path: Path
    started: float  # time.monotonic() as the script started: what was acknowledged before must be in it
    seconds: float


def take_backup(env: dict[str, str], folder: Path) -> Backup:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "backup.py"), str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise RuntimeError(f"backup.py exited with {done.returncode}: {done.stderr[-2000:]}")
    path = Path(done.stdout.strip().removeprefix("backup written to "))
    return Backup(path=path, started=started, seconds=time.monotonic() - started)


def restore_copy(backup: Backup, database_url: str, tmp: Path) -> str:
    """The backup in a fresh database beside the run's (a new SQLite file, or a new database on the same
    PostgreSQL server): its URL."""
    if database_url.startswith("sqlite"):
        target = f"sqlite:///{tmp / 'restored.db'}"
    else:
        target = fresh_database(database_url, RESTORED_DATABASE)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "restore.py"), str(backup.path), target],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target
