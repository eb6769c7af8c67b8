"""Alembic runs against the database of the settings (DATABASE_URL or DATABASE_PATH)."""
import sys
from logging.config import fileConfig

from alembic import context

from shared.config import SettingsError, load_settings
from shared.db import Database
from shared.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return url
    try:
        return load_settings().database_url
    except SettingsError as exc:
        sys.exit(f"telemost-bitrix-app: {exc}")


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    database = Database(database_url())
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode copies a table and drops the old one; with foreign keys on, SQLite's DROP TABLE first
            # deletes its rows, and ON DELETE CASCADE took every step of every conference with them
            # (tests/integration/test_upgrade_with_data.py). Off for the migration (it must be set outside a
            # transaction: here, before the first one begins), then checked.
            _pragma(connection, "PRAGMA foreign_keys=OFF")
        # render_as_batch: SQLite cannot ALTER most things in place; batch mode copies the table.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows that point at nothing: {broken[:5]}")
    database.dispose()


def _pragma(connection, statement: str) -> None:
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
