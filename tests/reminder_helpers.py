"""Shared pieces of the reminder, calendar, email and action-link tests."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import clock
from app.calendar import service as calendar_service
from app.config import Settings
from app.engine.registry import Registry
from app.reminders.sweep import SweepReport, sweep

CHECKPOINT_WORKFLOWS = Path(__file__).resolve().parent / "data" / "reminder_workflows"


# The 2027 notice is not in the holidays package yet; HR loads it, exactly as in production.
# Assumed arrangement: Spring Festival Fri 5 Feb – Sat 13 Feb off, make-up Sun 31 Jan and
# Sat 20 Feb; New Year's Day Fri 1 Jan; Qingming Mon 5 Apr.
DAYS_OFF_2027 = {date(2027, 1, 1), date(2027, 4, 5)} | {date(2027, 2, d) for d in range(5, 14)}
MAKE_UP_2027 = {date(2027, 1, 31), date(2027, 2, 20)}


def notice_2027_csv(first: date = date(2027, 1, 1), last: date = date(2027, 4, 30)) -> str:
    """Every date of the period with its status, as HR would export it from the notice."""
    lines = ["date,is_working_day,note"]
    day = first
    while day <= last:
        working = (day.weekday() < 5 and day not in DAYS_OFF_2027) or day in MAKE_UP_2027
        note = "调休上班" if day in MAKE_UP_2027 else ("节假日" if day in DAYS_OFF_2027 else "")
        lines.append(f"{day.isoformat()},{1 if working else 0},{note}")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def load_2027(db: Session, hr: Any) -> None:
    """HR imports the 2027 notice."""
    calendar_service.import_csv(db, io.StringIO(notice_2027_csv()), by=hr, now=clock.now())
    db.commit()


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """Freeze the clock at a local time of a day and return that instant."""
    clock.freeze(datetime.combine(day, time(hour, minute)))
    return clock.now()


def run_days(engine: Engine, registry: Registry, settings: Settings, first: date, last: date,
             hour: int = 10) -> list[SweepReport]:
    """One sweep a day at the same local hour, the clock travelling with it."""
    reports = []
    day = first
    while day <= last:
        reports.append(sweep(engine, at(day, hour), settings=settings, registry=registry))
        day += timedelta(days=1)
    return reports
