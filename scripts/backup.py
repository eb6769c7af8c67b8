"""`make backup`: an online copy of the database, safe while web and workers are writing.

SQLite: the sqlite3 backup API copies a consistent snapshot page by page (WAL included) into
backups/telemost-<UTC time>.db. PostgreSQL: pg_dump in its custom format into backups/telemost-<time>.dump.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shared.config import PROJECT_ROOT, SettingsError, load_settings  # noqa: E402


def backup(database_url: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    if database_url.startswith("sqlite"):
        source_path = database_url.split("///", 1)[1]
        target = folder / f"telemost-{stamp}.db"
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return target
    if not shutil.which("pg_dump"):
        raise SystemExit("backup: pg_dump is not installed (Debian: postgresql-client)")
    target = folder / f"telemost-{stamp}.dump"
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    subprocess.run(["pg_dump", "--format=custom", f"--file={target}", url], check=True)
    return target


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"telemost-bitrix-app: {exc}")
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_ROOT / "backups"
    print(f"backup written to {backup(settings.database_url, folder)}")


if __name__ == "__main__":
    main()
