"""The backup and restore of docs/operations.md, done for real: pg_dump of a migrated database
with cases in it, pg_restore into a new database, and `stepwise audit verify` on the copy."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session
from typer.testing import CliRunner, Result

from app.cli import app as cli
from app.config import get_settings
from app.db import make_engine
from app.engine import runtime
from app.engine.models import WorkflowInstance
from app.engine.registry import Registry
from app.migrations import runner
from app.plans import service as plans
from tests.conftest import IN_CI, PG_ADMIN_URL, pg_available
from tests.factories import bank
from tests.pg_clusters import server_bindir
from tests.report_helpers import GAP


@pytest.fixture
def databases() -> Iterator[list[str]]:
    """Names for two new databases on the test server, dropped afterwards."""
    problem = pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is unreachable: {problem}")
        pytest.skip(f"PostgreSQL is unreachable: {problem}")
    names = [f"stepwise_b_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield names
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def url_of(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def libpq(name: str) -> list[str]:
    url = make_url(PG_ADMIN_URL)
    return ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
            "-U", url.username or "postgres", "-d", name]


def verify(name: str, monkeypatch: pytest.MonkeyPatch) -> Result:
    """`stepwise audit verify` on a database, as an operator would run it."""
    monkeypatch.setenv("STEPWISE_DATABASE_URL", url_of(name))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, ["audit", "verify"])
    finally:
        get_settings.cache_clear()


def test_a_restored_dump_passes_the_audit_check(databases: list[str], tmp_path: Path,
                                                 registry: Registry,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    original, restored = databases
    runner.upgrade(url_of(original))
    engine = make_engine(url_of(original))
    with Session(engine, expire_on_commit=False) as db:
        registry.sync(db)
        org = bank(db)
        plan = plans.start_plan(db, employee=org.employee, initiator=org.employee,
                                title="报表迟报", gaps=[GAP])
        plans.start_plan(db, employee=org.colleague, initiator=org.colleague,
                         title="服务态度生硬", gaps=[GAP])
        instance = db.get(WorkflowInstance, plan.instance_id)
        runtime.fire(db, instance, "record_gap", org.employee, {}, registry=registry)
        db.commit()
    engine.dispose()
    bindir = server_bindir(PG_ADMIN_URL)
    assert bindir is not None
    dump = tmp_path / "stepwise.dump"

    subprocess.run([str(bindir / "pg_dump"), "--format=custom", "--no-owner",
                    f"--file={dump}", *libpq(original)], check=True, timeout=300)
    subprocess.run([str(bindir / "pg_restore"), "--no-owner", "--exit-on-error",
                    *libpq(restored), str(dump)], check=True, timeout=300)

    checked = verify(restored, monkeypatch)
    assert checked.exit_code == 0, checked.output
    assert "intact" in checked.stdout
    assert runner.current_revision(url_of(restored)) == runner.head_revision()
    # The check can fail: an edited event in the copy is found.
    with make_engine(url_of(restored), poolclass=sa.pool.NullPool).begin() as conn:
        conn.execute(sa.text("UPDATE audit_event SET comment = 'rewritten' WHERE seq = 1 "
                             "AND instance_id = :iid"), {"iid": plan.instance_id})
    broken = verify(restored, monkeypatch)
    assert broken.exit_code == 1 and f"case {plan.instance_id} " in broken.stderr
