"""The connection pool on PostgreSQL: a connection that died while idle costs no request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import app.db
from app.db import make_engine


@pytest.fixture
def pg_engine(pg_database_url: str):
    eng = make_engine(pg_database_url)
    yield eng
    eng.dispose()


def _backend_pid(eng: sa.Engine) -> int:
    with eng.connect() as conn:
        return conn.execute(sa.text("select pg_backend_pid()")).scalar_one()


def test_idle_connection_killed_by_the_server_is_replaced_on_checkout(
    pg_engine: sa.Engine, pg_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pg_engine)
    admin = sa.create_engine(pg_database_url)
    with admin.connect() as conn:  # what a database restart does to the pooled connection
        conn.execute(sa.text("select pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    monkeypatch.setattr(app.db, "IDLE_PING_SECONDS", 0.0)  # the connection counts as idle
    second = _backend_pid(pg_engine)
    assert second != first


def test_recently_used_connection_is_reused_without_reconnecting(pg_engine: sa.Engine) -> None:
    assert _backend_pid(pg_engine) == _backend_pid(pg_engine)
