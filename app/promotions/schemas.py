"""JSON shapes of the promotion API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.web.strict import BodyId
from app.web.text import FormValue, Text


class In(BaseModel):
    """Inputs refuse unknown keys and trim strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True,
                              allow_inf_nan=False)


class ApplyIn(In):
    """An application, or a supervisor's nomination, for a title in the open round."""

    scheme: Text = Field(max_length=60)
    target_title: Text = Field(max_length=60)
    person_id: BodyId | None = Field(default=None, description="Someone you nominate; "
                                                           "leave out to apply yourself")
    facts: dict[str, FormValue] = Field(default={}, description="The scheme's declared facts")
    justifications: dict[str, Text] = Field(
        default={}, description="exception_<rule> → why a 'generally' rule not met is justified")
    outstanding_contribution: bool = False
    justification: Text = Field(default="", max_length=5000,
                                description="Why the contribution is outstanding (skip-level)")


class CitationOut(BaseModel):
    """A rule as applied to the person."""

    rule: str
    label: str
    passed: bool
    details: list[str]


class RequirementOut(BaseModel):
    """Something an application for the title still needs."""

    key: str = Field(description="window, existing, kind, skip_level, justification")
    rule: str
    label: str
    detail: str
    field: str | None = Field(description="The application field that supplies it; null: "
                                          "nothing in the application can (the round's window, "
                                          "who may start it)")


class TitleVerdictOut(BaseModel):
    """Whether the person may enter the evaluation for one title, and what an application
    for it still needs (`may_apply` is true exactly when an application would be taken)."""

    name: str
    label: str
    tier: str
    staff_grade: int | None
    eligible: bool
    skip_level: bool
    may_apply: bool
    reasons: list[CitationOut]
    why_not: list[CitationOut]
    missing: list[RequirementOut]


class EligibilityWindowOut(BaseModel):
    """The round the verdict is for."""

    year: int
    assessment_year: int
    opens_on: date
    closes_on: date
    status: str = Field(description="open, upcoming (not yet open) or closed")


class EligibilityOut(BaseModel):
    """A person's eligibility in a scheme for an assessment year (it is not a promotion)."""

    person_id: int
    scheme: str
    scheme_label: str
    year: int
    current_title: str | None
    current_label: str
    window: EligibilityWindowOut | None = None
    titles: list[TitleVerdictOut]


class TitleOut(BaseModel):
    """A title of a scheme, with the other names the bank's files use for it."""

    name: str
    label: str
    tier: str
    staff_grade: int | None
    aliases: list[str] = []


class SettingOut(BaseModel):
    """An ambiguous rule and the reading in use."""

    name: str
    label: str
    value: str
    default: str
    reading: str


class RouteOut(BaseModel):
    """The approval route of a tier."""

    tier: str
    workflow: str
    application_kinds: list[str]
    filing: list[str]


class WindowOut(BaseModel):
    """The yearly application window."""

    opens: str
    closes: str
    assessment_year: str


class SkipLevelOut(BaseModel):
    """What skip-level (越级高聘) means in the scheme, with its source clause."""

    rule: str
    label: str
    source: str
    allowed: bool
    requires_condition: bool
    justification: bool
    first_appointment: str = Field(description="lowest, any, or the titles (comma-separated) "
                                               "someone without a title may start at")


class ExitRouteOut(BaseModel):
    """A route out of the scheme's titles."""

    route: str
    label: str
    workflow: str
    application_kinds: list[str]
    reasons: dict[str, str]


class UpliftOut(BaseModel):
    """The staffing uplift."""

    add: int
    at_least: int
    conditions: list[str]


class StaffingFormulaOut(BaseModel):
    """The scheme's staffing-quota formula."""

    rule: str
    label: str
    second_level_kinds: list[str]
    per_unit: float
    volume_divisor: float
    rounding: str
    first_year: str
    sme_credit_line: str
    uplift: UpliftOut | None


class SchemeOut(BaseModel):
    """A promotion scheme as data."""

    scheme: str
    label: str
    titles: list[TitleOut]
    window: WindowOut
    settings: list[SettingOut]
    skip_level: SkipLevelOut | None = Field(
        default=None, description="null: titles are rated, nothing is skip-level")
    routes: list[RouteOut]
    exits: list[ExitRouteOut] = []
    staffing: StaffingFormulaOut | None = None


class RouteStepOut(BaseModel):
    """A step of a case's route and how far the case got."""

    key: str
    label: str
    status: str = Field(description="done, current, pending, returned, rejected, withdrawn, "
                                    "not_reached, sent")
    status_label: str
    actors: list[str]
    blocking: bool


class ScreeningOut(BaseModel):
    """One qualification condition as screened."""

    rule: str
    label: str
    strength: str
    passed: bool
    details: list[str]
    exception: str


class AppointmentOut(BaseModel):
    """The appointment a case ended in (聘任), linked to its request."""

    id: int
    request_id: int | None
    person_id: int
    title: str
    title_label: str
    staff_grade: int | None
    outcome: str
    issued_on: date
    effective_from: date
    document_no: str
    url: str
    request_url: str | None


class NoticeOut(BaseModel):
    """A filing notice (for information, never blocking)."""

    id: int
    sent_at: datetime
    acknowledged_at: datetime | None
    to: str


class CaseLinksOut(BaseModel):
    """Where the case's neighbours live in the API."""

    self: str
    case: str = Field(description="The workflow case: its actions are taken there")
    events: str
    person: str
    appointment: str | None


class CaseOut(BaseModel):
    """A promotion case: who, for what, its route with the current step, and its outcome.

    Act on it through /api/instances/{instance_id}/actions/{trigger}.
    """

    id: int
    instance_id: int
    version: int = Field(description="The case's version: its ETag")
    scheme: str
    scheme_label: str
    person_id: int
    person_name: str
    applicant_name: str
    kind: str
    kind_label: str
    current_title: str | None
    current_label: str
    target_title: str
    target_label: str
    skip_level: bool
    justification: str
    state: str
    state_label: str
    closed: bool
    created_at: datetime
    route: list[RouteStepOut]
    waiting_on: list[str]
    screening: list[ScreeningOut]
    reasons: list[CitationOut]
    appointment: AppointmentOut | None
    filing_notices: list[NoticeOut]
    links: CaseLinksOut


class QueueItemOut(BaseModel):
    """A case waiting on the caller."""

    request_id: int
    instance_id: int
    person_name: str
    scheme_label: str
    target_label: str
    state_label: str
    on_behalf_of_id: int | None
    due_at: datetime | None


class RoundCaseOut(BaseModel):
    """One case of a round."""

    id: int
    person_name: str
    employee_no: str
    kind: str
    kind_label: str
    target_label: str
    state: str
    state_label: str
    closed: bool
    waiting_on: list[str]
    updated_at: datetime


class RoundOut(BaseModel):
    """A promotion round: its window and where each case is."""

    id: int
    scheme: str
    scheme_label: str
    year: int
    assessment_year: int
    opens_on: date
    closes_on: date
    cases: list[RoundCaseOut]


class RoundSummaryOut(BaseModel):
    """A round without its cases."""

    id: int
    scheme: str
    year: int
    assessment_year: int
    opens_on: date
    closes_on: date


class FilingOut(BaseModel):
    """A filing notice addressed to the caller or a seat they hold."""

    id: int
    request_id: int
    summary: str
    sent_at: datetime
    acknowledged_at: datetime | None
