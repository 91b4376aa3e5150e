"""Row helpers for idempotent work: insert once by key, claim rows nobody else holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")


def insert_once(session: Session, model: type[SQLModel], values: dict[str, Any],
                key: str = "key") -> int | None:
    """Insert a row unless one with the same unique key exists; the new id, or None.

    ON CONFLICT DO NOTHING makes two writers racing on the same key harmless.
    """
    dialect = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def insert_many_once(session: Session, model: type[SQLModel], rows: list[dict[str, Any]],
                     key: str = "key") -> int:
    """Insert several rows in one round trip, skipping those whose unique key exists; how many
    were new (same race safety as insert_once; one statement, compiled once per table)."""
    if not rows:
        return 0
    conn = session.connection()
    statement = _insert_skipping(model.__table__, conn.dialect.name, key)  # type: ignore[attr-defined]
    return len(conn.execute(statement, rows).all())


@cache
def _insert_skipping(table: Table, dialect: str, key: str) -> Any:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING id; SQLAlchemy batches the rows of an
    executemany into one multi-row statement ("insertmanyvalues")."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c.id)


def skip_locked(query: SelectOfScalar[T]) -> SelectOfScalar[T]:
    """Lock the selected rows, skipping those another scheduler holds (PostgreSQL)."""
    return query.with_for_update(skip_locked=True)


@contextmanager
def claim_transaction(engine: Engine) -> Iterator[Session]:
    """A unit of work that claims rows: SKIP LOCKED on PostgreSQL; on SQLite, the database's
    single write lock taken up front (BEGIN IMMEDIATE), so claimers queue instead of racing."""
    with Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
