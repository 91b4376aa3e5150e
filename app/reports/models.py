"""Report tables: the daily overdue snapshot, personal calendar feeds, and the list indexes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.engine.models import WorkflowInstance
from app.models_base import created_at_field, timestamp_field
from app.plans.models import ImprovementPlan


class OverdueSnapshotDay(SQLModel, table=True):
    """One taken snapshot: its day and when it was (re)taken; a day without a row is unknown."""

    __tablename__ = "overdue_snapshot_day"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(unique=True)
    total: int = 0
    taken_at: datetime = created_at_field()


class OverdueSnapshot(SQLModel, table=True):
    """Overdue open tasks of one unit's cases at the end of one day, by working days overdue."""

    __tablename__ = "overdue_snapshot"
    __table_args__ = (UniqueConstraint("day", "org_unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    total: int = 0
    days_0_2: int = 0
    days_3_5: int = 0
    days_6_10: int = 0
    days_over_10: int = 0


class CalendarFeed(SQLModel, table=True):
    """A personal ICS feed: only the SHA-256 of its secret token is kept."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = timestamp_field()
    last_used_at: datetime | None = timestamp_field()


class CalendarFeedEvent(SQLModel, table=True):
    """What a person's feed last said about a task, so a moved date bumps SEQUENCE."""

    __tablename__ = "calendar_feed_event"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60, unique=True)  # "p{person}:t{task}"
    person_id: int = Field(foreign_key="person.id", index=True)
    task_id: int = Field(foreign_key="task.id")
    due_on: date
    sequence: int = 0
    stamped_at: datetime = created_at_field()
    cancelled_at: datetime | None = timestamp_field()


# Indexes the report lists sort and page by (keyset pagination: sort column, then id).
# They belong to other domains' tables but exist for the reports, so they are declared here.
PLAN_CYCLE_INDEX = Index("ix_improvement_plan_cycle_id", ImprovementPlan.cycle, ImprovementPlan.id)
INSTANCE_UPDATED_INDEX = Index("ix_workflow_instance_updated_at_id", WorkflowInstance.updated_at,
                               WorkflowInstance.id)
