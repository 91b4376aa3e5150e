"""CSV import of quarterly levels and annual results: every row checked, then all or nothing.

Rows are upserted by employee number and period, so importing the same file twice changes
nothing. A blank cell (or a column left out) keeps the stored value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from app.assessments import service
from app.assessments.rules import rule_book
from app.assessments.schemas import AnnualEntry, QuarterlyEntry
from app.errors import DomainError, ImportFailed
from app.org.importer import OVERFLOW, CsvTable, Source, read_csv
from app.org.models import Person

QUARTERLY_REQUIRED = ("employee_no", "year", "quarter", "level")
QUARTERLY_OPTIONAL = ("note",)
ANNUAL_REQUIRED = ("employee_no", "year")
ANNUAL_FIXED = ("level", "targets_met", "effective_client_target_met", "liability_loans",
                "violating_loans")
TRUE = {"1", "true", "yes", "y", "是", "达标", "完成"}
FALSE = {"0", "false", "no", "n", "否", "未达标", "未完成"}


@dataclass
class AssessmentImportReport:
    """What an assessment import did."""

    what: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    plans_opened: int = 0


def _header(table: CsvTable, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in table.columns]
    unknown = [c for c in table.columns if c not in required + optional]
    doubled = sorted({c for c in table.columns if table.columns.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(repr(c) for c in unknown)}")
    if doubled:
        problems.append(f"repeated column(s): {', '.join(doubled)}")
    if problems:
        raise ImportFailed(
            "The header row is wrong ({problems}). Expected columns: {expected}.",
            rejected=[(1, "; ".join(problems))], problems="; ".join(problems),
            expected=", ".join(required + optional),
        )


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(f"'{text}' is not yes/no (use true/false, yes/no, 1/0 or 是/否)")


def _pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item["loc"])
        problems.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return problems


def _people(session: Session, table: CsvTable) -> dict[str, Person]:
    numbers = {values.get("employee_no", "") for _, values in table.rows}
    rows = session.exec(select(Person).where(Person.employee_no.in_(numbers))).all()
    return {p.employee_no: p for p in rows}


def _fail(what: str, total: int, rejected: list[tuple[int, str]]) -> ImportFailed:
    rejected.sort(key=lambda item: item[0])
    return ImportFailed(
        "{count} of {total} {what} rows were rejected; nothing was imported.",
        rejected=rejected, count=len({line for line, _ in rejected}), total=total, what=what,
    )


def _row_person(values: dict[str, str], people: dict[str, Person], session: Session,
                actor: Person | None) -> tuple[Person | None, list[str]]:
    if OVERFLOW in values:
        return None, ["more values than the header has columns (quote values with commas)"]
    number = values.get("employee_no", "")
    if not number:
        return None, ["missing employee_no"]
    person = people.get(number)
    # One answer for "no such person" and "not yours": an import must not reveal who exists.
    if person is None or not service.may_record(session, actor, person):
        return None, [f"no one with employee number '{number}' whose results you may record"]
    return person, []


def import_quarterly(session: Session, source: Source | CsvTable, *, actor: Person | None,
                     registry: Any = None) -> AssessmentImportReport:
    """Upsert quarterly levels (employee_no, year, quarter, level[, note]); all or nothing."""
    table = source if isinstance(source, CsvTable) else read_csv(source)
    _header(table, QUARTERLY_REQUIRED, QUARTERLY_OPTIONAL)
    people = _people(session, table)
    rejected: list[tuple[int, str]] = []
    good: list[tuple[Person, QuarterlyEntry]] = []
    first_line: dict[tuple[str, str, str], int] = {}
    for line, values in table.rows:
        person, problems = _row_person(values, people, session, actor)
        key = (values.get("employee_no", ""), values.get("year", ""), values.get("quarter", ""))
        if key in first_line:
            problems.append(f"the same person and quarter appear again "
                            f"(first on line {first_line[key]})")
        else:
            first_line[key] = line
        entry = None
        try:
            entry = QuarterlyEntry(year=values.get("year") or None,
                                   quarter=values.get("quarter") or None,
                                   level=values.get("level") or None,
                                   note=values.get("note", ""))
        except ValidationError as exc:
            problems += _pydantic_problems(exc)
        if problems:
            rejected += [(line, p) for p in problems]
        elif person is not None and entry is not None:
            good.append((person, entry))
    if rejected:
        raise _fail("quarterly", len(table.rows), rejected)
    report = AssessmentImportReport("quarterly levels", total=len(good))
    for person, entry in good:
        done = service.record_quarter(session, person=person, entry=entry, actor=actor,
                                      registry=registry)
        _count(report, done)
    return report


def _count(report: AssessmentImportReport, done: service.Recorded) -> None:
    setattr(report, done.status, getattr(report, done.status) + 1)
    report.plans_opened += len(done.plans)


def _annual_entry(values: dict[str, str], metrics: set[str]) -> tuple[AnnualEntry | None,
                                                                        list[str]]:
    problems: list[str] = []
    data: dict[str, Any] = {"year": values.get("year") or None, "metrics": {}}
    for name in ANNUAL_FIXED:
        text = values.get(name, "")
        if not text:
            continue
        if name in ("targets_met", "effective_client_target_met"):
            try:
                data[name] = _bool(text)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        else:
            data[name] = text
    for name in metrics:
        text = values.get(name, "").replace(",", "")
        if not text:
            continue
        try:
            number = float(text.rstrip("%"))
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            data["metrics"][name] = number
        else:  # 'nan', 'inf' and '1e999' parse, but are no measure of anything
            problems.append(f"{name}: '{values[name]}' is not a number")
    try:
        entry = AnnualEntry(**data)
    except ValidationError as exc:
        return None, problems + _pydantic_problems(exc)
    return (None if problems else entry), problems


def import_annual(session: Session, source: Source | CsvTable, *, actor: Person | None,
                  registry: Any = None) -> AssessmentImportReport:
    """Upsert annual results (employee_no, year, level, targets…, star metrics); all or nothing."""
    table = source if isinstance(source, CsvTable) else read_csv(source)
    metrics = set(rule_book(registry).stars.metrics)
    _header(table, ANNUAL_REQUIRED, ANNUAL_FIXED + tuple(sorted(metrics)))
    people = _people(session, table)
    rejected: list[tuple[int, str]] = []
    good: list[tuple[Person, AnnualEntry]] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, values in table.rows:
        person, problems = _row_person(values, people, session, actor)
        key = (values.get("employee_no", ""), values.get("year", ""))
        if key in first_line:
            problems.append(f"the same person and year appear again "
                            f"(first on line {first_line[key]})")
        else:
            first_line[key] = line
        entry, entry_problems = _annual_entry(values, metrics & set(table.columns))
        problems += entry_problems
        if problems:
            rejected += [(line, p) for p in problems]
        elif person is not None and entry is not None:
            good.append((person, entry))
    if rejected:
        raise _fail("annual", len(table.rows), rejected)
    report = AssessmentImportReport("annual results", total=len(good))
    for person, entry in good:
        try:
            done = service.record_annual(session, person=person, entry=entry, actor=actor,
                                         registry=registry)
        except DomainError as exc:  # a rule refused it after all: still all or nothing
            raise _fail("annual", len(table.rows), [(0, str(exc))]) from exc
        _count(report, done)
    return report
