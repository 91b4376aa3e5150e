"""JSON shapes of the improvement-plan API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.instances.schemas import ActionOut
from app.plans.schemas import (
    CauseDraft,
    CheckEntry,
    GapDecision,
    GapDraft,
    IndicatorRow,
    MeasureRow,
    MethodDraft,
    PlanDetails,
    ProblemRow,
    ProgressEntry,
    ReviewDraft,
    StepDraft,
    TargetRow,
    TrainingRow,
)
from app.web.strict import STRICT, BodyId, IsoDate
from app.web.text import FilledText, FormValue

# The service inputs as the API reads them: the same fields and rules, JSON types strictly.


class GapIn(GapDraft):
    """A performance gap: job requirement against actual result."""

    model_config = STRICT


class GapDecisionIn(GapDecision):
    """Whether a gap enters the plan; leaving it out needs a reason."""

    model_config = STRICT


class CauseIn(CauseDraft):
    """A cause of a gap: a catalogue entry of its side, or a text."""

    model_config = STRICT


class MethodIn(MethodDraft):
    """A candidate method, optionally for one gap."""

    model_config = STRICT

    gap_id: BodyId | None = None


class StepIn(StepDraft):
    """A step with its date (inside the plan period) and required result."""

    model_config = STRICT

    due_on: IsoDate | None = None
    owner_id: BodyId | None = None


class DetailsIn(PlanDetails):
    """The goal (quantified, or why not), resources, period and check cadence."""

    model_config = STRICT

    period_start: IsoDate | None = None
    period_end: IsoDate | None = None


class ProgressIn(ProgressEntry):
    """Progress recorded at a checkpoint, with evidence as text (files: .../evidence)."""

    model_config = STRICT


class CheckIn(CheckEntry):
    """The supervisor's check of a checkpoint."""

    model_config = STRICT


class IndicatorIn(IndicatorRow):
    """An indicator-completion row."""

    model_config = STRICT


class MeasureIn(MeasureRow):
    """A measure taken, with its result."""

    model_config = STRICT

    step_id: BodyId | None = None


class TrainingIn(TrainingRow):
    """Training attended."""

    model_config = STRICT


class ProblemRowIn(ProblemRow):
    """A problem or shortcoming; `indicator` names the row it explains."""

    model_config = STRICT


class TargetIn(TargetRow):
    """A next-period target."""

    model_config = STRICT

    deadline: IsoDate | None = None


class ReviewIn(ReviewDraft):
    """The whole period-end review (总结)."""

    model_config = STRICT

    cut_off_on: IsoDate | None = None
    indicators: list[IndicatorIn] = Field(default_factory=list, max_length=100)
    measures: list[MeasureIn] = Field(default_factory=list, max_length=100)
    trainings: list[TrainingIn] = Field(default_factory=list, max_length=100)
    problems: list[ProblemRowIn] = Field(default_factory=list, max_length=100)
    targets: list[TargetIn] = Field(default_factory=list, max_length=100)


class PlanCreate(BaseModel):
    """Open a plan for an employee (yourself, someone you supervise, or as HR)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    employee_id: BodyId | None = Field(default=None, description="Defaults to yourself")
    title: FilledText = Field(min_length=1, max_length=200)
    gaps: list[GapIn] = Field(default_factory=list, max_length=50)


class PlanActionIn(BaseModel):
    """Take an action on a plan: its form values and, when acting for someone, for whom."""

    model_config = ConfigDict(extra="forbid", strict=True)

    payload: dict[str, FormValue] = Field(
        default_factory=dict, description="The action's fields (see `actions[].fields`)")
    on_behalf_of_id: BodyId | None = None


class ChoiceIn(BaseModel):
    """Mark a method chosen (both sides accept it) or not."""

    model_config = ConfigDict(extra="forbid", strict=True)

    chosen: bool


class HrCommentIn(BaseModel):
    """HR's comment in the review's sign-off block."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    comment: FilledText = Field(min_length=1, max_length=4000)


class PlanLinksOut(BaseModel):
    """Where the plan's neighbours live in the API."""

    self: str
    case: str = Field(description="The workflow case carrying the plan's state")
    events: str = Field(description="The hash-chained audit trail")
    versions: str
    outcome: str
    employee: str
    supervisor: str | None
    previous_cycle: str | None
    next_cycle: str | None


class PlanSummary(BaseModel):
    """One row of the plan list."""

    id: int
    instance_id: int
    title: str
    employee_id: int
    employee_name: str
    cycle: int
    state: str
    state_label: str
    updated_at: datetime
    url: str


class PlanList(BaseModel):
    """A page of plans."""

    total: int
    page: int
    per_page: int
    items: list[PlanSummary]


class CauseOut(BaseModel):
    """A cause of a gap."""

    id: int
    gap_id: int
    side: str
    nature: str
    catalogue_key: str
    text: str
    label: str = Field(description="The catalogue entry in your language, else the text")
    url: str


class GapOut(BaseModel):
    """A performance gap and whether the plan takes it."""

    id: int
    position: int
    requirement: str
    actual: str
    metric: str
    unit: str
    baseline: float | None
    target: float | None
    source: str
    included: bool | None
    exclusion_reason: str
    causes: list[CauseOut]
    url: str


class MethodOut(BaseModel):
    """A candidate method; the chosen ones enter the plan."""

    id: int
    gap_id: int | None
    description: str
    origin: str
    chosen: bool
    url: str


class PlanStepOut(BaseModel):
    """A dated step of the plan."""

    id: int
    position: int
    description: str
    due_on: date | None
    expected_result: str
    owner_id: int | None
    url: str


class DetailsOut(BaseModel):
    """The goal, committed resources, period and check cadence."""

    goal: str
    goal_metric: str
    goal_unit: str
    goal_target: float | None
    goal_unquantified_reason: str
    resources: str
    period_start: date | None
    period_end: date | None
    cadence: str


class EvidenceOut(BaseModel):
    """Evidence recorded at a checkpoint: a text, or a file (download at `url`)."""

    id: int
    checkpoint_id: int
    text: str
    filename: str
    content_type: str
    size: int
    sha256: str
    added_by_id: int | None
    added_at: datetime
    url: str | None


class CheckpointOut(BaseModel):
    """A set-time check: the employee records progress, the supervisor checks it."""

    id: int
    step_id: int | None
    due_on: date
    status: str = Field(description="open, recorded, checked, missed or cancelled")
    progress: str
    recorded_at: datetime | None
    recorded_by_id: int | None
    check_result: str
    check_comment: str
    checked_at: datetime | None
    checked_by_id: int | None
    evidence: list[EvidenceOut]
    url: str


class IndicatorOut(BaseModel):
    """An indicator-completion row of the review."""

    indicator: str
    unit: str
    balance_kind: str
    actual: float | None
    change_since_year_start: float | None
    plan_value: float | None
    time_proportional_target: float | None
    completion: float | None = Field(description="Actual against plan, in %")
    behind: bool | None = Field(description="Behind the time-proportional target")


class MeasureOut(BaseModel):
    """A measure taken, with its result."""

    measure: str
    result: str
    step_id: int | None


class TrainingOut(BaseModel):
    """Training attended."""

    name: str
    organiser: str
    days: float | None
    result: str


class ProblemRowOut(BaseModel):
    """A problem or shortcoming with its cause."""

    problem: str
    cause: str
    category: str
    indicator: str


class TargetOut(BaseModel):
    """A next-period target."""

    indicator: str
    value: float | None
    unit: str
    deadline: date | None


class ReviewOut(BaseModel):
    """The period-end review (总结) with its sign-off block."""

    period_label: str
    cut_off_on: date | None
    post: str
    honours: str
    next_measures: str
    supervisor_comment: str
    supervisor_decision: str = Field(description="accept, return, or empty")
    hr_comment: str
    updated_at: datetime
    indicators: list[IndicatorOut]
    measures: list[MeasureOut]
    trainings: list[TrainingOut]
    problems: list[ProblemRowOut]
    targets: list[TargetOut]


class OutcomeOut(BaseModel):
    """How the cycle ended: the review outcome, HR's decision and whom it applies to."""

    review_outcome: str | None = Field(description="met, below_target or no_progress")
    review_outcome_label: str
    reviewed_at: datetime | None
    reviewed_by_id: int | None
    supervisor_comment: str
    hr_decision: str | None = Field(
        description="rotation, change_of_post, replacement or another_cycle")
    hr_decision_label: str
    applies_to: str | None = Field(description="employee, supervisor or both")
    applies_to_label: str
    hr_reason: str
    decided_at: datetime | None
    decided_by_id: int | None
    hr_comment: str
    hr_comment_at: datetime | None
    hr_comment_by_id: int | None
    may_comment: bool = Field(description="Whether you may write HR's comment now")
    next_plan_id: int | None


class SignatureOut(BaseModel):
    """A signature on one version of the plan (its content hash)."""

    signer_id: int
    signer_name: str
    meaning: str
    disagreement: str
    content_hash: str
    at: datetime
    on_behalf_of_id: int | None
    voided: bool


class PlanOut(BaseModel):
    """A plan with its content, state, outcome, and what the caller may do now."""

    id: int
    instance_id: int
    title: str
    employee_id: int
    supervisor_id: int | None
    cycle: int
    previous_plan_id: int | None
    next_plan_id: int | None
    state: str
    state_label: str
    version: int = Field(description="The plan's version: its ETag; send it as If-Match")
    content_version: int
    cycle_warning: bool
    details: DetailsOut
    gaps: list[GapOut]
    methods: list[MethodOut]
    steps: list[PlanStepOut]
    checkpoints: list[CheckpointOut]
    review: ReviewOut | None
    outcome: OutcomeOut
    problems: dict[str, str] = Field(description="Rules the plan still breaks, per field")
    may_edit: bool
    actions: list[ActionOut]
    signatures: list[SignatureOut]
    links: PlanLinksOut


class PlanActionOut(BaseModel):
    """What an action did, and the plan afterwards."""

    from_state: str
    to_state: str
    completed: bool = Field(description="False when a signature was recorded and others wait")
    event_id: int
    plan: PlanOut


class VersionSummaryOut(BaseModel):
    """A frozen plan version (each signature binds to one)."""

    number: int
    content_hash: str
    reason: str
    created_at: datetime
    url: str


class VersionOut(VersionSummaryOut):
    """A frozen plan version with its content: SHA-256 of `content` as canonical JSON is
    `content_hash`."""

    content: dict[str, Any]


class DiffOut(BaseModel):
    """Lines removed (-) and added (+) between two versions, in your language."""

    older: int
    newer: int
    lines: list[str]
