"""Timers of open tasks: one pending row per task, the next rung of its state's deadline
policy's ladder; deleted when the task closes."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, exists
from sqlmodel import Session, select

from app.engine import calendar
from app.engine.calendar import WorkingCalendar, end_of_day, local_date, start_of_day
from app.engine.definitions import DeadlinePolicy
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import CompiledWorkflow, Registry
from app.engine.runtime import get_registry
from app.reminders.models import ReminderTimer, TimerKind, TimerStatus, timer_key
from app.reminders.plan import PlannedTimer, next_rung, on_due_day
from app.rows import insert_many_once, insert_once


def task_policy(session: Session, task: Task, registry: Registry | None = None
                ) -> DeadlinePolicy | None:
    """The deadline policy of the state a task belongs to."""
    instance = session.get(WorkflowInstance, task.instance_id)
    if instance is None:
        return None
    compiled = (registry or get_registry()).compiled(session, instance.definition_id)
    state = compiled.spec.states.get(task.state)
    return state.deadline if state else None


def add_timer(session: Session, task: Task, kind: str, level: int, due_at: datetime,
              now: datetime, status: str = TimerStatus.pending) -> int | None:
    """Create one timer unless it exists (its key is per task, kind and level)."""
    assert task.id is not None
    return insert_once(
        session,
        ReminderTimer,
        {
            "key": timer_key(task.id, kind, level),
            "task_id": task.id,
            "instance_id": task.instance_id,
            "kind": kind,
            "level": level,
            "due_at": due_at,
            "status": status,
            "created_at": now,
        },
    )


def rung_row(task: Task, rung: PlannedTimer, now: datetime,
             status: str = TimerStatus.pending) -> dict[str, Any]:
    """The timer row of one rung of a task's ladder."""
    assert task.id is not None
    return {
        "key": timer_key(task.id, rung.kind, rung.level),
        "task_id": task.id,
        "instance_id": task.instance_id,
        "kind": rung.kind,
        "level": rung.level,
        "due_at": start_of_day(rung.day),
        "status": status,
        "created_at": now,
    }


def timer_rows(task: Task, policy: DeadlinePolicy, cal: WorkingCalendar,
               now: datetime) -> list[dict[str, Any]]:
    """The one timer row a new task gets: the first rung of its ladder (firing arms the next);
    a policy that wants nothing gets an `off` row, so the task counts as scheduled."""
    assert task.due_at is not None
    due_day = local_date(task.due_at)
    first = next_rung(cal, policy, due_day)
    if first is None:
        return [rung_row(task, PlannedTimer(TimerKind.on_due, 0, on_due_day(cal, due_day)),
                         now, TimerStatus.off)]
    return [rung_row(task, first, now)]


def schedule_task(session: Session, task: Task, policy: DeadlinePolicy, cal: WorkingCalendar,
                  now: datetime) -> int:
    """Arm a task's first timer (kept if it exists)."""
    return insert_many_once(session, ReminderTimer, timer_rows(task, policy, cal, now))


def schedule_tasks(session: Session, tasks: list[Task], compiled: CompiledWorkflow,
                   now: datetime) -> int:
    """Timers for tasks just opened on one workflow, all in one statement."""
    rows: list[dict[str, Any]] = []
    cal: WorkingCalendar | None = None
    for task in tasks:
        state = compiled.spec.states.get(task.state)
        if task.due_at is None or state is None or state.deadline is None:
            continue
        cal = cal or calendar.load(session)
        rows += timer_rows(task, state.deadline, cal, now)
    return insert_many_once(session, ReminderTimer, rows)


def _unscheduled(session: Session, limit: int, instance_id: int | None = None) -> list[Task]:
    has_timer = exists().where(ReminderTimer.task_id == Task.id)
    query = select(Task).where(Task.status == TaskStatus.open, Task.due_at.is_not(None),
                               ~has_timer)
    if instance_id is not None:
        query = query.where(Task.instance_id == instance_id)
    return list(session.exec(query.order_by(Task.id).limit(limit)))


def schedule_open_tasks(session: Session, now: datetime, *, limit: int = 500,
                        instance_id: int | None = None, registry: Registry | None = None,
                        compiled: CompiledWorkflow | None = None) -> int:
    """Give every open task with a due time its timers (tasks opened by any path)."""
    tasks = _unscheduled(session, limit, instance_id)
    if not tasks:
        return 0
    if compiled is not None:
        return schedule_tasks(session, tasks, compiled, now)
    cal = calendar.load(session)
    rows: list[dict[str, Any]] = []
    for task in tasks:
        policy = task_policy(session, task, registry)
        if policy is not None:
            rows += timer_rows(task, policy, cal, now)
    return insert_many_once(session, ReminderTimer, rows)


def cancel_closed(session: Session, *, instance_id: int | None = None) -> int:
    """Delete the pending timer of every task no longer open (acted on, cancelled, reassigned).

    A timer that never fired holds nothing the policy cannot recompute, so it is not kept as a
    cancelled row; fired timers stay as the record of what came due.
    """
    if instance_id is not None:  # every action: one prebuilt statement on the connection
        return session.connection().execute(_cancel_closed_of_instance(),
                                            {"instance": instance_id}).rowcount
    closed = select(Task.id).where(Task.status != TaskStatus.open)
    statement = delete(ReminderTimer).where(ReminderTimer.status == TimerStatus.pending,
                                            ReminderTimer.task_id.in_(closed))
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


@cache
def _cancel_closed_of_instance() -> Any:
    timer, task = ReminderTimer.__table__, Task.__table__  # type: ignore[attr-defined]
    closed = select(task.c.id).where(task.c.instance_id == bindparam("instance"),
                                     task.c.status != TaskStatus.open)
    return delete(timer).where(timer.c.instance_id == bindparam("instance"),
                               timer.c.status == TimerStatus.pending,
                               timer.c.task_id.in_(closed))


def _replanned_due(task: Task, policy: DeadlinePolicy, cal: WorkingCalendar) -> datetime | None:
    if policy.due_in_working_days is None:
        return task.due_at
    created_on = local_date(task.created_at)
    return end_of_day(cal.add_working_days(created_on, policy.due_in_working_days))


def _replan_timer(session: Session, task: Task, policy: DeadlinePolicy, cal: WorkingCalendar,
                  due_at: datetime) -> int:
    """Re-arm a task's pending timer on the corrected calendar: the first rung after the last
    day a timer of it fired (the very first rung if none has), skipping rungs already fired."""
    assert task.id is not None
    timers = list(session.exec(select(ReminderTimer).where(ReminderTimer.task_id == task.id)
                               .order_by(ReminderTimer.id)))
    pending = [t for t in timers if t.status == TimerStatus.pending]
    if not pending:
        return 0  # a task whose ladder has ended (or that wants nothing) keeps no timer
    fired = {(t.kind, t.level) for t in timers if t.status != TimerStatus.pending}
    fired_on = [local_date(t.fired_at) for t in timers if t.fired_at is not None]
    due_day = local_date(due_at)
    rung = next_rung(cal, policy, due_day, max(fired_on, default=None))
    while rung is not None and (rung.kind, rung.level) in fired:
        rung = next_rung(cal, policy, due_day, rung.day)
    # keep the row of that very rung if there is one (a ladder armed whole, before timers
    # were lazy, has several pending): only one stays
    keep = next((t for t in pending if rung and (t.kind, t.level) == (rung.kind, rung.level)),
                pending[0])
    extra = [t for t in pending if t is not keep]
    for timer in extra:
        session.delete(timer)
    if rung is None:  # the ladder has ended: the row stays, so the task counts as scheduled
        keep.status = TimerStatus.off
        return 1 + len(extra)
    when = start_of_day(rung.day)
    if (keep.kind, keep.level, keep.due_at) == (rung.kind, rung.level, when):
        return len(extra)
    keep.key = timer_key(task.id, rung.kind, rung.level)
    keep.kind, keep.level, keep.due_at = rung.kind, rung.level, when
    return 1 + len(extra)


def replan_after_calendar_change(session: Session, registry: Registry | None = None) -> int:
    """HR changed the calendar: move open tasks' due times and re-arm their pending timers."""
    cal = calendar.load(session)
    moved = 0
    tasks = session.exec(select(Task).where(Task.status == TaskStatus.open,
                                            Task.due_at.is_not(None)))
    for task in tasks:
        policy = task_policy(session, task, registry)
        if policy is None:
            continue
        due_at = _replanned_due(task, policy, cal)
        if due_at is None:
            continue
        if due_at != task.due_at:
            task.due_at = due_at
            moved += 1
        moved += _replan_timer(session, task, policy, cal, due_at)
    session.flush()
    return moved


def timers_of(session: Session, instance_id: int) -> list[ReminderTimer]:
    """An instance's timers in the order they come due (for the case page and tests)."""
    return list(session.exec(select(ReminderTimer).where(ReminderTimer.instance_id == instance_id)
                             .order_by(ReminderTimer.due_at, ReminderTimer.id)))
