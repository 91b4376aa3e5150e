"""Bulk row writing: COPY on PostgreSQL (psycopg), executemany Core inserts on SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text
from sqlalchemy.types import JSON

BATCH = 5_000  # rows per executemany on SQLite (memory stays flat at any size)


def write(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows (dicts of Python values, ids included) as fast as the backend allows."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, rows)
        return
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(table), list(rows[start:start + BATCH]))


def _copy(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """COPY … FROM STDIN through the session's own psycopg connection (same transaction)."""
    columns = [c.name for c in table.columns if c.name in rows[0]]
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    raw = conn.connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c], ensure_ascii=False, default=str)
                            if c in json_columns else row[c] for c in columns])


def next_ids(conn: Connection, tables: Sequence[Table]) -> dict[str, int]:
    """The first free id of each table with an integer `id` (rows are written with ids)."""
    return {t.name: (conn.execute(select(func.max(t.c.id))).scalar() or 0) + 1
            for t in tables if "id" in t.c}


def fix_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    """Move PostgreSQL's id sequences past the ids COPY wrote (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for t in tables:
        if "id" in t.c:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                f"GREATEST((SELECT max(id) FROM {t.name}), 1))"))
