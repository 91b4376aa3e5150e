"""Fixtures shared by the reminder, email and escalation tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from app.engine.registry import Registry
from tests.conftest import IN_CI
from tests.directory_server import TestDirectory, slapd_missing
from tests.factories import Bank, bank
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
