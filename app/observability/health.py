"""Readiness: the database answers, its schema is at the newest migration, the scheduler of
this process swept recently (when it runs here); the replica is reported, not required."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.config import Settings
from app.observability.batches import last_success


@cache
def newest_revisions() -> frozenset[str]:
    """The head revision(s) of our migration scripts (read once per process)."""
    from app.migrations.runner import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def database_checks(engine: Engine) -> dict[str, str]:
    """`database`: ok or unreachable; `migrations`: ok, behind or unknown."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError:
        return {"database": "unreachable", "migrations": "unknown"}
    return {"database": "ok", "migrations": "ok" if current == newest_revisions() else "behind"}


def scheduler_check(engine: Engine, settings: Settings, started_at: datetime) -> str:
    """`off` when this process runs no scheduler; `ok` when its last sweep (or, before the
    first one, its start) is recent enough; else `stale`."""
    if not settings.scheduler_enabled:
        return "off"
    try:
        last = last_success(engine)
    except SQLAlchemyError:
        return "unknown"
    since = last or started_at
    age = (clock.now() - since).total_seconds()
    return "ok" if age <= settings.scheduler_stale_after else "stale"


def replica_check(replica: Engine | None) -> str | None:
    """`ok` or `unreachable` for the read replica (reports then read the primary); None
    without one."""
    if replica is None:
        return None
    try:
        with replica.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "unreachable"
    return "ok"


def readiness(*, engine: Engine, replica: Engine | None, settings: Settings,
              started_at: datetime) -> tuple[bool, dict[str, Any]]:
    """Whether this process should get traffic, and each check's word."""
    checks: dict[str, str] = database_checks(engine)
    checks["scheduler"] = (scheduler_check(engine, settings, started_at)
                           if checks["database"] == "ok" else "unknown")
    replica_state = replica_check(replica)
    if replica_state is not None:
        checks["replica"] = replica_state
    ready = (checks["database"] == "ok" and checks["migrations"] == "ok"
             and checks["scheduler"] in ("ok", "off"))
    return ready, {"status": "ready" if ready else "unready", "checks": checks}
