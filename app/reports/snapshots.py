"""The daily overdue snapshot behind the trend chart: one job, idempotent per day.

The scheduler calls `run_overdue_snapshot(engine)` (any time of day, as often as it likes: the
last run of a day wins). Task rows keep when they opened, closed and fell due, so a missed day
can be rebuilt later with `snapshot_overdue(session, day)`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import delete, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import clock
from app.engine import calendar
from app.engine.models import Task, WorkflowInstance
from app.reports.aging import Aging, empty_buckets
from app.reports.models import OverdueSnapshot, OverdueSnapshotDay
from app.rows import claim_transaction, insert_once


def overdue_at(session: Session, at: datetime) -> list[tuple[int, datetime, int]]:
    """(case unit, due time, tasks) of every task that was open and overdue at an instant."""
    return [
        (int(unit_id), due_at, int(n))
        for unit_id, due_at, n in session.exec(
            select(WorkflowInstance.org_unit_id, Task.due_at, func.count())
            .join(WorkflowInstance, WorkflowInstance.id == Task.instance_id)
            .where(Task.created_at <= at,
                   or_(col(Task.closed_at).is_(None), col(Task.closed_at) > at),
                   col(Task.due_at).is_not(None), Task.due_at < at)
            .group_by(WorkflowInstance.org_unit_id, Task.due_at)
        )
    ]


def snapshot_overdue(session: Session, day: date, *, now: datetime | None = None) -> int:
    """Record the overdue work per unit at the end of `day` (at `now` for today); the total.

    Running it again for the same day replaces that day's rows, so re-runs, catch-ups and two
    schedulers at once all leave one correct snapshot (the day row is locked while it is made).
    """
    now = now or clock.now()
    at = min(calendar.end_of_day(day), now)
    insert_once(session, OverdueSnapshotDay, {"day": day, "total": 0, "taken_at": now},
                key="day")
    marker = session.exec(
        select(OverdueSnapshotDay).where(OverdueSnapshotDay.day == day).with_for_update()
    ).one()
    session.execute(delete(OverdueSnapshot).where(col(OverdueSnapshot.day) == day))
    aging = Aging(calendar.load(session), day)
    per_unit: dict[int, dict[str, int]] = defaultdict(empty_buckets)
    for unit_id, due_at, n in overdue_at(session, at):
        per_unit[unit_id][aging.bucket(due_at)] += n
    total = 0
    for unit_id, buckets in sorted(per_unit.items()):
        unit_total = sum(buckets.values())
        total += unit_total
        session.add(OverdueSnapshot(day=day, org_unit_id=unit_id, total=unit_total, **buckets))
    marker.total = total
    marker.taken_at = now
    session.flush()
    return total


def run_overdue_snapshot(engine: Engine, day: date | None = None) -> int:
    """The scheduler's job: snapshot today (or `day`) in its own transaction; the total."""
    with claim_transaction(engine) as session:
        return snapshot_overdue(session, day or clock.today())
