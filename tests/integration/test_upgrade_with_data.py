"""An upgrade with data (issue 18): a database that lived through every migration, with conferences saved at
each one as the app of that time saved them, is upgraded to the newest; every conference then reads through
the API and, sent on, finishes through the real workers and emulators. Migration 0012's own data changes are
checked too: the app's reminders still due are planned (remind_at), and reminded_at names the start reminded
of."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from shared.schemas import ConferenceOut
from tests.support.processes import ROOT

from .stack import variant

MEMBER_ID = "5a0db0f5c3d54b3e8f2a1c0d9e8f7a6b"  # the sandbox portal's (sandbox/bitrix24/settings.py)
FIRST_STEPS = ("create_room", "sync_cohosts", "calendar_event", "notify_invitees")  # the steps of 0001


def _config(url: str) -> Config:
    return Config(str(ROOT / "alembic.ini"), attributes={"database_url": url, "configure_logger": False})


def _revisions(config: Config) -> list[str]:
    return [script.revision for script in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]


def _save_a_conference(engine: sa.Engine, revision: str, reminded: bool) -> None:
    """A conference as the app at `revision` saved it: only the columns that existed then, and its steps."""
    now = datetime.now(UTC).replace(tzinfo=None)
    start = now + timedelta(days=2)
    known = {column["name"] for column in sa.inspect(engine).get_columns("conferences")}
    values = {
        "public_id": f"upgrade{revision}", "portal": MEMBER_ID, "owner_id": 2, "owner_name": "Anna Smirnova",
        "type": "conference", "name": f"Saved at {revision}", "description": "Через все миграции",
        "start_at": start, "duration_minutes": 30, "timezone": "Europe/Moscow", "waiting_room_level": "PUBLIC",
        "live_stream": None, "cohosts": json.dumps([]), "invitees": json.dumps([3]),
        "create_calendar_event": False, "invite_users": True, "status": "pending", "version": 1,
        "cancel_requested": False, "applied": json.dumps({}), "enqueued_at": now, "created_at": now,
        "updated_at": now, "reminded_at": now if reminded else None,
    }
    row = {name: value for name, value in values.items() if name in known}
    with engine.begin() as connection:
        conference_id = connection.execute(sa.text(
            f"INSERT INTO conferences ({', '.join(row)}) VALUES ({', '.join(':' + n for n in row)})"), row).lastrowid
        step_columns = {column["name"] for column in sa.inspect(engine).get_columns("conference_steps")}
        for name in FIRST_STEPS:
            step = {"conference_id": conference_id, "name": name, "state": "pending", "attempts": 0,
                    "attempts_at_retry": 0, "updated_at": now}
            step = {key: value for key, value in step.items() if key in step_columns}
            connection.execute(sa.text(
                f"INSERT INTO conference_steps ({', '.join(step)}) VALUES ({', '.join(':' + n for n in step)})"), step)


def test_conferences_saved_at_every_migration_read_and_finish_after_the_upgrade(stack, tmp_path):
    url = f"sqlite:///{tmp_path / 'variant.db'}"  # the file variant() serves
    config = _config(url)
    engine = sa.create_engine(url)
    revisions = _revisions(config)
    for revision in revisions[:-1]:
        command.upgrade(config, revision)
        _save_a_conference(engine, revision, reminded=revision == revisions[-2])
    command.upgrade(config, "head")

    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT name, start_at, reminded_at, remind_at, reminder_minutes, auto_summary FROM conferences")).all()
    assert len(rows) == len(revisions) - 1
    for name, start_at, reminded_at, remind_at, reminder_minutes, auto_summary in rows:
        assert (reminder_minutes, auto_summary) == (15, False), name
        if name == f"Saved at {revisions[-2]}":  # reminded before: of its start, and never again
            assert (reminded_at, remind_at) == (start_at, None)
        else:
            assert reminded_at is None and remind_at is not None, name
    engine.dispose()

    app = variant(stack, tmp_path, {"REDIS_URL": f"redis://127.0.0.1:{stack.redis_port}/4"})  # its own queue
    try:
        app.install()
        anna = app.login(2)
        listed = anna.request("GET", "/api/conferences?per_page=100").json()
        assert listed["total"] == len(rows)
        for conference in listed["items"]:
            ConferenceOut.model_validate(conference)  # every one reads as the API promises
            assert anna.request("POST", f"/api/conferences/{conference['id']}/retry").status_code == 202
        for conference in listed["items"]:
            finished = anna.wait_final(conference["id"])
            assert finished["status"] == "ready", finished["steps"]
            assert finished["join_url"], (finished["steps"], finished["telemost_id"])
    finally:
        app.stop_all()
