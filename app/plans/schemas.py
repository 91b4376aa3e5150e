"""Inputs and outputs of the improvement-plan services and API."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.web.ids import Id
from app.web.text import FilledText, Text

GapSource = Literal[
    "requirement_comparison", "customer_evaluation", "self_inspection", "open_inspection",
    "unannounced_inspection", "skills_test", "periodic_assessment",
]
CauseSide = Literal["employee", "supervisor", "environment"]
CauseNature = Literal["objective", "subjective"]
MethodOrigin = Literal["discussion", "brainstorming", "process_remapping", "other"]
Cadence = Literal["weekly", "ten_days", "monthly"]
CheckResult = Literal["on_track", "at_risk", "behind"]
BalanceKind = Literal["point", "daily_avg", "cumulative"]


class Input(BaseModel):
    """Service inputs refuse unknown keys, trim strings and accept only finite numbers."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class GapDraft(Input):
    """A performance gap as the employee or an assessment states it."""

    requirement: FilledText = Field(min_length=1, max_length=2000)
    actual: FilledText = Field(min_length=1, max_length=2000)
    metric: Text = Field(default="", max_length=120)
    unit: Text = Field(default="", max_length=20)
    baseline: float | None = None
    target: float | None = None
    source: GapSource = "requirement_comparison"


class GapDecision(Input):
    """Whether a gap enters the plan (DOMAIN §2 step 3); an exclusion keeps its reason."""

    included: bool
    exclusion_reason: Text = Field(default="", max_length=2000)


class CauseDraft(Input):
    """A cause of a gap from one side, objective or subjective."""

    side: CauseSide
    nature: CauseNature
    catalogue_key: Text = Field(default="", max_length=60)
    text: Text = Field(default="", max_length=2000)


class MethodDraft(Input):
    """A candidate method, optionally for one gap."""

    description: FilledText = Field(min_length=1, max_length=2000)
    gap_id: Id | None = None
    origin: MethodOrigin = "discussion"
    chosen: bool = False


class StepDraft(Input):
    """A dated step with its expected result."""

    description: FilledText = Field(min_length=1, max_length=2000)
    due_on: date | None = None
    expected_result: Text = Field(default="", max_length=2000)
    owner_id: Id | None = None


class PlanDetails(Input):
    """The goal, committed resources, period and check cadence of a plan."""

    goal: Text = Field(default="", max_length=4000)
    goal_metric: Text = Field(default="", max_length=120)
    goal_unit: Text = Field(default="", max_length=20)
    goal_target: float | None = None
    goal_unquantified_reason: Text = Field(default="", max_length=2000)
    resources: Text = Field(default="", max_length=4000)
    period_start: date | None = None
    period_end: date | None = None
    cadence: Cadence = "monthly"


class ProgressEntry(Input):
    """What the employee records at a checkpoint."""

    progress: FilledText = Field(min_length=1, max_length=4000)
    evidence_text: Text = Field(default="", max_length=4000)


class CheckEntry(Input):
    """The supervisor's check of a checkpoint."""

    result: CheckResult
    comment: Text = Field(default="", max_length=4000)


class IndicatorRow(Input):
    """One indicator-completion row of the period-end review."""

    indicator: FilledText = Field(min_length=1, max_length=120)
    unit: Text = Field(default="", max_length=20)
    balance_kind: BalanceKind = "point"
    actual: float | None = None
    change_since_year_start: float | None = None
    plan_value: float | None = None
    time_proportional_target: float | None = None


class MeasureRow(Input):
    """A measure taken with its result."""

    measure: FilledText = Field(min_length=1, max_length=2000)
    result: Text = Field(default="", max_length=2000)
    step_id: Id | None = None


class TrainingRow(Input):
    """Training attended."""

    name: FilledText = Field(min_length=1, max_length=200)
    organiser: Text = Field(default="", max_length=200)
    days: float | None = Field(default=None, ge=0, le=365)
    result: Text = Field(default="", max_length=200)


class ProblemRow(Input):
    """A problem or shortcoming; `indicator` names the row it explains, if any."""

    problem: FilledText = Field(min_length=1, max_length=2000)
    cause: Text = Field(default="", max_length=2000)
    category: Text = Field(default="", max_length=40)
    indicator: Text = Field(default="", max_length=120)


class TargetRow(Input):
    """A next-period target."""

    indicator: FilledText = Field(min_length=1, max_length=120)
    value: float | None = None
    unit: Text = Field(default="", max_length=20)
    deadline: date | None = None


class ReviewDraft(Input):
    """The whole period-end review form (DOMAIN §2a)."""

    period_label: Text = Field(default="", max_length=60)
    cut_off_on: date | None = None
    post: Text = Field(default="", max_length=120)
    honours: Text = Field(default="", max_length=4000)
    next_measures: Text = Field(default="", max_length=4000)
    indicators: list[IndicatorRow] = []
    measures: list[MeasureRow] = []
    trainings: list[TrainingRow] = []
    problems: list[ProblemRow] = []
    targets: list[TargetRow] = []
