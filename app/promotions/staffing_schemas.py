"""JSON shapes of the staffing quota (DOMAIN §6)."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Amount = Annotated[float, Field(ge=0, le=1e15, description="CNY")]


class FiguresIn(BaseModel):
    """A branch's figures for one year's quota; amounts in CNY. A field left out keeps its
    stored value; `second_level_units` null counts the units from the organisation tree."""

    model_config = ConfigDict(extra="forbid")

    second_level_units: Annotated[int, Field(ge=0, le=10_000)] | None = None
    asset_liability_size: Amount | None = None
    corporate_deposit_growth: Annotated[float, Field(ge=-1e15, le=1e15)] | None = None
    corporate_risk_asset_growth: Annotated[float, Field(ge=-1e15, le=1e15)] | None = None
    sme_credit_lines_start: list[Amount] | None = Field(
        default=None, max_length=100_000,
        description="Credit lines (CNY) of the credit clients at the start of the year")
    sme_credit_lines_end: list[Amount] | None = Field(
        default=None, max_length=100_000,
        description="Credit lines (CNY) of the credit clients at the end of the year")
    first_year: bool | None = Field(default=None, description="A new branch's first year")

    @field_validator("asset_liability_size", "corporate_deposit_growth",
                     "corporate_risk_asset_growth")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class FiguresOut(BaseModel):
    """The figures the quota was computed from."""

    second_level_units: int
    counted_from_tree: bool
    units: list[str]
    asset_liability_size: float | None
    corporate_deposit_growth: float | None
    corporate_risk_asset_growth: float | None
    sme_credit_lines_start: list[float]
    sme_credit_lines_end: list[float]
    first_year: bool


class LineOut(BaseModel):
    """One line of the explanation."""

    key: str
    label: str
    value: str
    explanation: str
    met: bool | None


class BranchQuotaOut(BaseModel):
    """A branch's headcount with every line that led to it."""

    branch_code: str
    branch_name: str
    headcount: int
    base: int
    volume: int | None
    uplift: int
    figures: FiguresOut
    lines: list[LineOut]
    missing: list[str] = Field(description="Figures not given")


class RollupOut(BaseModel):
    """The headcount of the branches under one unit (a provincial branch, the head office)."""

    unit_code: str
    unit_name: str
    branches: int
    headcount: int


class StaffingOut(BaseModel):
    """The staffing quota of the branches in your area for one scheme and year."""

    scheme: str
    scheme_label: str
    rule: str
    year: int
    branches: list[BranchQuotaOut]
    rollup: list[RollupOut]
    total: int
