"""Column helpers shared by every table model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field

from app import clock
from app.db import UTCDateTime
from app.request_context import MAX_LENGTH, current_request_id


def created_at_field() -> Any:
    """A timezone-aware creation time filled from the clock."""
    return Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


def timestamp_field(*, index: bool = False) -> Any:
    """An optional timezone-aware timestamp."""
    return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)


def json_field() -> Any:
    """A JSON document column that defaults to an empty object."""
    return Field(default_factory=dict, sa_type=JSON, nullable=False)


def request_id_field() -> Any:
    """The id of the request or scheduler batch that wrote the row (None outside of one).

    Filled from the request context by the ORM and by Core inserts alike, so the code that
    writes the row does not have to pass it along.
    """
    return Field(default_factory=current_request_id, max_length=MAX_LENGTH, nullable=True,
                 sa_column_kwargs={"default": current_request_id})


__all__ = ["created_at_field", "timestamp_field", "json_field", "request_id_field", "datetime"]
