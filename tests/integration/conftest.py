"""Fixtures shared by the reminder, email and escalation tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from app.config import get_settings
from app.engine.registry import Registry
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


@pytest.fixture
def cli_database(engine, database_url: str, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                 tmp_path: Path) -> Iterator[None]:
    """Settings of CLI commands pointing at the test database (the `stepwise` commands)."""
    monkeypatch.setenv("STEPWISE_DATABASE_URL", database_url)
    monkeypatch.setenv("STEPWISE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
