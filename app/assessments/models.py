"""Assessment tables: quarterly levels, annual results, reviewer flags, plans they opened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models_base import created_at_field, json_field, timestamp_field


class QuarterlyAssessment(SQLModel, table=True):
    """A person's management level (1 best … 5) for one quarter of one year."""

    __tablename__ = "quarterly_assessment"
    __table_args__ = (
        UniqueConstraint("person_id", "year", "quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="ck_quarterly_assessment_quarter"),
        CheckConstraint("level BETWEEN 1 AND 5", name="ck_quarterly_assessment_level"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    year: int = Field(index=True)
    quarter: int
    level: int
    note: str = Field(default="", max_length=500)
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class AnnualAssessment(SQLModel, table=True):
    """A person's annual result: level, targets, loan counts, star metrics and the outcome."""

    __tablename__ = "annual_assessment"
    __table_args__ = (UniqueConstraint("person_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    year: int = Field(index=True)
    level: int | None = None
    targets_met: bool | None = None
    effective_client_target_met: bool | None = None
    liability_loans: int = 0
    violating_loans: int = 0
    metrics: dict[str, Any] = json_field()  # star-rating metrics named in star_rating.yaml
    outcome: str | None = Field(default=None, max_length=20)
    outcome_reason: str = Field(default="", sa_type=Text)
    outcome_by_id: int | None = Field(default=None, foreign_key="person.id")
    outcome_at: datetime | None = timestamp_field()
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class AssessmentFlag(SQLModel, table=True):
    """A reviewer-set flag on a person's year (outstanding contribution…), with justification."""

    __tablename__ = "assessment_flag"
    __table_args__ = (UniqueConstraint("person_id", "year", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    year: int
    name: str = Field(max_length=60)
    justification: str = Field(sa_type=Text)
    set_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = created_at_field()


class AssessmentPlanLink(SQLModel, table=True):
    """An improvement plan an assessment result opened: at most one per period and trigger."""

    __tablename__ = "assessment_plan_link"
    __table_args__ = (UniqueConstraint("person_id", "year", "quarter", "trigger"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    year: int
    quarter: int = 0  # 0: the annual result
    trigger: str = Field(max_length=60)
    plan_id: int | None = Field(default=None, foreign_key="improvement_plan.id")
    instance_id: int | None = Field(default=None, foreign_key="workflow_instance.id")
    created_at: datetime = created_at_field()
