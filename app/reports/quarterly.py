"""The quarterly report of the review indicator table (DOMAIN §2a) per unit, as an .xlsx file.

A review belongs to the quarter its data cut-off date (截至) falls in. Sheet one sums each
indicator per unit (same indicator, measure and kind of balance only: 万元 and 户 never add
up); sheet two lists every row with its completion and the time-proportional check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from app.errors import ValidationFailed
from app.i18n import N_
from app.org.models import OrgUnit, Person
from app.plans import rules
from app.plans.forms import BALANCE_KINDS
from app.plans.models import ImprovementPlan, Review, ReviewIndicator
from app.reports import exports, service


@dataclass
class IndicatorRow:
    """One indicator row of one review, with whose it is."""

    unit_name: str
    unit_name_en: str
    unit_path: str
    employee_no: str
    employee_name: str
    employee_name_en: str
    plan_id: int
    cut_off_on: date
    indicator: ReviewIndicator


@dataclass
class IndicatorSum:
    """One indicator of one unit, summed over its reviews."""

    unit_name: str
    unit_name_en: str
    indicator: str
    measure: str
    balance_kind: str
    people: int = 0
    actual: float = 0.0
    plan_value: float = 0.0
    time_target: float = 0.0
    behind: int = 0

    @property
    def completion(self) -> float | None:
        """Completion of plan in percent, over the summed values."""
        return round(self.actual / self.plan_value * 100, 1) if self.plan_value else None


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter."""
    if quarter not in (1, 2, 3, 4) or not 2000 <= year <= 2100:
        raise ValidationFailed("Choose a year and a quarter (1–4).")
    first = date(year, 3 * quarter - 2, 1)
    following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, following - timedelta(days=1)


def indicator_rows(session: Session, where: service.Area, year: int, quarter: int
                   ) -> list[IndicatorRow]:
    """Every indicator row of the reviews cut off in the quarter, in the area, by unit."""
    first, last = quarter_bounds(year, quarter)
    rows = session.exec(
        select(OrgUnit.name, OrgUnit.name_en, OrgUnit.path, Person.employee_no, Person.name,
               Person.name_en, ImprovementPlan.id, Review.cut_off_on, ReviewIndicator)
        .join(Review, Review.id == ReviewIndicator.review_id)
        .join(ImprovementPlan, ImprovementPlan.id == Review.plan_id)
        .join(Person, Person.id == ImprovementPlan.employee_id)
        .join(OrgUnit, OrgUnit.id == ImprovementPlan.org_unit_id)
        .where(Review.cut_off_on >= first, Review.cut_off_on <= last,
               service.in_units(ImprovementPlan.org_unit_id, where))
        .order_by(OrgUnit.path, Person.employee_no, ImprovementPlan.id,
                  ReviewIndicator.position, ReviewIndicator.id)
    )
    return [IndicatorRow(*row) for row in rows]


def summarise(rows: list[IndicatorRow]) -> list[IndicatorSum]:
    """Per unit and indicator (same measure and kind of balance), in unit order."""
    sums: dict[tuple[str, str, str, str], IndicatorSum] = {}
    plans: dict[tuple[str, str, str, str], set[int]] = {}
    for row in rows:
        ind = row.indicator
        key = (row.unit_path, ind.indicator, ind.unit, ind.balance_kind)
        line = sums.setdefault(key, IndicatorSum(row.unit_name, row.unit_name_en, ind.indicator,
                                                 ind.unit, ind.balance_kind))
        plans.setdefault(key, set()).add(row.plan_id)
        line.people = len(plans[key])
        line.actual += ind.actual or 0.0
        line.plan_value += ind.plan_value or 0.0
        line.time_target += ind.time_proportional_target or 0.0
        line.behind += bool(rules.behind_time_target(ind))
    return [sums[k] for k in sorted(sums)]


SUMMARY_HEADER = (N_("Unit"), N_("Indicator"), N_("Measure"), N_("Kind of balance"),
                  N_("People"), N_("Actual"), N_("Plan value"), N_("Completion %"),
                  N_("Time-proportional target"), N_("Behind the time-proportional target"))
DETAIL_HEADER = (N_("Unit"), N_("Employee no."), N_("Employee"), N_("Plan"),
                 N_("Data cut-off date"), N_("Indicator"), N_("Measure"), N_("Kind of balance"),
                 N_("Actual"), N_("Change since year start"), N_("Plan value"),
                 N_("Completion %"), N_("Time-proportional target"),
                 N_("Behind the time-proportional target"))


def quarterly_xlsx(rows: list[IndicatorRow], locale: str, gettext: Callable[[str], str]
                   ) -> bytes:
    """The workbook: a summary sheet per unit and indicator, and every row in detail."""
    zh = locale == "zh_CN"

    def name(zh_name: str, en_name: str) -> str:
        return zh_name if zh or not en_name else en_name

    def kind(key: str) -> str:
        return gettext(BALANCE_KINDS[key]) if key in BALANCE_KINDS else key

    def behind(flag: bool | None) -> str:
        return "" if flag is None else gettext("Behind") if flag else gettext("On track")

    workbook = exports.new_workbook()
    exports.write_sheet(
        workbook, gettext("Summary"), [gettext(h) for h in SUMMARY_HEADER],
        ([name(s.unit_name, s.unit_name_en), s.indicator, s.measure, kind(s.balance_kind),
          s.people, s.actual, s.plan_value, s.completion, s.time_target, s.behind]
         for s in summarise(rows)),
        widths=[18, 20, 8, 10, 8, 12, 12, 10, 14, 14])
    exports.write_sheet(
        workbook, gettext("Detail"), [gettext(h) for h in DETAIL_HEADER],
        ([name(r.unit_name, r.unit_name_en), r.employee_no,
          name(r.employee_name, r.employee_name_en), r.plan_id, r.cut_off_on,
          r.indicator.indicator, r.indicator.unit, kind(r.indicator.balance_kind),
          r.indicator.actual, r.indicator.change_since_year_start, r.indicator.plan_value,
          rules.completion(r.indicator), r.indicator.time_proportional_target,
          behind(rules.behind_time_target(r.indicator))]
         for r in rows),
        widths=[18, 12, 12, 8, 12, 20, 8, 10, 12, 12, 12, 10, 14, 14])
    return exports.workbook_bytes(workbook)
