"""The scheduler's heartbeat: one row per scheduler process, written after every sweep."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models_base import timestamp_field


class SchedulerHeartbeat(SQLModel, table=True):
    """When a scheduler (host:pid) last swept, how long it took, and whether it worked."""

    __tablename__ = "scheduler_heartbeat"

    worker: str = Field(primary_key=True, max_length=80)
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_run_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_success_at: datetime | None = timestamp_field()
    last_duration_seconds: float = 0.0
    last_error: str = Field(default="", max_length=500)
