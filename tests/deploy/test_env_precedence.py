"""Exported settings win over .env for every process `make run` starts, as they do for `make migrate`
(issue 13, start-up: honcho put .env over the environment, so with DATABASE_PATH exported the migrations
went to one database and the app to another, and every request answered 500 "no such table")."""
from __future__ import annotations

import json
import os
import subprocess

from tests.support.processes import BIN, ROOT

# Run by honcho as the app's processes are: what each one's settings name, and whether that database
# has been migrated.
SHOW_SETTINGS = ("from shared.config import load_settings; from shared.db import Database; "
                 "from sqlalchemy import inspect; import json, os; s = load_settings(); "
                 "db = Database(s.database_url); "
                 "print(json.dumps({'database_url': s.database_url, 'redis_url': s.redis_url, "
                 "'migrated': inspect(db.engine).has_table('alembic_version'), "
                 "'flower_basic_auth': os.environ.get('FLOWER_BASIC_AUTH')}), flush=True)")


def _env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=from-the-env-file-0123456789\nSANDBOX=on\n"
                        f"DATABASE_PATH={tmp_path / 'named-in-env-file.db'}\n"
                        "REDIS_URL=redis://127.0.0.1:6390/0\nFLOWER_BASIC_AUTH=admin:from-the-env-file\n")
    return env_file


def test_every_process_of_make_run_opens_the_database_make_migrate_migrated(tmp_path):
    exported = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)),
                # An exported empty value means "not set", so a DATABASE_URL in the project's .env stays out.
                "DATABASE_URL": "", "DATABASE_PATH": str(tmp_path / "exported.db"),
                "REDIS_URL": "redis://127.0.0.1:6391/0"}
    env_file = _env_file(tmp_path)
    # `make migrate`: alembic reads the settings itself (migrations/env.py), exported ones first.
    migrate = subprocess.run([str(BIN / "alembic"), "upgrade", "head"], cwd=ROOT, capture_output=True, text=True,
                             env={**exported, "SECRET_KEY": "from-the-env-file-0123456789"}, timeout=60)
    assert migrate.returncode == 0, migrate.stderr
    procfile = tmp_path / "Procfile"
    procfile.write_text(f'web: {BIN / "python"} -c "{SHOW_SETTINGS}"\n')

    started = subprocess.run([str(BIN / "python"), "scripts/procfile.py", "start", str(procfile),
                              "--env-file", str(env_file)], cwd=ROOT, env=exported, capture_output=True,
                             text=True, timeout=60)

    shown = [json.loads(line.split("| ", 1)[1]) for line in started.stdout.splitlines() if "| {" in line]
    assert shown, started.stdout + started.stderr
    assert shown[0] == {"database_url": f"sqlite:///{tmp_path / 'exported.db'}",
                        "redis_url": "redis://127.0.0.1:6391/0", "migrated": True,
                        "flower_basic_auth": "admin:from-the-env-file"}  # .env fills the gaps


def test_make_run_starts_honcho_only_through_the_merged_environment():
    recipe = subprocess.run(["make", "--no-print-directory", "-n", "-o", "setup", "run"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, check=True).stdout.splitlines()
    assert recipe[-1] == ".venv/bin/python scripts/procfile.py start var/Procfile"
    assert not any("honcho start" in line for line in recipe)
