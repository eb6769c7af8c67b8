"""Another process writing to the app's SQLite database: it takes the write lock for HOLD seconds at a
time, for as long as asked, so the app's writers must queue behind it (`busy_sqlite.py <db> <seconds>`)."""

from __future__ import annotations

import sqlite3
import sys
import time

HOLD_SECONDS, PAUSE_SECONDS = 2.0, 0.3


def main(path: str, seconds: float) -> None:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE portals SET domain = domain")  # a real write that changes nothing
        time.sleep(HOLD_SECONDS)
        connection.execute("COMMIT")
        time.sleep(PAUSE_SECONDS)
    connection.close()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
