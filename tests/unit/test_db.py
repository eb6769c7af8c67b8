"""Writers of one SQLite file take turns (shared/db.py WriterTurn), across threads and processes."""
from __future__ import annotations

import multiprocessing
import threading
import time

from sqlalchemy import text

from shared.db import Database


def _hold_the_turn(url: str, held, release) -> None:
    database = Database(url)
    with database.write() as session:
        session.execute(text("INSERT INTO log VALUES ('child')"))
        held.set()
        release.wait(10)
    database.dispose()


def _another_process_holding_the_turn(tmp_path):
    """A database with a log table, and a child process inside a write transaction until released."""
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    database = Database(url)
    with database.write() as session:
        session.execute(text("CREATE TABLE log (who TEXT)"))
    held, release = multiprocessing.Event(), multiprocessing.Event()
    child = multiprocessing.get_context("fork").Process(target=_hold_the_turn, args=(url, held, release))
    child.start()
    assert held.wait(10)
    return database, child, release


def test_a_writer_in_another_process_waits_for_the_turn_and_goes_the_moment_it_is_free(tmp_path):
    database, child, release = _another_process_holding_the_turn(tmp_path)

    entered = threading.Event()

    def write() -> None:
        with database.write() as session:
            entered.set()
            session.execute(text("INSERT INTO log VALUES ('parent')"))
    writer = threading.Thread(target=write)
    writer.start()
    assert not entered.wait(0.5), "a second writer got in while the other process held the turn"
    release.set()
    writer.join(10)
    child.join(10)

    with database.read() as session:
        assert session.scalars(text("SELECT who FROM log")).all() == ["child", "parent"]
    database.dispose()


def test_a_killed_writer_leaves_the_turn_free(tmp_path):
    database, child, _ = _another_process_holding_the_turn(tmp_path)
    child.kill()
    child.join(10)

    started = time.monotonic()
    with database.write() as session:
        session.execute(text("INSERT INTO log VALUES ('parent')"))
    with database.read() as session:
        assert session.scalars(text("SELECT who FROM log")).all() == ["parent"]  # the child's insert rolled back
    assert time.monotonic() - started < SQLITE_WAIT_SECONDS
    database.dispose()


SQLITE_WAIT_SECONDS = 10  # far below the 15 s busy timeout: the lock went with the process
