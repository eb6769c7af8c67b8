"""The database engine and sessions, for SQLite (one host) and PostgreSQL (several hosts).

SQLite is made safe for many threads and processes (DESIGN §4 rule 6): WAL so readers never wait
for the writer, a busy timeout so writers queue instead of failing, and BEGIN IMMEDIATE for write
transactions so two writers never both read and then collide on the upgrade to a write lock.
Read-only work uses a plain deferred BEGIN so it does not queue behind writers.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, TextIO

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15000
# Above the worker's thread count, so no thread waits for a connection while holding a step.
POOL_SIZE, POOL_OVERFLOW = 20, 20

# A forked child (gunicorn, Celery prefork) must not reuse its parent's sockets or file handles.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _dispose_engines_in_child() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_dispose_engines_in_child)


class Database:
    """One per process: `write()` for transactions that change data, `read()` for the rest."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = _make_engine(url, echo)
        self._write_engine = self.engine.execution_options(begin_mode="IMMEDIATE")
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(self._write_engine, expire_on_commit=False)
        self._writer_turn = WriterTurn(url)
        _ENGINES.add(self.engine)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any error."""
        with self._writer_turn(), self._writes() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reads() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


class WriterTurn:
    """Writers of one SQLite file take turns through a lock on a file beside it.

    The next writer wakes the moment the last one commits, where SQLite's busy handler sleeps up to
    100 ms between tries: those sleeps were the web's second-long tails under load (bench/). The busy
    timeout stays for writers that do not take turns (the sqlite3 shell, a backup). flock is released
    by the kernel when a process dies, so a killed worker never blocks the others. PostgreSQL needs
    no turn.
    """

    _ALL: ClassVar[weakref.WeakSet[WriterTurn]] = weakref.WeakSet()

    def __init__(self, url: str) -> None:
        path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
        self._path = f"{path}.write-lock" if path and path != ":memory:" else None
        self._after_fork()
        WriterTurn._ALL.add(self)

    def _after_fork(self) -> None:
        # A child must not share its parent's open lock file: flock locks belong to the open file.
        self._threads = threading.Lock()
        self._file: TextIO | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self._path is None:
            yield
            return
        with self._threads:
            if self._file is None:
                self._file = open(self._path, "a")  # noqa: SIM115 (held open: the flock lives as long as it)
            fcntl.flock(self._file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._file, fcntl.LOCK_UN)


def _reset_writer_turns_in_child() -> None:
    for turn in list(WriterTurn._ALL):
        turn._after_fork()


os.register_at_fork(after_in_child=_reset_writer_turns_in_child)


def _make_engine(url: str, echo: bool) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(
            url, echo=echo, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, issue BEGIN, so that it can be BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # SQLite's own lower() knows only ASCII; search must fold Cyrillic names as PostgreSQL does.
        dbapi_connection.create_function(
            "lower", 1, lambda text: text.lower() if isinstance(text, str) else text, deterministic=True
        )

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("begin_mode", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
