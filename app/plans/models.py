"""Improvement-plan content (DOMAIN.md §2, §2a): each part in its own table, not a JSON blob."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models_base import created_at_field, timestamp_field


class ImprovementPlan(SQLModel, table=True):
    """One cycle of an employee's improvement plan; the workflow instance carries its state."""

    __tablename__ = "improvement_plan"

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="workflow_instance.id", unique=True)
    employee_id: int = Field(foreign_key="person.id", index=True)
    supervisor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)
    cycle: int = 1
    previous_plan_id: int | None = Field(default=None, foreign_key="improvement_plan.id")
    title: str = Field(max_length=200)
    source: str = Field(default="", max_length=40)
    goal: str = Field(default="", sa_type=Text)
    goal_metric: str = Field(default="", max_length=120)
    goal_unit: str = Field(default="", max_length=20)
    goal_target: float | None = None
    goal_unquantified_reason: str = Field(default="", sa_type=Text)
    resources: str = Field(default="", sa_type=Text)
    period_start: date | None = None
    period_end: date | None = None
    cadence: str = Field(default="monthly", max_length=20)
    content_version: int = 1
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Gap(SQLModel, table=True):
    """A performance gap: job requirement against actual result, and whether the plan takes it."""

    __tablename__ = "plan_gap"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="improvement_plan.id", index=True)
    position: int = 0
    requirement: str = Field(sa_type=Text)
    actual: str = Field(sa_type=Text)
    metric: str = Field(default="", max_length=120)
    unit: str = Field(default="", max_length=20)
    baseline: float | None = None
    target: float | None = None
    source: str = Field(default="requirement_comparison", max_length=40)
    included: bool | None = None
    exclusion_reason: str = Field(default="", sa_type=Text)


class Cause(SQLModel, table=True):
    """A cause of a gap, from the employee's, the supervisor's or the environment's side."""

    __tablename__ = "plan_cause"

    id: int | None = Field(default=None, primary_key=True)
    gap_id: int = Field(foreign_key="plan_gap.id", index=True)
    side: str = Field(max_length=20)
    nature: str = Field(max_length=20)  # objective / subjective
    catalogue_key: str = Field(default="", max_length=60)
    text: str = Field(default="", sa_type=Text)


class Method(SQLModel, table=True):
    """A candidate way to close a gap; the chosen ones enter the plan."""

    __tablename__ = "plan_method"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="improvement_plan.id", index=True)
    gap_id: int | None = Field(default=None, foreign_key="plan_gap.id")
    description: str = Field(sa_type=Text)
    origin: str = Field(default="discussion", max_length=30)
    chosen: bool = False


class Step(SQLModel, table=True):
    """A dated step of the plan with its expected result and owner."""

    __tablename__ = "plan_step"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="improvement_plan.id", index=True)
    position: int = 0
    description: str = Field(sa_type=Text)
    due_on: date | None = None
    expected_result: str = Field(default="", sa_type=Text)
    owner_id: int | None = Field(default=None, foreign_key="person.id")


class Checkpoint(SQLModel, table=True):
    """A set-time check: the employee records progress, then the supervisor checks it."""

    __tablename__ = "plan_checkpoint"
    __table_args__ = (Index("ix_plan_checkpoint_status_due", "status", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="improvement_plan.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="plan_step.id")
    due_on: date
    status: str = Field(default="open", max_length=20)  # open / recorded / checked
    progress: str = Field(default="", sa_type=Text)
    recorded_at: datetime | None = timestamp_field()
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    check_result: str = Field(default="", max_length=20)  # on_track / at_risk / behind
    check_comment: str = Field(default="", sa_type=Text)
    checked_at: datetime | None = timestamp_field()
    checked_by_id: int | None = Field(default=None, foreign_key="person.id")


class Evidence(SQLModel, table=True):
    """Proof recorded at a checkpoint: a text, or a file kept in the database."""

    __tablename__ = "plan_evidence"

    id: int | None = Field(default=None, primary_key=True)
    checkpoint_id: int = Field(foreign_key="plan_checkpoint.id", index=True)
    text: str = Field(default="", sa_type=Text)
    filename: str = Field(default="", max_length=200)
    content_type: str = Field(default="", max_length=100)
    size: int = 0
    sha256: str = Field(default="", max_length=64)
    data: bytes | None = Field(default=None, sa_type=LargeBinary)
    added_by_id: int | None = Field(default=None, foreign_key="person.id")
    added_at: datetime = created_at_field()


class PlanVersion(SQLModel, table=True):
    """A frozen copy of the plan's content; signatures bind to its hash."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="improvement_plan.id", index=True)
    number: int
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    content_hash: str = Field(max_length=64)
    reason: str = Field(default="", sa_type=Text)
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = created_at_field()


class PlanView(SQLModel, table=True):
    """Who opened a plan and when (need-to-know is audited)."""

    __tablename__ = "plan_view"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="improvement_plan.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    at: datetime = created_at_field()


class Review(SQLModel, table=True):
    """The period-end review (总结) header and sign-off block (DOMAIN.md §2a)."""

    __tablename__ = "plan_review"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="improvement_plan.id", unique=True)
    period_label: str = Field(default="", max_length=60)
    cut_off_on: date | None = None
    post: str = Field(default="", max_length=120)
    honours: str = Field(default="", sa_type=Text)
    next_measures: str = Field(default="", sa_type=Text)
    supervisor_comment: str = Field(default="", sa_type=Text)
    supervisor_decision: str = Field(default="", max_length=20)  # accept / return
    hr_comment: str = Field(default="", sa_type=Text)
    updated_at: datetime = created_at_field()


class ReviewIndicator(SQLModel, table=True):
    """One indicator-completion row of the review."""

    __tablename__ = "plan_review_indicator"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="plan_review.id", index=True)
    position: int = 0
    indicator: str = Field(max_length=120)
    unit: str = Field(default="", max_length=20)
    balance_kind: str = Field(default="point", max_length=20)  # point / daily_avg / cumulative
    actual: float | None = None
    change_since_year_start: float | None = None
    plan_value: float | None = None
    time_proportional_target: float | None = None


class ReviewMeasure(SQLModel, table=True):
    """A measure taken in the period with its result, linked to a plan step."""

    __tablename__ = "plan_review_measure"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="plan_review.id", index=True)
    step_id: int | None = Field(default=None, foreign_key="plan_step.id")
    measure: str = Field(sa_type=Text)
    result: str = Field(default="", sa_type=Text)


class ReviewTraining(SQLModel, table=True):
    """Training attended in the period."""

    __tablename__ = "plan_review_training"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="plan_review.id", index=True)
    name: str = Field(max_length=200)
    organiser: str = Field(default="", max_length=200)
    days: float | None = None
    result: str = Field(default="", max_length=200)


class ReviewProblem(SQLModel, table=True):
    """A problem or shortcoming with its cause; required for each indicator under plan."""

    __tablename__ = "plan_review_problem"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="plan_review.id", index=True)
    indicator_id: int | None = Field(default=None, foreign_key="plan_review_indicator.id")
    problem: str = Field(sa_type=Text)
    cause: str = Field(default="", sa_type=Text)
    category: str = Field(default="", max_length=40)


class ReviewTarget(SQLModel, table=True):
    """A next-period target."""

    __tablename__ = "plan_review_target"

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="plan_review.id", index=True)
    indicator: str = Field(max_length=120)
    value: float | None = None
    unit: str = Field(default="", max_length=20)
    deadline: date | None = None
