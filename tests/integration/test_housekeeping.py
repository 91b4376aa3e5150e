"""Housekeeping: the overdue trend gets its daily rows, and appointed grades come into force."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from app import clock
from app.housekeeping import run_housekeeping
from app.reports.models import OverdueSnapshotDay
from tests.factories import bank


def test_housekeeping_snapshots_yesterday_and_today_once(db, engine) -> None:
    bank(db)
    db.commit()
    clock.freeze(datetime(2026, 11, 24, 9, 0))
    run_housekeeping(engine)
    run_housekeeping(engine)  # idempotent: a second scheduler changes nothing
    days = db.exec(select(OverdueSnapshotDay.day).order_by(OverdueSnapshotDay.day)).all()
    assert [d.isoformat() for d in days] == ["2026-11-23", "2026-11-24"]
