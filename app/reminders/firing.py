"""Due timers become outbox messages: one reminder per task per sweep, the ladder's latest rung."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.engine import calendar
from app.engine.calendar import WorkingCalendar, local_date, start_of_day
from app.engine.definitions import DeadlinePolicy
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.notifications.models import MessageKind
from app.notifications.outbox import enqueue
from app.reminders.models import ReminderTimer, TimerKind, TimerStatus
from app.reminders.plan import overdue_day, overdue_level_on
from app.reminders.recipients import escalation_recipients, task_recipients
from app.reminders.service import add_timer
from app.rows import claim_transaction, skip_locked

_RANK = {TimerKind.before_due: 0, TimerKind.on_due: 1, TimerKind.overdue: 2}


def fire_due_timers(engine: Engine, now: datetime, *, registry: Registry,
                    digest_default: bool, batch_size: int = 100) -> int:
    """Claim due timers batch by batch and turn them into messages; how many were queued.

    Each batch is one transaction: a run killed midway leaves its batch untouched for the next.
    """
    queued = 0
    while True:
        with claim_transaction(engine) as session:
            claimed = list(session.exec(skip_locked(
                select(ReminderTimer)
                .where(ReminderTimer.status == TimerStatus.pending, ReminderTimer.due_at <= now)
                .order_by(ReminderTimer.due_at, ReminderTimer.id)
                .limit(batch_size)
            )))
            if not claimed:
                return queued
            # The rest of those tasks' due timers too, so a catch-up sends one reminder per task.
            ids = [t.id for t in claimed]
            claimed += session.exec(skip_locked(
                select(ReminderTimer).where(
                    ReminderTimer.task_id.in_({t.task_id for t in claimed}),
                    ReminderTimer.status == TimerStatus.pending,
                    ReminderTimer.due_at <= now,
                    ReminderTimer.id.not_in(ids),
                )
            ))
            by_task: dict[int, list[ReminderTimer]] = defaultdict(list)
            for timer in claimed:
                by_task[timer.task_id].append(timer)
            cal = calendar.load(session)
            for task_id, timers in by_task.items():
                queued += _fire_task(session, task_id, timers, now, cal, registry, digest_default)
            if len(ids) < batch_size:
                return queued  # a short batch was the last one


def _mark(timers: list[ReminderTimer], chosen: ReminderTimer, now: datetime) -> None:
    for timer in timers:
        timer.status = TimerStatus.done if timer is chosen else TimerStatus.superseded
        timer.fired_at = now


def _fire_task(session: Session, task_id: int, timers: list[ReminderTimer], now: datetime,
               cal: WorkingCalendar, registry: Registry, digest_default: bool) -> int:
    task = session.get(Task, task_id)
    instance = session.get(WorkflowInstance, task.instance_id) if task else None
    policy = None
    if task and instance and task.status == TaskStatus.open and task.due_at is not None:
        state = registry.compiled(session, instance.definition_id).spec.states.get(task.state)
        policy = state.deadline if state else None
    if task is None or instance is None or policy is None:
        for timer in timers:
            timer.status = TimerStatus.cancelled
        return 0
    queued = 0
    reminders = [t for t in timers if t.kind in TimerKind.reminders]
    if reminders:
        latest = max(reminders, key=lambda t: (t.due_at, _RANK[t.kind], t.level))
        _mark(reminders, latest, now)
        level = latest.level
        if latest.kind == TimerKind.overdue:
            level = _next_overdue(session, task, policy, cal, latest.level, now)
        queued += _remind(session, task, instance, latest.kind, level, now, digest_default,
                          latest.due_at)
    rungs = [t for t in timers if t.kind == TimerKind.escalation]
    if rungs:
        latest = max(rungs, key=lambda t: (t.due_at, t.level))
        _mark(rungs, latest, now)
        if latest.level < len(policy.escalate):
            queued += _escalate(session, task, instance, policy, latest.level, cal, now,
                                digest_default, latest.due_at)
    session.flush()
    return queued


def _next_overdue(session: Session, task: Task, policy: DeadlinePolicy, cal: WorkingCalendar,
                  level: int, now: datetime) -> int:
    """The overdue level reached today (after downtime it may be past the timer's), and the
    timer for the next one."""
    assert task.due_at is not None
    due_day = local_date(task.due_at)
    level = max(level, overdue_level_on(cal, policy, due_day, local_date(now)))
    following = start_of_day(overdue_day(cal, policy, due_day, level + 1))
    add_timer(session, task, TimerKind.overdue, level + 1, following, now)
    return level


def _remind(session: Session, task: Task, instance: WorkflowInstance, kind: str, level: int,
            now: datetime, digest_default: bool, due_at: datetime) -> int:
    """A reminder to everyone the task waits on, and to the delegates of the absent."""
    assert task.id is not None and task.due_at is not None
    queued = 0
    for recipient in task_recipients(session, task, instance, local_date(now)):
        person = recipient.person
        key = f"{kind}:task{task.id}:L{level}:p{person.id}"
        params = {"level": level, "on_behalf_of_id": recipient.on_behalf_of_id,
                  "due_at": task.due_at.isoformat(), "state": task.state}
        if enqueue(session, key=key, kind=kind, recipient=person, now=now,
                   digest_default=digest_default, instance_id=instance.id, task_id=task.id,
                   params=params, due_at=due_at) is not None:
            queued += 1
    return queued


def _escalate(session: Session, task: Task, instance: WorkflowInstance, policy: DeadlinePolicy,
              rung: int, cal: WorkingCalendar, now: datetime, digest_default: bool,
              due_at: datetime) -> int:
    """Tell the rung's people the case is overdue; one message per case visit, not per task."""
    assert task.due_at is not None
    due_day = local_date(task.due_at)
    expr = policy.escalate[rung].to
    queued = 0
    for recipient in escalation_recipients(session, instance, expr, local_date(now)):
        person = recipient.person
        key = f"escalation:i{instance.id}:{task.state}:{due_day.isoformat()}:r{rung}:p{person.id}"
        params = {"rung": rung, "to": expr, "on_behalf_of_id": recipient.on_behalf_of_id,
                  "due_at": task.due_at.isoformat(), "state": task.state,
                  "overdue_days": cal.working_days_between(due_day, local_date(now))}
        if enqueue(session, key=key, kind=MessageKind.escalation, recipient=person, now=now,
                   digest_default=digest_default, instance_id=instance.id, task_id=task.id,
                   params=params, due_at=due_at) is not None:
            queued += 1
    return queued
