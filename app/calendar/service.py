"""HR's calendar work: view a month, correct a day, import a year's notice from CSV."""

from __future__ import annotations

import calendar as month_grid
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from app.calendar.models import CalendarDay
from app.engine import calendar
from app.engine.calendar import Source
from app.errors import ImportFailed, NotAllowed, ValidationFailed
from app.i18n import Message
from app.org.importer import ImportReport, read_csv
from app.org.importer import Source as CsvSource
from app.org.models import Person, RoleAssignment
from app.reminders.service import replan_after_calendar_change

COLUMNS_REQUIRED = ("date", "is_working_day")
COLUMNS_OPTIONAL = ("note",)
TRUE_WORDS = {"1", "true", "yes", "y", "working", "work", "是", "上班", "工作日"}
FALSE_WORDS = {"0", "false", "no", "n", "off", "holiday", "否", "休息", "放假", "休"}
NOTE_LIMIT = 200


class CalendarImportFailed(ImportFailed):
    """A calendar CSV had bad rows; each problem is a translatable message."""

    def __init__(self, message: str, problems: list[tuple[int, Message]], **params: object
                 ) -> None:
        super().__init__(message, [(line, msg.render()) for line, msg in problems], **params)
        self.problems = problems


def can_manage(session: Session, person: Person) -> bool:
    """HR (at any unit) and administrators keep the calendar."""
    if person.is_admin:
        return True
    return session.exec(select(RoleAssignment.id).where(
        RoleAssignment.person_id == person.id, RoleAssignment.kind == "role",
        RoleAssignment.name == "hr")).first() is not None


def require_manager(session: Session, person: Person) -> None:
    """Refuse anyone who may not change the calendar."""
    if not can_manage(session, person):
        raise NotAllowed("Only HR and administrators may change the working-day calendar.")


@dataclass(frozen=True)
class DayView:
    """One day of the month page."""

    date: date
    is_working_day: bool
    source: str
    official_working: bool
    holiday: str
    note: str
    updated_by: str


def month(session: Session, year: int, month_no: int, locale: str = "zh_CN") -> list[list[
        DayView | None]]:
    """The weeks of a month (Monday first), None for the padding days of other months."""
    cal = calendar.load(session)
    first, last = date(year, month_no, 1), date(year, month_no,
                                                month_grid.monthrange(year, month_no)[1])
    rows = {r.date: r for r in session.exec(select(CalendarDay).where(
        CalendarDay.date >= first, CalendarDay.date <= last))}
    people = {p.id: p for p in session.exec(select(Person).where(
        Person.id.in_({r.updated_by_id for r in rows.values() if r.updated_by_id})))}
    weeks = []
    for week in month_grid.Calendar(firstweekday=0).monthdatescalendar(year, month_no):
        line: list[DayView | None] = []
        for day in week:
            if day.month != month_no:
                line.append(None)
                continue
            row = rows.get(day)
            who = people.get(row.updated_by_id) if row and row.updated_by_id else None
            line.append(DayView(
                date=day,
                is_working_day=cal.is_working_day(day),
                source=cal.source(day),
                official_working=calendar.official_is_working_day(day)[0],
                holiday=calendar.holiday_name(day, locale),
                note=row.note if row else "",
                updated_by=(who.name if who else ""),
            ))
        weeks.append(line)
    return weeks


def year_is_official(year: int) -> bool:
    """Whether the package holds the year's official notice (else weekends only until HR loads
    it)."""
    return calendar.official_is_working_day(date(year, 6, 1))[1] == Source.official


def corrected_days(session: Session, year: int) -> int:
    """How many days of a year HR has corrected (loaded from the notice, or one by one)."""
    return len(session.exec(select(CalendarDay.id).where(
        CalendarDay.date >= date(year, 1, 1), CalendarDay.date <= date(year, 12, 31))).all())


def year_standing(session: Session, year: int) -> tuple[str, int]:
    """Who decides a year's days, and how many HR corrected: the official notice, HR's
    arrangement (a year the package does not know yet, loaded or corrected by HR), or weekends
    only (nobody has said anything about the year yet)."""
    corrected = corrected_days(session, year)
    if year_is_official(year):
        return Source.official, corrected
    return (Source.hr, corrected) if corrected else (Source.weekend_fallback, 0)


def _upsert(session: Session, day: date, working: bool, note: str, by: Person | None,
            now: datetime, existing: dict[date, CalendarDay] | None = None) -> str:
    if existing is not None:
        row = existing.get(day)
    else:
        row = session.exec(select(CalendarDay).where(CalendarDay.date == day)).first()
    if row is None:
        session.add(CalendarDay(date=day, is_working_day=working, note=note,
                                updated_by_id=by.id if by else None, updated_at=now))
        return "created"
    if row.is_working_day == working and row.note == note:
        return "unchanged"
    row.is_working_day, row.note = working, note
    row.updated_by_id = by.id if by else None
    row.updated_at = now
    return "updated"


def correct_day(session: Session, *, by: Person, day: date, is_working_day: bool, note: str,
                now: datetime) -> str:
    """Declare one date a working day or a day off; open deadlines move with it."""
    require_manager(session, by)
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            "note": Message("At most {n} characters.", {"n": NOTE_LIMIT})})
    outcome = _upsert(session, day, is_working_day, note, by, now)
    session.flush()
    if outcome != "unchanged":
        replan_after_calendar_change(session)
    return outcome


def clear_day(session: Session, *, by: Person, day: date) -> bool:
    """Drop HR's correction of a date: the official calendar applies again."""
    require_manager(session, by)
    row = session.exec(select(CalendarDay).where(CalendarDay.date == day)).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    replan_after_calendar_change(session)
    return True


def _parse_flag(text: str) -> bool | None:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def import_csv(session: Session, source: CsvSource, *, by: Person | None, now: datetime
               ) -> ImportReport:
    """Load corrections from CSV (date,is_working_day[,note]): every row is checked first and
    one bad row imports nothing; importing the same file again changes nothing."""
    if by is not None:
        require_manager(session, by)
    table = read_csv(source)
    missing = [c for c in COLUMNS_REQUIRED if c not in table.columns]
    unknown = [c for c in table.columns if c not in COLUMNS_REQUIRED + COLUMNS_OPTIONAL]
    if missing or unknown:
        raise CalendarImportFailed(
            "The header row must be: {expected}.",
            [(1, Message("The header row must be: {expected}.",
                         {"expected": ", ".join(COLUMNS_REQUIRED + COLUMNS_OPTIONAL)}))],
            expected=", ".join(COLUMNS_REQUIRED + COLUMNS_OPTIONAL),
        )
    problems: list[tuple[int, Message]] = []
    parsed: dict[date, tuple[bool, str]] = {}
    first_line: dict[date, int] = {}
    for line, values in table.rows:
        try:
            day = date.fromisoformat(values.get("date", ""))
        except ValueError:
            problems.append((line, Message("'{value}' is not a date (YYYY-MM-DD).",
                                           {"value": values.get("date", "")})))
            continue
        flag = _parse_flag(values.get("is_working_day", ""))
        note = values.get("note", "")
        if flag is None:
            problems.append((line, Message(
                "'{value}' is not a working-day flag (use 1 or 0).",
                {"value": values.get("is_working_day", "")})))
        if len(note) > NOTE_LIMIT:
            problems.append((line, Message("The note is longer than {n} characters.",
                                           {"n": NOTE_LIMIT})))
        if day in first_line:
            problems.append((line, Message("{date} already appears on line {line}.",
                                           {"date": day.isoformat(), "line": first_line[day]})))
        first_line.setdefault(day, line)
        if flag is not None:
            parsed[day] = (flag, note)
    if problems:
        problems.sort(key=lambda item: item[0])
        raise CalendarImportFailed(
            "{count} of {total} calendar rows were rejected; nothing was imported.",
            problems, count=len({line for line, _ in problems}), total=len(table.rows),
        )
    report = ImportReport("calendar", total=len(parsed))
    existing = {row.date: row for row in session.exec(select(CalendarDay).where(
        CalendarDay.date >= min(parsed, default=date.min),
        CalendarDay.date <= max(parsed, default=date.max)))}
    for day, (flag, note) in sorted(parsed.items()):
        outcome = _upsert(session, day, flag, note, by, now, existing)
        setattr(report, outcome, getattr(report, outcome) + 1)
    session.flush()
    if report.created or report.updated:
        replan_after_calendar_change(session)
    return report
