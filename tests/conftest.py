"""Test fixtures: every database test runs on SQLite and on PostgreSQL, each test isolated."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app import clock
from app.db import make_engine
from app.engine import runtime
from app.engine.registry import Registry
from app.models import load_all_models

PROJECT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "STEPWISE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

load_all_models()


def _pg_admin() -> Engine:
    return make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with _pg_admin().connect() as conn:
            conn.execute(sa.text("select 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any connection failure means unavailable
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    problem = pg_available()
    if problem:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests may not be skipped)")
        pytest.skip(message)
    name = f"stepwise_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
        hide_password=False
    )
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on."""
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> str:
    """The URL of an empty database of the current backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'stepwise.db'}"
    return request.getfixturevalue("pg_database_url")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database with the full schema."""
    eng = make_engine(database_url)
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _wipe(eng: Engine) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session on a clean database; whatever the test wrote is wiped afterwards."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        _wipe(engine)


@pytest.fixture(scope="session")
def workflows_dir() -> Path:
    """The project's workflow definitions."""
    return PROJECT / "workflows"


@pytest.fixture
def registry(workflows_dir: Path) -> Iterator[Registry]:
    """The engine's registry over the project's workflows."""
    reg = Registry(workflows_dir)
    reg.load()
    runtime.set_registry(reg)
    yield reg


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """Every test starts and ends on the system clock."""
    clock.reset()
    yield
    clock.reset()
