"""Periodic upkeep beside the reminder sweep: the overdue trend snapshot and due grade changes."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from app import clock
from app.promotions.grades import apply_due_grades
from app.reports.models import OverdueSnapshotDay
from app.reports.snapshots import run_overdue_snapshot
from app.rows import claim_transaction

log = logging.getLogger("stepwise.scheduler")


def run_housekeeping(engine: Engine) -> None:
    """Snapshot yesterday if it was missed and today as it stands; apply grades now in force.

    Each part is idempotent, so several schedulers may run it at once.
    """
    today = clock.today()
    with claim_transaction(engine) as session:
        yesterday_taken = session.exec(select(OverdueSnapshotDay.day).where(
            OverdueSnapshotDay.day == today - timedelta(days=1))).first()
    if yesterday_taken is None:
        run_overdue_snapshot(engine, today - timedelta(days=1))
    run_overdue_snapshot(engine, today)
    with claim_transaction(engine) as session:
        applied = apply_due_grades(session, on=today)
    if applied:
        log.info("housekeeping: %s grade changes took effect", applied)
