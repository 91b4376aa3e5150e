"""Keyset pagination: pages found by (sort value, id) from an index, never by OFFSET."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import literal, tuple_
from sqlmodel.sql.expression import Select

from app.errors import ValidationFailed
from app.web.ids import KEY_MAX

T = TypeVar("T")


@dataclass(frozen=True)
class SortKey:
    """One way to sort a list: a column (or the id alone), a direction, the value's kind."""

    column: Any
    id_column: Any
    descending: bool
    kind: str = "int"  # int | str | datetime

    @property
    def by_id_only(self) -> bool:
        """Whether the sort column is the id itself."""
        return self.column is self.id_column


@dataclass(frozen=True)
class Cursor:
    """A position between two rows: after (or before) the row with this value and id."""

    value: Any
    id: int
    after: bool = True

    def encode(self) -> str:
        """URL-safe text for a link."""
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        raw = json.dumps([value, self.id, "a" if self.after else "b"], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(text: str | None, key: SortKey) -> Cursor | None:
    """The cursor a link carries; a tampered one is a 422, not a 500."""
    if not text:
        return None
    try:
        padded = text + "=" * (-len(text) % 4)
        value, row_id, way = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if key.by_id_only:
            value = None  # the id is the whole position (the newest-first sort)
        elif key.kind == "datetime":
            value = datetime.fromisoformat(value)
        elif key.kind == "int":
            value = int(value)
            if abs(value) > KEY_MAX:
                raise ValueError("beyond the keys")
        else:
            value = str(value)
        if not 0 <= int(row_id) <= KEY_MAX:
            raise ValueError("beyond the keys")
        return Cursor(value, int(row_id), way != "b")
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise ValidationFailed("This page link is broken; start from the first page.") from None


@dataclass
class Page(Generic[T]):
    """One page of rows, the number of all matching rows, and links to the neighbours."""

    rows: list[T]
    total: int
    next_cursor: str | None
    prev_cursor: str | None


def keyset(query: Select, key: SortKey, cursor: Cursor | None, limit: int) -> Select:
    """The query restricted to the rows after (before) the cursor, in order, one extra row."""
    forward = cursor is None or cursor.after
    descending = key.descending if forward else not key.descending
    if cursor is not None:
        if key.by_id_only:
            query = query.where(key.id_column < cursor.id if descending
                                else key.id_column > cursor.id)
        else:
            here = tuple_(key.column, key.id_column)
            there = tuple_(literal(cursor.value, key.column.type), cursor.id)
            query = query.where(here < there if descending else here > there)
    columns = [key.id_column] if key.by_id_only else [key.column, key.id_column]
    order = [c.desc() if descending else c.asc() for c in columns]
    return query.order_by(*order).limit(limit + 1)


def page_of(rows: list[T], total: int, key: SortKey, cursor: Cursor | None, limit: int,
            value_of: Any, id_of: Any) -> Page[T]:
    """Turn the fetched rows (limit + 1, in query order) into a page with its links."""
    forward = cursor is None or cursor.after
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()

    def at(row: T, after: bool) -> str:
        return Cursor(None if key.by_id_only else value_of(row), id_of(row), after).encode()

    next_cursor = prev_cursor = None
    if rows:
        if (forward and more) or not forward:
            next_cursor = at(rows[-1], True)
        if (not forward and more) or (forward and cursor is not None):
            prev_cursor = at(rows[0], False)
    return Page(rows, total, next_cursor, prev_cursor)
