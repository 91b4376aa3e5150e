"""JSON shapes of the improvement-plan API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from app.plans.schemas import GapDraft
from app.web.ids import Id


class PlanCreate(BaseModel):
    """Open a plan for an employee (yourself, someone you supervise, or as HR)."""

    employee_id: Id | None = Field(default=None, description="Defaults to yourself")
    title: str = Field(min_length=1, max_length=200)
    gaps: list[GapDraft] = []


class ActionIn(BaseModel):
    """A workflow action's form values."""

    payload: dict[str, Any] = {}
    expected_version: int | None = None
    on_behalf_of_id: Id | None = None


class ChoiceIn(BaseModel):
    """Mark a method chosen or not."""

    chosen: bool


class PlanSummary(BaseModel):
    """One row of the plan list."""

    id: int
    title: str
    employee_id: int
    employee_name: str
    cycle: int
    state: str
    state_label: str
    updated_at: datetime


class PlanList(BaseModel):
    """A page of plans."""

    total: int
    page: int
    per_page: int
    items: list[PlanSummary]


class ActionOut(BaseModel):
    """An action the caller may take now."""

    trigger: str
    label: str
    fields: list[str]
    on_behalf_of_id: int | None = None


class PlanOut(BaseModel):
    """A plan with its content, state and what the caller may do."""

    id: int
    instance_id: int
    title: str
    employee_id: int
    supervisor_id: int | None
    cycle: int
    previous_plan_id: int | None
    state: str
    state_label: str
    version: int = Field(description="Send back as expected_version to detect a stale view")
    content_version: int
    cycle_warning: bool
    details: dict[str, Any]
    gaps: list[dict[str, Any]]
    methods: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    checkpoints: list[dict[str, Any]]
    review: dict[str, Any] | None
    problems: dict[str, str] = Field(description="Rules the plan still breaks, per field")
    may_edit: bool
    actions: list[ActionOut]
    signatures: list[dict[str, Any]]


class VersionOut(BaseModel):
    """A frozen plan version."""

    number: int
    content_hash: str
    reason: str
    created_at: datetime


class DiffOut(BaseModel):
    """Lines removed (-) and added (+) between two versions."""

    older: int
    newer: int
    lines: list[str]


class CheckpointOut(BaseModel):
    """A checkpoint after recording or checking."""

    id: int
    due_on: date
    status: str
    check_result: str
