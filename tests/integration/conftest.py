"""Fixtures shared by the reminder, email and escalation tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.config import get_settings
from app.engine.registry import Registry
from tests.conftest import IN_CI, PG_ADMIN_URL
from tests.directory_server import TestDirectory, slapd_missing
from tests.factories import Bank, bank
from tests.pg_clusters import LocalCluster, create_replica, create_scratch
from tests.smtp_sink import SmtpSink


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A real SMTP server on loopback that keeps what it receives."""
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def org(db: Session, registry: Registry) -> Bank:
    """The small bank with the registry's workflows stored (a module may define its own)."""
    b = bank(db)
    registry.sync(db)
    db.commit()
    return b


@pytest.fixture(scope="session")
def directory() -> Iterator[TestDirectory]:
    """Debian's slapd on loopback with the test people (skipped where slapd is missing, except
    under CI=true)."""
    problem = slapd_missing()
    if problem:
        if IN_CI:
            pytest.fail(problem + " (CI=true: directory tests may not be skipped)")
        pytest.skip(problem)
    server = TestDirectory()
    server.start()
    yield server
    server.close()


def _cluster_or_skip(make: Callable[[str], LocalCluster], what: str) -> LocalCluster:
    try:
        return make(PG_ADMIN_URL)
    except (RuntimeError, OSError, subprocess.SubprocessError, SQLAlchemyError) as exc:
        message = (f"no {what} could be made here: {str(exc).strip()[-300:]} (`make setup` "
                   "runs scripts/pg-replication.sh, which allows replication from 127.0.0.1)")
        if IN_CI:
            pytest.fail(message + " (CI=true: these tests may not be skipped)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def pg_replica(pg_database_url: str) -> Iterator[LocalCluster]:
    """A hot standby streaming from the test PostgreSQL, on its own port, for the run."""
    cluster = _cluster_or_skip(create_replica, "streaming replica")
    yield cluster
    cluster.remove()


@pytest.fixture(scope="session")
def scratch_pg(pg_database_url: str) -> Iterator[LocalCluster]:
    """An empty PostgreSQL cluster of the same version that a test may stop and start."""
    cluster = _cluster_or_skip(create_scratch, "scratch cluster")
    yield cluster
    cluster.remove()


@pytest.fixture
def cli_database(engine, database_url: str, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                 tmp_path: Path) -> Iterator[None]:
    """Settings of CLI commands pointing at the test database (the `stepwise` commands)."""
    monkeypatch.setenv("STEPWISE_DATABASE_URL", database_url)
    monkeypatch.setenv("STEPWISE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
