"""Staffing quota (编制) of customer managers per branch, DOMAIN §6: the formula is scheme data.

Base = second-level units × 4; volume = corporate assets and liabilities ÷ CNY 400m; quota =
the larger of the two; +1 when at least two of the uplift conditions hold (corporate deposits
+200m, corporate risk assets +200m, SME credit clients +10, an SME being a client with a credit
line of 5m–20m, both ends inclusive); a new branch's first year counts units only. Every number
and bound is a field of the scheme's `staffing:` block; this module only applies it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from app.assessments.datafile import Labels, Strict, check_labels
from app.assessments.wording import number
from app.i18n import Message

UNIT_KINDS = Literal["head_office", "province", "branch", "sub_branch", "outlet", "department"]
FIGURES = ("asset_liability_size", "corporate_deposit_growth", "corporate_risk_asset_growth",
           "sme_credit_client_growth")
MONEY_FIGURES = ("asset_liability_size", "corporate_deposit_growth",
                 "corporate_risk_asset_growth")
FIGURE_LABELS: dict[str, Message] = {
    "asset_liability_size": Message("Corporate assets and liabilities"),
    "corporate_deposit_growth": Message("Growth of corporate deposits"),
    "corporate_risk_asset_growth": Message("Growth of corporate risk assets"),
    "sme_credit_client_growth": Message("Growth in SME credit clients"),
}
QUOTA = Message("Quota before the uplift")
ROUNDING_LABELS = {"ceil": Message("rounded up"), "floor": Message("rounded down"),
                   "half_up": Message("rounded to the nearest whole number")}


def money(value: float) -> dict[str, str]:
    """An amount in CNY as bank staff write it (亿元/万元 in Chinese, CNY m in English)."""
    zh = f"{number(value / 1e8)}亿元" if abs(value) >= 1e8 else f"{number(value / 1e4)}万元"
    return {"en": f"CNY {number(value / 1e6)}m", "zh": zh}


class Bound(Strict):
    """A bound on a figure: gte/gt below, lte/lt above (an inclusive end says so in the file)."""

    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _sensible(self) -> Bound:
        if all(v is None for v in (self.gte, self.gt, self.lte, self.lt)):
            raise ValueError("give at least one of 'gte', 'gt', 'lte', 'lt'")
        if self.gte is not None and self.gt is not None:
            raise ValueError("give 'gte' or 'gt', not both")
        if self.lte is not None and self.lt is not None:
            raise ValueError("give 'lte' or 'lt', not both")
        return self

    def holds(self, value: float | None) -> bool:
        """Whether a value lies inside the bound (a missing value never does)."""
        if value is None:
            return False
        return ((self.gte is None or value >= self.gte) and (self.gt is None or value > self.gt)
                and (self.lte is None or value <= self.lte)
                and (self.lt is None or value < self.lt))

    def words(self, show: Any = number) -> Message:
        """The bound in words, its ends said inclusive or not."""
        low = self.gte if self.gte is not None else self.gt
        high = self.lte if self.lte is not None else self.lt
        if low is not None and high is not None:
            ends = {"low": show(low), "high": show(high)}
            if self.gte is not None and self.lte is not None:
                return Message("from {low} to {high}, both ends included", ends)
            if self.gte is not None:
                return Message("from {low} (included) to below {high}", ends)
            if self.lte is not None:
                return Message("above {low} up to {high} (included)", ends)
            return Message("above {low} and below {high}", ends)
        if self.gte is not None:
            return Message("at least {n}", {"n": show(self.gte)})
        if self.gt is not None:
            return Message("more than {n}", {"n": show(self.gt)})
        if self.lte is not None:
            return Message("at most {n}", {"n": show(self.lte)})
        return Message("less than {n}", {"n": show(self.lt)})


class UpliftCondition(Bound):
    """One condition of the uplift: a figure of the year inside a bound."""

    figure: Literal["asset_liability_size", "corporate_deposit_growth",
                    "corporate_risk_asset_growth", "sme_credit_client_growth"]
    label: Labels

    _labels = field_validator("label")(check_labels)


class Uplift(Strict):
    """Extra headcount when enough of the conditions hold."""

    add: Annotated[int, Field(ge=1, le=50)] = 1
    at_least: Annotated[int, Field(ge=1)] = 2
    conditions: list[UpliftCondition] = Field(min_length=1)

    @model_validator(mode="after")
    def _reachable(self) -> Uplift:
        if self.at_least > len(self.conditions):
            raise ValueError(f"'at_least' is {self.at_least} but only {len(self.conditions)} "
                             f"condition(s) are listed")
        return self


class StaffingFormula(Strict):
    """The staffing-quota formula of a scheme (the `staffing:` block of its file)."""

    rule: Annotated[str, Field(min_length=1, max_length=20)] = "§6"
    label: Labels
    second_level_kinds: list[UNIT_KINDS] = Field(default=["sub_branch"], min_length=1)
    per_unit: Annotated[float, Field(gt=0, le=1000)] = 4
    volume_divisor: Annotated[float, Field(gt=0)]  # CNY of corporate business per manager
    rounding: Literal["ceil", "floor", "half_up"] = "floor"
    uplift: Uplift | None = None
    sme_credit_line: Bound  # which credit clients count as SMEs (CNY)
    first_year: Literal["units_only", "formula"] = "units_only"

    _labels = field_validator("label")(check_labels)


@dataclass
class Figures:
    """A branch's figures for one year's quota (amounts in CNY)."""

    second_level_units: int
    unit_names: list[Any] = field(default_factory=list)  # names, or {en, zh} labels
    asset_liability_size: float | None = None
    corporate_deposit_growth: float | None = None
    corporate_risk_asset_growth: float | None = None
    sme_credit_lines_start: list[float] = field(default_factory=list)
    sme_credit_lines_end: list[float] = field(default_factory=list)
    first_year: bool = False


@dataclass
class Line:
    """One line of the explanation: what it is, its number, and how it came about."""

    key: str
    label: Message | Labels
    value: Any
    explanation: Message
    met: bool | None = None  # for the uplift conditions


@dataclass
class Quota:
    """A branch's computed headcount with every line that led to it."""

    headcount: int
    base: int
    volume: int | None
    uplift: int
    lines: list[Line]
    missing: list[str]  # figures not given (the volume or a condition could not be judged)


def _rounded(value: float, how: str) -> int:
    if how == "ceil":
        return math.ceil(value - 1e-9)
    if how == "floor":
        return math.floor(value + 1e-9)
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def sme_count(formula: StaffingFormula, lines: list[float]) -> int:
    """How many credit clients are SMEs by their credit line."""
    return sum(1 for line in lines if formula.sme_credit_line.holds(line))


def _shown(figure: str, value: float | None) -> Any:
    if value is None:
        return Message("not given")
    return money(value) if figure in MONEY_FIGURES else number(value)


def compute(formula: StaffingFormula, figures: Figures) -> Quota:
    """The headcount of one branch for one year, explained line by line."""
    lines: list[Line] = []
    missing: list[str] = []
    names = list(figures.unit_names)
    lines.append(Line("units", Message("Second-level units"), figures.second_level_units,
                      Message("{n} unit(s): {names}", {"n": figures.second_level_units,
                                                       "names": names}) if names else
                      Message("{n} unit(s), as entered", {"n": figures.second_level_units})))
    base = _rounded(figures.second_level_units * formula.per_unit, "ceil")
    lines.append(Line("base", Message("Base"), base, Message(
        "{n} unit(s) × {per} = {base}", {"n": figures.second_level_units,
                                          "per": number(formula.per_unit), "base": base})))
    volume: int | None = None
    if figures.first_year and formula.first_year == "units_only":
        quota = base
        lines.append(Line("quota", QUOTA, quota, Message(
            "First year of a new branch: by units only, {base}.", {"base": base})))
    else:
        if figures.asset_liability_size is None:
            missing.append("asset_liability_size")
            lines.append(Line("volume", Message("Volume"), None, Message(
                "Corporate assets and liabilities not given: the volume is not counted.")))
        else:
            ratio = figures.asset_liability_size / formula.volume_divisor
            volume = _rounded(ratio, formula.rounding)
            lines.append(Line("volume", Message("Volume"), volume, Message(
                "{size} ÷ {divisor} = {ratio}, {how}: {volume}",
                {"size": money(figures.asset_liability_size),
                 "divisor": money(formula.volume_divisor), "ratio": number(round(ratio, 2)),
                 "how": ROUNDING_LABELS[formula.rounding], "volume": volume})))
        quota = max(base, volume or 0)
        lines.append(Line("quota", QUOTA, quota, Message(
            "The larger of base ({base}) and volume ({volume}): {quota}",
            {"base": base, "volume": number(volume) if volume is not None else "—",
             "quota": quota})))
    uplift = 0
    if formula.uplift is not None and not (figures.first_year
                                           and formula.first_year == "units_only"):
        uplift = _uplift(formula, figures, lines, missing)
    total = quota + uplift
    lines.append(Line("headcount", Message("Headcount"), total, Message(
        "{quota} + {uplift} = {total}", {"quota": quota, "uplift": uplift, "total": total})))
    return Quota(total, base, volume, uplift, lines, missing)


def _uplift(formula: StaffingFormula, figures: Figures, lines: list[Line],
            missing: list[str]) -> int:
    assert formula.uplift is not None
    start = sme_count(formula, figures.sme_credit_lines_start)
    end = sme_count(formula, figures.sme_credit_lines_end)
    values: dict[str, float | None] = {
        "asset_liability_size": figures.asset_liability_size,
        "corporate_deposit_growth": figures.corporate_deposit_growth,
        "corporate_risk_asset_growth": figures.corporate_risk_asset_growth,
        "sme_credit_client_growth": (end - start) if (figures.sme_credit_lines_start
                                                      or figures.sme_credit_lines_end) else None,
    }
    if any(c.figure == "sme_credit_client_growth" for c in formula.uplift.conditions):
        lines.append(Line("sme", Message("SME credit clients"), values[
            "sme_credit_client_growth"], Message(
            "Credit line {range}: {start} at the start of the year, {end} at the end.",
            {"range": formula.sme_credit_line.words(money), "start": start, "end": end})))
    met = 0
    for condition in formula.uplift.conditions:
        value = values[condition.figure]
        if value is None:
            missing.append(condition.figure)
        holds = condition.holds(value)
        met += holds
        shown_bound = condition.words(money if condition.figure in MONEY_FIGURES else number)
        lines.append(Line(f"uplift:{condition.figure}", condition.label,
                          _shown(condition.figure, value), Message(
            "Uplift condition: {value}; needs {bound}.",
            {"value": _shown(condition.figure, value), "bound": shown_bound}), met=holds))
    add = formula.uplift.add if met >= formula.uplift.at_least else 0
    lines.append(Line("uplift", Message("Uplift"), add, Message(
        "{met} of {count} condition(s) hold; {need} needed: +{add}",
        {"met": met, "count": len(formula.uplift.conditions),
         "need": formula.uplift.at_least, "add": add})))
    return add
