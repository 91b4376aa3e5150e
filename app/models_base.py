"""Column helpers shared by every table model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field

from app import clock
from app.db import UTCDateTime


def created_at_field() -> Any:
    """A timezone-aware creation time filled from the clock."""
    return Field(default_factory=clock.now, sa_type=UTCDateTime, nullable=False)


def timestamp_field(*, index: bool = False) -> Any:
    """An optional timezone-aware timestamp."""
    return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)


def json_field() -> Any:
    """A JSON document column that defaults to an empty object."""
    return Field(default_factory=dict, sa_type=JSON, nullable=False)


__all__ = ["created_at_field", "timestamp_field", "json_field", "datetime"]
