"""The PostgreSQL server a chaos run uses (scripts/with-postgres.sh's throwaway cluster): restarted during
the run, and a fresh database on it for the backup's restore."""

from __future__ import annotations

import glob
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _engine(url: str, database: str | None = None):
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    if database:
        parsed = parsed.set(database=database)
    return create_engine(parsed, isolation_level="AUTOCOMMIT")


@dataclass(frozen=True)
class Cluster:
    url: str
    data_directory: Path
    pg_ctl: str

    @classmethod
    def of(cls, url: str) -> Cluster | None:
        """The cluster behind url when it runs on this machine and pg_ctl is here; None otherwise (a
        server elsewhere is not restarted)."""
        engine = _engine(url)
        try:
            with engine.connect() as connection:
                data = Path(connection.scalar(text("SHOW data_directory")))
        except Exception:
            return None
        finally:
            engine.dispose()
        pg_ctls = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not pg_ctls or not data.is_dir():
            return None
        return cls(url=url, data_directory=data, pg_ctl=pg_ctls[-1])

    def restart(self, mode: str) -> None:
        """pg_ctl restart -m fast (every session ended, a checkpoint) or immediate (a crash: recovery from
        the WAL at start). The server starts again with the options it had (postmaster.opts)."""
        owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run(
            [
                *owner,
                self.pg_ctl,
                "restart",
                "-D",
                str(self.data_directory),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
                "-l",
                str(self.data_directory.parent / "server.log"),
            ],
            cwd=self.data_directory,
            check=True,
            capture_output=True,
            timeout=90,
        )


def fresh_database(url: str, name: str) -> str:
    """An empty database called name on url's server (dropped first if a past run left it): its URL."""
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, name: str) -> None:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
