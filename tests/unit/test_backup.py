import sqlite3
import subprocess
import sys
from pathlib import Path

from shared.db import Database
from shared.models import Base, Portal

ROOT = Path(__file__).resolve().parents[2]


def test_backup_copies_a_live_sqlite_database_including_its_write_ahead_log(tmp_path):
    path = tmp_path / "live.db"
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    with db.write() as session:  # WAL mode: this row may sit in the -wal file, not yet in the main file
        session.add(Portal(member_id="m1", domain="d", client_endpoint="http://d/rest/"))
    env = {"SECRET_KEY": "a-secret-key-long-enough", "DATABASE_PATH": str(path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "backup.py"), str(tmp_path / "copies")],
                         env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    copy = Path(out.stdout.strip().rsplit(" ", 1)[-1])
    with sqlite3.connect(copy) as backup:
        assert backup.execute("SELECT member_id FROM portals").fetchall() == [("m1",)]
    db.dispose()
