"""Durable timers: one pending row per open task, the next rung of its ladder, fired by the sweep
(which arms the rung after it); fired rows stay, keyed per (task, reminder kind, level)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models_base import created_at_field, timestamp_field


class TimerKind:
    """What a timer does when it comes due."""

    before_due = "before_due"  # level: working days before the due day
    on_due = "on_due"  # level 0: the morning of the due day
    overdue = "overdue"  # level n: n * K working days after the due day
    escalation = "escalation"  # level i: rung i of the escalation ladder

    reminders = (before_due, on_due, overdue)


class TimerStatus:
    """Lifecycle of a timer row."""

    pending = "pending"
    done = "done"  # fired: the latest rungs due by then are in the outbox, the next is armed
    superseded = "superseded"  # rows of ladders armed whole (before issue 21): not sent
    cancelled = "cancelled"  # rows of ladders armed whole; a closed task's timer is now deleted
    off = "off"  # the policy wants nothing (kept so the task counts as scheduled)


class ReminderTimer(SQLModel, table=True):
    """A moment a task's deadline policy wants something to happen."""

    __tablename__ = "reminder_timer"
    __table_args__ = (
        Index("ix_reminder_timer_status_due", "status", "due_at"),
        # an instance's pending timers (cancelled on every action): one index for both columns,
        # so no plan combines the instance with every pending timer of the bank
        Index("ix_reminder_timer_instance_status", "instance_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)  # task:{id}:{kind}:{level}
    task_id: int = Field(foreign_key="task.id", index=True)
    instance_id: int = Field(foreign_key="workflow_instance.id")
    kind: str = Field(max_length=20)
    level: int = 0
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: str = Field(default=TimerStatus.pending, max_length=20)
    fired_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


def timer_key(task_id: int, kind: str, level: int) -> str:
    """The idempotency key of a timer: one per task, kind and level."""
    return f"task:{task_id}:{kind}:{level}"
