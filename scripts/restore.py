"""A backup of `make backup` back into a fresh database: `python scripts/restore.py <backup> <database URL>`.

SQLite (a .db file): copied with the sqlite3 backup API into the URL's file, which must not exist yet.
PostgreSQL (a .dump of pg_dump's custom format): pg_restore into the URL's database, which must exist and
be empty (createdb); objects are owned by the user restoring, as in a new deployment.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path


def restore(backup: Path, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        target = Path(database_url.split("///", 1)[1])
        if target.exists():
            raise SystemExit(f"restore: {target} exists; restore into a new file")
        with sqlite3.connect(backup) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return
    if not shutil.which("pg_restore"):
        raise SystemExit("restore: pg_restore is not installed (Debian: postgresql-client)")
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={url}", str(backup)], check=True
    )


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[0])
    restore(Path(sys.argv[1]), sys.argv[2])
    print(f"restored {sys.argv[1]} into {sys.argv[2].split('@')[-1]}")


if __name__ == "__main__":
    main()
