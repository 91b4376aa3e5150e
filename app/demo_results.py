"""The demo bank's assessment results: every person's last four quarters and last full year.

Levels are recorded by each person's HR through the assessment service, a few days after each
quarter closes, so that the results look as a bank would have them: most people at level 2–3,
a star performer at level 1 in every quarter (eligible for chief, with the marketing flag),
one who slipped to level 5 (which opens an improvement plan, as the rules say), star-rating
figures for the customer managers, and one missed effective-client target (a promotion block).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, select

from app import clock
from app.assessments import service
from app.assessments.schemas import AnnualEntry, FlagEntry, QuarterlyEntry
from app.org.models import OrgUnit, Person

# Levels of the last four quarters, oldest first; everyone else gets one of DEFAULT_LEVELS.
LEVELS: dict[str, list[int]] = {
    "cm01": [2, 3, 3, 2], "cm02": [1, 2, 1, 2], "cm03": [3, 3, 4, 3], "cm04": [1, 1, 1, 1],
    "cm05": [3, 4, 4, 3], "cm06": [2, 2, 2, 2], "cm07": [3, 4, 4, 4], "cm08": [2, 1, 2, 2],
    "cm09": [3, 3, 3, 4], "cm10": [4, 4, 3, 4], "cm11": [3, 3, 2, 2], "tel04": [4, 4, 4, 5],
    "tel06": [4, 4, 4, 4], "tel07": [3, 3, 2, 2],
}
DEFAULT_LEVELS = ([2, 2, 2, 2], [2, 3, 2, 2], [3, 2, 2, 2], [2, 2, 3, 3], [1, 2, 2, 2])
NOTES = {("tel04", 4): "季度内多次出现差错，考核为5级。",
         ("cm04", 4): "全年四个季度均为1级。"}
# Star-rating figures of the customer managers: collection %, interest %, interest income,
# average daily deposits, average monthly loans (CNY), and liability loans.
STAR_FIGURES: dict[str, tuple[float, float, float, float, float, int]] = {
    "cm04": (100, 99.5, 1_620_000, 6_450_000, 11_200_000, 0),
    "cm02": (99.3, 98.6, 1_080_000, 5_230_000, 9_400_000, 0),
    "cm01": (98.7, 97.4, 860_000, 4_310_000, 8_150_000, 0),
    "cm06": (98.9, 97.8, 910_000, 4_520_000, 8_600_000, 0),
    "cm08": (98.2, 96.3, 640_000, 3_380_000, 7_250_000, 0),
    "cm09": (98.0, 96.1, 610_000, 3_050_000, 7_020_000, 0),
    "cm03": (97.1, 95.2, 420_000, 1_640_000, 5_100_000, 0),
    "cm10": (96.5, 94.8, 380_000, 1_250_000, 4_300_000, 0),
    "cm07": (97.5, 95.5, 450_000, 2_100_000, 5_600_000, 1),
    "cm05": (95.0, 93.0, 150_000, 1_050_000, 2_000_000, 0),
    "cm11": (95.5, 94.0, 180_000, 1_100_000, 2_400_000, 0),
}
METRICS = ("maturing_loan_collection", "interest_collection", "annual_interest_income",
           "avg_daily_deposits", "avg_monthly_loans")
MISSED_CLIENT_TARGET = {"cm10"}
MARKETING_FLAG = {"cm04": "牵头营销园区龙头企业集团客户，新增对公存款2.3亿元。"}
RECORDED_AFTER_DAYS = 9  # results are entered about nine days after a quarter closes
Progress = Callable[[], None]


def last_quarters(today: date, count: int = 4) -> list[tuple[int, int]]:
    """The `count` quarters that closed before today, oldest first, as (year, quarter)."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    closed = []
    for _ in range(count):
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
        closed.append((year, quarter))
    return closed[::-1]


def _closed_on(year: int, quarter: int) -> date:
    """The first day after a quarter."""
    return date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)


def _levels(number: str, index: int) -> list[int]:
    return LEVELS.get(number) or DEFAULT_LEVELS[index % len(DEFAULT_LEVELS)]


def _recorder(session: Session, person: Person, hr_by_branch: dict[str, Person]) -> Person:
    """The HR officer over a person's branch (head-office HR for the head office)."""
    unit = session.get(OrgUnit, person.org_unit_id)
    code = unit.code.split("-")[0] if unit else ""
    branch = code[:2] if code[:2] in hr_by_branch else "HO"
    return hr_by_branch[branch]


def seed_results(session: Session, registry: Any, people: list[Person], today: datetime,
                 hr_by_branch: dict[str, Person]) -> None:
    """Record every person's quarters and last full year as their HR would have."""
    quarters = last_quarters(today.date())
    zone = clock.zone()
    for n, (year, quarter) in enumerate(quarters):
        recorded = datetime.combine(_closed_on(year, quarter) + timedelta(RECORDED_AFTER_DAYS),
                                    time(10, 30), tzinfo=zone)
        clock.freeze(min(recorded, today - timedelta(hours=1)))
        for index, person in enumerate(people):
            level = _levels(person.employee_no, index)[n]
            note = NOTES.get((person.employee_no, n + 1), "")
            service.record_quarter(session, person=person, actor=_recorder(
                session, person, hr_by_branch), registry=registry, entry=QuarterlyEntry(
                    year=year, quarter=quarter, level=level, note=note))
    year = quarters[-1][0] if quarters[-1][1] == 4 else quarters[-1][0] - 1
    recorded = datetime.combine(date(year + 1, 1, 20), time(15, 0), tzinfo=zone)
    if recorded >= today:
        return
    clock.freeze(recorded)
    for index, person in enumerate(people):
        levels = _levels(person.employee_no, index)
        entry: dict[str, Any] = {
            "year": year, "level": round(sum(levels) / len(levels)), "targets_met": True,
            "effective_client_target_met": person.employee_no not in MISSED_CLIENT_TARGET}
        figures = STAR_FIGURES.get(person.employee_no)
        if figures:
            entry["metrics"] = dict(zip(METRICS, figures[:5], strict=True))
            entry["liability_loans"], entry["violating_loans"] = figures[5], 0
        recorder = _recorder(session, person, hr_by_branch)
        service.record_annual(session, person=person, actor=recorder, registry=registry,
                              entry=AnnualEntry(**entry))
        if person.employee_no in MARKETING_FLAG:
            service.set_flag(session, person=person, actor=recorder, registry=registry,
                             entry=FlagEntry(year=year, name="major_marketing_achievement",
                                             justification=MARKETING_FLAG[person.employee_no]))


def demo_people(session: Session, numbers: list[str]) -> list[Person]:
    """The demo people, in the order of the demo list."""
    found = {p.employee_no: p for p in session.exec(
        select(Person).where(Person.employee_no.in_(numbers)))}
    return [found[n] for n in numbers if n in found]
