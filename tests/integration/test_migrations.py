"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from app.db import make_engine
from app.migrations import runner
from tests.conftest import IN_CI, PG_ADMIN_URL, PROJECT, pg_available


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a brand-new, empty database, thrown away after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'stepwise.db'}"
        return
    problem = pg_available()
    if problem:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests may not be skipped)")
        pytest.skip(message)
    name = f"stepwise_m_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drift(url: str) -> list[object]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_builds_exactly_the_schema_of_the_models(empty_database_url: str) -> None:
    runner.upgrade(empty_database_url)

    assert runner.current_revision(empty_database_url) == runner.head_revision()
    assert _drift(empty_database_url) == [], (
        "the models and the migrations differ: add a migration with "
        "`.venv/bin/alembic revision --autogenerate -m '...'`"
    )


def test_upgrade_twice_changes_nothing(empty_database_url: str) -> None:
    runner.upgrade(empty_database_url)
    runner.upgrade(empty_database_url)

    assert runner.current_revision(empty_database_url) == runner.head_revision()


def test_downgrade_to_base_removes_every_table(empty_database_url: str) -> None:
    runner.upgrade(empty_database_url)
    assert {"org_unit", "person", "workflow_instance"} <= _tables(empty_database_url)

    runner.downgrade(empty_database_url)

    assert _tables(empty_database_url) <= {"alembic_version"}
    assert runner.current_revision(empty_database_url) is None


def test_alembic_command_line_config_takes_the_url_from_x_argument(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    config = Config(str(PROJECT / "alembic.ini"), cmd_opts=argparse.Namespace(x=[f"url={url}"]))
    config.attributes["configure_logger"] = False

    command.upgrade(config, "head")

    assert runner.current_revision(url) == runner.head_revision()
