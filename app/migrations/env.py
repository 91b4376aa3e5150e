"""Alembic environment: our models' metadata, and the database URL taken from the settings.

The URL is, in order: an open connection handed over in `config.attributes["connection"]`
(app.migrations.runner, tests), `-x url=...` on the alembic command line, or
app.config.get_settings().database_url.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.db import UTCDateTime, normalise_url
from app.migrations.runner import migration_connection
from app.models import load_all_models

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

load_all_models()
target_metadata = SQLModel.metadata


def database_url() -> str:
    """The URL given with `-x url=`, else the configured one."""
    given = context.get_x_argument(as_dictionary=True).get("url")
    if given:
        return normalise_url(given)
    from app.config import get_settings

    return normalise_url(get_settings().database_url)


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Render our column types as plain SQLAlchemy ones so old revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# render_as_batch: SQLite cannot ALTER most things, so revisions use batch operations, which
# run as plain ALTERs on PostgreSQL and as copy-and-swap on SQLite. Every revision must run
# on both backends.
OPTIONS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "compare_type": True,
    "render_as_batch": True,
    "render_item": render_item,
}


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`) instead of running it."""
    context.configure(
        url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"}, **OPTIONS
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the handed-over connection, or open one on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with migration_connection(database_url()) as own:
        _run(own)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
