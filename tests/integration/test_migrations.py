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
from alembic.script import ScriptDirectory
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


def _describe(drift: list[object]) -> str:
    """One line per difference: what autogenerate would do and to which table or column."""
    lines = []
    for item in drift:
        change = item[0] if isinstance(item, list) else item
        op, *args = change  # type: ignore[misc]
        names = [getattr(a, "name", None) or str(a) for a in args[:3] if a is not None]
        lines.append(f"  {op}: {' '.join(str(n) for n in names)[:120]}")
    return "\n".join(lines)


def _tables(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_builds_exactly_the_schema_of_the_models(empty_database_url: str) -> None:
    runner.upgrade(empty_database_url)

    assert runner.current_revision(empty_database_url) == runner.head_revision()
    drift = _drift(empty_database_url)
    assert drift == [], (
        "the models and the migrations differ; add a migration with "
        "`.venv/bin/alembic revision --autogenerate -m '...'`:\n" + _describe(drift)
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


def test_each_revision_upgrades_downgrades_and_upgrades_again(empty_database_url: str) -> None:
    script = ScriptDirectory.from_config(runner.alembic_config())
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]

    for revision in revisions:
        runner.upgrade(empty_database_url, revision)
        runner.downgrade(empty_database_url, "-1")
        runner.upgrade(empty_database_url, revision)

    assert runner.current_revision(empty_database_url) == runner.head_revision()


def test_tasks_of_an_existing_database_keep_their_rows_when_ref_is_added(
    empty_database_url: str,
) -> None:
    runner.upgrade(empty_database_url, "3e213f95e9a1")
    engine = make_engine(empty_database_url, poolclass=sa.pool.NullPool)
    now = "2026-01-05 09:00:00"
    statements = [
        "INSERT INTO org_unit (id, code, name, name_en, kind, path, created_at) "
        "VALUES (1, 'HO', '总行', 'Head office', 'head_office', '/1/', :now)",
        "INSERT INTO person (id, employee_no, name, name_en, email, locale, org_unit_id, post, "
        "grade, is_admin, active, created_at) "
        "VALUES (1, 'e1', '张三', 'Zhang San', '', 'zh_CN', 1, '', '', false, true, :now)",
        "INSERT INTO workflow_definition (id, name, version, content_hash, source, created_at) "
        "VALUES (1, 'improvement_plan', 1, 'h', 'workflow: x', :now)",
        "INSERT INTO workflow_instance (id, definition_id, workflow, state, version, title, "
        "subject_id, org_unit_id, context, created_at, updated_at) "
        "VALUES (1, 1, 'improvement_plan', 'draft', 1, 't', 1, 1, '{}', :now, :now)",
        "INSERT INTO task (instance_id, state, kind, assignee_id, actor_expr, status, created_at) "
        "VALUES (1, 'draft', 'act', 1, 'subject', 'open', :now)",
    ]
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), {"now": now})

        runner.upgrade(empty_database_url)

        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT ref, status FROM task")).all() == [("", "open")]
    finally:
        engine.dispose()
