"""Working days on the Chinese calendar: official holidays and make-up days (调休), HR's word last.

The `holidays` package knows each year's State Council notice (days off and the weekend days
worked instead) once it is published; a year it does not know falls back to weekends only.
HR corrections (table `calendar_day`) override both, date by date.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as day_time
from functools import cache, lru_cache
from typing import Any

import holidays
from sqlalchemy import event, select
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session

from app import clock
from app.calendar.models import CalendarDay
from app.engine import runtime
from app.engine.models import WorkflowInstance
from app.engine.registry import CompiledWorkflow

OFFICIAL_FROM = 2001  # the package checks China against the official notices from 2001 on
SEARCH_LIMIT = 3660  # days; a calendar with no working day in ten years is a data error
END_OF_DAY = day_time(23, 59, 59)


class Source:
    """Where a day's status comes from."""

    hr = "hr"
    official = "official"
    weekend_fallback = "weekends_only"


@lru_cache(maxsize=1)
def official_years() -> frozenset[int]:
    """Years whose official arrangement (holidays and make-up days) the package holds."""
    try:
        from holidays.countries.china import ChinaStaticHolidays
    except ImportError:  # pragma: no cover - a package layout change degrades to weekends
        return frozenset()
    specials = getattr(ChinaStaticHolidays, "special_public_holidays", None) or {}
    if not specials:
        return frozenset()
    return frozenset(range(OFFICIAL_FROM, max(specials) + 1))


@lru_cache(maxsize=64)
def official_year(year: int) -> tuple[frozenset[date], frozenset[date]] | None:
    """(days off, weekend days worked) of a year with a published notice, else None."""
    if year not in official_years():
        return None
    china = holidays.China(years=year)
    days_off = frozenset(d for d in china if d.year == year)
    make_up = frozenset(d for d in china.weekend_workdays if d.year == year)
    return days_off, make_up


def official_is_working_day(day: date) -> tuple[bool, str]:
    """The official status of a day and its source, before HR corrections."""
    year = official_year(day.year)
    if year is None:
        return day.weekday() < 5, Source.weekend_fallback
    days_off, make_up = year
    if day in make_up:
        return True, Source.official
    return day.weekday() < 5 and day not in days_off, Source.official


@lru_cache(maxsize=64)
def _holiday_names(year: int, language: str) -> dict[date, str]:
    return dict(holidays.China(years=year, language=language).items())


def holiday_name(day: date, locale: str = "zh_CN") -> str:
    """The official name of a public holiday in the reader's language, or ''."""
    if official_year(day.year) is None:
        return ""
    return _holiday_names(day.year, "zh_CN" if locale.startswith("zh") else "en_US").get(day, "")


@dataclass(frozen=True)
class WorkingCalendar:
    """The official calendar with HR's corrections applied; pure and cheap to query."""

    corrections: Mapping[date, bool] = field(default_factory=dict)

    def source(self, day: date) -> str:
        """Who decides this day: HR, the official notice, or the weekends-only fallback."""
        if day in self.corrections:
            return Source.hr
        return official_is_working_day(day)[1]

    def is_working_day(self, day: date) -> bool:
        """Whether people work on this day."""
        corrected = self.corrections.get(day)
        if corrected is not None:
            return corrected
        return official_is_working_day(day)[0]

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after start (before it when n < 0); n = 0: start or the next
        working day."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        day = start
        if remaining == 0:
            return self._search(day, 1, include_start=True)
        for _ in range(remaining):
            day = self._search(day, step, include_start=False)
        return day

    def last_working_day_on_or_before(self, day: date) -> date:
        """The day itself if worked, else the working day before it."""
        return self._search(day, -1, include_start=True)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b (negative when b is before a)."""
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a + timedelta(days=1)
        while day <= b:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count

    def _search(self, day: date, step: int, *, include_start: bool) -> date:
        if include_start and self.is_working_day(day):
            return day
        for _ in range(SEARCH_LIMIT):
            day += timedelta(days=step)
            if self.is_working_day(day):
                return day
        raise ValueError(f"no working day within {SEARCH_LIMIT} days of {day}")


_CACHE_KEY = "stepwise.working_calendar"  # the calendar one transaction uses
_WROTE_KEY = "stepwise.calendar_written"  # this session wrote corrections not yet committed

# HR corrections change a few times a year while every action reads them, so each process
# keeps the calendar it read per database and reads it again once it is older than this: a
# correction committed by another worker is seen everywhere within this many seconds, and at
# once by the process that made it (its commit drops the copy).
share_seconds: float = 10.0
_shared: dict[str, tuple[float, WorkingCalendar]] = {}
_commits = [0]  # corrections committed in this process: a read older than one is not shared


def share_for(seconds: float) -> None:
    """How long a process may use the calendar it read before reading it again (0: never)."""
    global share_seconds
    share_seconds = max(0.0, float(seconds))
    _shared.clear()


def forget_shared() -> None:
    """Drop every process-wide copy (corrections were changed outside the ORM, e.g. a wipe)."""
    _shared.clear()


def _database_key(session: Any) -> str:
    return str(session.get_bind().engine.url)


def _corrections_pending(session: Any) -> bool:
    return any(isinstance(obj, CalendarDay)
               for obj in (*session.new, *session.dirty, *session.deleted))


def _forget_calendar(session: Any, _flush_context: Any, _instances: Any) -> None:
    """A flush that writes HR corrections makes the transaction's cached calendar stale."""
    if _corrections_pending(session):
        session.info.pop(_CACHE_KEY, None)
        session.info[_WROTE_KEY] = True


def _forget_on_rollback(session: Any, _previous_transaction: Any) -> None:
    """A rollback (a savepoint's too) may undo corrections the cached calendar holds."""
    session.info.pop(_CACHE_KEY, None)


def _share_committed(session: Any) -> None:
    """Committed corrections: this process's copy of the calendar is stale from now on."""
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    if session.info.pop(_WROTE_KEY, False):
        _commits[0] += 1
        try:
            _shared.pop(_database_key(session), None)
        except Exception:  # noqa: BLE001 - a session without one bind: forget every copy
            _shared.clear()


def _forget_written(session: Any) -> None:
    """A rolled-back transaction's corrections never reached the database."""
    if not session.in_nested_transaction():  # a savepoint's: the outer one may still commit
        session.info.pop(_WROTE_KEY, None)


event.listen(SASession, "before_flush", _forget_calendar)
event.listen(SASession, "after_soft_rollback", _forget_on_rollback)
event.listen(SASession, "after_commit", _share_committed)
event.listen(SASession, "after_rollback", _forget_written)


def load(session: Session) -> WorkingCalendar:
    """The calendar with every HR correction (a small table: only corrected dates).

    One transaction sees one calendar however often an action asks (due dates, timers). It
    is the process's shared copy while that is younger than `share_seconds`; a session that
    wrote corrections reads its own.
    """
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE_KEY)
    if (cached is not None and transaction is not None and cached[0] is transaction
            and not _corrections_pending(session)):
        return cached[1]
    if _corrections_pending(session):
        session.flush()  # the Core read below does not autoflush
    own = session.info.get(_WROTE_KEY, False)
    key = _database_key(session)
    shared = _shared.get(key)
    # Monotonic, not clock.now(): this is the copy's age, and tests travel the app's clock.
    if not own and shared is not None and time.monotonic() - shared[0] < share_seconds:
        cal = shared[1]
    else:
        read_at, commits = time.monotonic(), _commits[0]
        rows = session.connection().execute(_corrections())
        cal = WorkingCalendar({day: bool(working) for day, working in rows})
        # a thread that committed a correction meanwhile may have read before it: not shared
        if not own and share_seconds > 0 and commits == _commits[0]:
            _shared[key] = (read_at, cal)
    transaction = session.get_transaction()
    if transaction is not None:
        session.info[_CACHE_KEY] = (transaction, cal)
    return cal


@cache
def _corrections() -> Any:
    """Every HR correction (Core, built once: read on every action that opens a task)."""
    table = CalendarDay.__table__  # type: ignore[attr-defined]
    return select(table.c.date, table.c.is_working_day)


def is_working_day(session: Session, day: date) -> bool:
    """Whether people work on this day (HR corrections included)."""
    return load(session).is_working_day(day)


def add_working_days(session: Session, start: date, n: int) -> date:
    """The n-th working day after start (HR corrections included)."""
    return load(session).add_working_days(start, n)


def working_days_between(session: Session, a: date, b: date) -> int:
    """Working days in (a, b] (HR corrections included)."""
    return load(session).working_days_between(a, b)


def start_of_day(day: date) -> datetime:
    """Midnight at the start of a day in the organisation's timezone."""
    return datetime.combine(day, day_time(0, 0), tzinfo=clock.zone())


def end_of_day(day: date) -> datetime:
    """The last second of a day in the organisation's timezone (a deadline's instant)."""
    return datetime.combine(day, END_OF_DAY, tzinfo=clock.zone())


def local_date(at: datetime) -> date:
    """The date of an instant in the organisation's timezone."""
    return at.astimezone(clock.zone()).date()


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return local_date(value) if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def due_date_from_field(instance: WorkflowInstance, field_name: str) -> date | None:
    """A date the instance carries in its context (set at start, or by an action's form)."""
    context = instance.context or {}
    return _as_date(context.get(field_name)) or _as_date(context.get(f"last_{field_name}"))


def compute_due(
    session: Session, compiled: CompiledWorkflow, instance: WorkflowInstance
) -> datetime | None:
    """The engine's due calculator: end of the N-th working day from today, or the field's day."""
    policy = compiled.spec.states[instance.state].deadline
    if policy is None:
        return None
    if policy.due_in_working_days is not None:
        day = load(session).add_working_days(clock.today(), policy.due_in_working_days)
        return end_of_day(day)
    assert policy.due_on_field is not None
    day = due_date_from_field(instance, policy.due_on_field)
    return end_of_day(day) if day else None


def install_due_calculator() -> None:
    """Make the engine set Task.due_at through this calendar (idempotent)."""
    if compute_due not in runtime.due_calculator:
        runtime.due_calculator.insert(0, compute_due)


def uninstall_due_calculator() -> None:
    """Remove the calculator again (tests)."""
    while compute_due in runtime.due_calculator:
        runtime.due_calculator.remove(compute_due)
