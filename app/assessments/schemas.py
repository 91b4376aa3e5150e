"""Inputs and outputs of the assessment services and API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.web.strict import STRICT, json_int

Year = Annotated[int, Field(ge=2000, le=2100)]
Level = Annotated[int, Field(ge=1, le=5)]


class Input(BaseModel):
    """Service inputs refuse unknown keys, trim strings and accept only finite numbers."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class QuarterlyEntry(Input):
    """One quarter's management level for a person."""

    year: Year
    quarter: Annotated[int, Field(ge=1, le=4)]
    level: Level
    note: str = Field(default="", max_length=500)


class AnnualEntry(Input):
    """A person's annual result (a field left out keeps its stored value)."""

    year: Year
    level: Level | None = None
    targets_met: bool | None = None
    effective_client_target_met: bool | None = None
    liability_loans: Annotated[int, Field(ge=0)] | None = None
    violating_loans: Annotated[int, Field(ge=0)] | None = None
    metrics: dict[str, float] = {}


class OutcomeEntry(Input):
    """The outcome of a person's periodic assessment, with the reason."""

    year: Year
    outcome: str
    reason: str = Field(default="", max_length=5000)


class FlagEntry(Input):
    """A reviewer flag on a person's year, with its written justification."""

    year: Year
    name: str
    justification: str = Field(min_length=1, max_length=5000)


class CheckOut(BaseModel):
    """One threshold compared with the person's value."""

    metric: str
    label: str
    op: str
    threshold: float
    value: float | None
    holds: bool


class StarRatingOut(BaseModel):
    """A star rating with the conditions that decided it."""

    person_id: int
    year: int
    stars: int
    reward: float
    admitted: bool
    deciding: list[CheckOut]
    explanation: list[str]


class QuarterOut(BaseModel):
    """A stored quarterly level."""

    year: int
    quarter: int
    level: int
    note: str


class AnnualOut(BaseModel):
    """A stored annual result."""

    year: int
    level: int | None
    targets_met: bool | None
    effective_client_target_met: bool | None
    liability_loans: int
    violating_loans: int
    metrics: dict[str, float]
    outcome: str | None
    outcome_reason: str


class FlagOut(BaseModel):
    """A stored reviewer flag."""

    year: int
    name: str
    justification: str


class PersonAssessmentsOut(BaseModel):
    """Everything recorded about a person's assessments."""

    person_id: int
    quarters: list[QuarterOut]
    annual: list[AnnualOut]
    flags: list[FlagOut]
    plans_opened: list[int]


class ImportOut(BaseModel):
    """What a CSV import did."""

    total: int
    created: int
    updated: int
    unchanged: int
    plans_opened: int


JsonYear = json_int(2000, 2100)
JsonLevel = json_int(1, 5)
JsonCount = json_int(0, 2**31 - 1)
JsonQuarter = json_int(1, 4)


class QuarterlyIn(QuarterlyEntry):
    """One quarter's management level, as the API takes it (JSON types strictly)."""

    model_config = STRICT

    year: JsonYear
    quarter: JsonQuarter
    level: JsonLevel


class AnnualIn(AnnualEntry):
    """A person's annual result, as the API takes it (fields left out keep their values)."""

    model_config = STRICT

    year: JsonYear
    level: JsonLevel | None = None
    liability_loans: JsonCount | None = None
    violating_loans: JsonCount | None = None


class OutcomeIn(OutcomeEntry):
    """The outcome of a person's assessment year, as the API takes it."""

    model_config = STRICT

    year: JsonYear


class FlagIn(FlagEntry):
    """A reviewer flag with its justification, as the API takes it."""

    model_config = STRICT

    year: JsonYear
