"""Run schema migrations from code (the CLI and tests) without an alembic.ini on disk."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from app.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config pointing at our scripts, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def migration_connection(url: str) -> Iterator[Connection]:
    """A connection to migrate through; SQLite gets foreign keys off while tables are rebuilt."""
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # Batch mode copies and drops tables; enforced keys would cascade or refuse.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            yield connection
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                connection.commit()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (default: the newest)."""
    with migration_connection(url) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Take the database at `url` back down to `revision` (default: empty)."""
    with migration_connection(url) as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at, or None when it was never migrated."""
    with migration_connection(url) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision among our migration scripts."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
