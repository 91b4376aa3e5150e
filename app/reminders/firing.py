"""Due timers become outbox messages: one reminder per task per sweep, the ladder's latest rung;
the firing arms the task's next rung in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.engine import calendar
from app.engine.calendar import WorkingCalendar, local_date, start_of_day
from app.engine.definitions import DeadlinePolicy
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.registry import Registry
from app.engine.topics import topic_key
from app.notifications.models import MessageKind
from app.notifications.outbox import Notice, enqueue_many
from app.reminders.models import ReminderTimer, TimerKind, TimerStatus
from app.reminders.plan import PlannedTimer, due_rungs, next_rung, rank
from app.reminders.recipients import (
    Directory,
    escalation_recipients,
    task_people,
    task_recipients,
)
from app.reminders.service import rung_row
from app.rows import claim_transaction, insert_many_once, skip_locked


def fire_due_timers(engine: Engine, now: datetime, *, registry: Registry,
                    digest_default: bool, batch_size: int = 100) -> int:
    """Claim due timers batch by batch and turn them into messages; how many were queued.

    Each batch is one transaction: a run killed midway leaves its batch untouched for the next.
    """
    return fire_round(engine, now, registry=registry, digest_default=digest_default,
                      batch_size=batch_size)[0]


def fire_round(engine: Engine, now: datetime, *, registry: Registry, digest_default: bool,
               batch_size: int = 100, limit: int | None = None) -> tuple[int, bool]:
    """Fire due timers as `fire_due_timers` does, stopping after about `limit` of them; how
    many messages were queued, and whether due timers may be left."""
    queued = claimed_so_far = 0
    while True:
        if limit is not None and claimed_so_far >= limit:
            return queued, True
        with claim_transaction(engine) as session:
            claimed = list(session.exec(skip_locked(
                select(ReminderTimer)
                .where(ReminderTimer.status == TimerStatus.pending, ReminderTimer.due_at <= now)
                .order_by(ReminderTimer.due_at, ReminderTimer.id)
                .limit(batch_size)
            )))
            if not claimed:
                return queued, False
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
            batch = _Batch(session, now, calendar.load(session), registry, digest_default)
            batch.load(list(by_task))
            for task_id, timers in by_task.items():
                _fire_task(batch, task_id, timers)
            queued += batch.finish()
            claimed_so_far += len(ids)
            if len(ids) < batch_size:
                return queued, False  # a short batch was the last one


class _Batch:
    """One claimed batch of timers: its tasks, cases and people read together, and what it
    decided (timer states, messages) written together when it is done."""

    def __init__(self, session: Session, now: datetime, cal: WorkingCalendar,
                 registry: Registry, digest_default: bool) -> None:
        self.session, self.now, self.cal, self.registry = session, now, cal, registry
        self.digest_default = digest_default
        self.directory = Directory(session, local_date(now))
        self.statuses: dict[int, str] = {}
        self.notices: list[Notice] = []
        self.armed: list[dict[str, object]] = []  # each fired task's next rung
        self._kept: list[object] = []  # the session holds rows weakly

    def load(self, task_ids: list[int]) -> None:
        """Read the tasks, their cases and their assignees (with delegations) at once."""
        tasks = list(self.session.exec(select(Task).where(Task.id.in_(task_ids))))
        instance_ids = sorted({t.instance_id for t in tasks})
        instances = list(self.session.exec(select(WorkflowInstance).where(
            WorkflowInstance.id.in_(instance_ids)))) if instance_ids else []
        self._kept += [*tasks, *instances]
        self.directory.load(t.assignee_id for t in tasks if t.status == TaskStatus.open)

    def mark(self, timers: list[ReminderTimer], status: str) -> None:
        """Give timers a new status (written in `finish`)."""
        for timer in timers:
            assert timer.id is not None
            self.statuses[timer.id] = status

    def finish(self) -> int:
        """Write the timers' new states, arm the next rungs and queue the messages; how many
        were queued. A timer that will never fire (its task closed) is deleted."""
        by_status: dict[str, list[int]] = defaultdict(list)
        for timer_id, status in self.statuses.items():
            by_status[status].append(timer_id)
        for status, ids in by_status.items():
            if status == TimerStatus.cancelled:
                statement = delete(ReminderTimer).where(ReminderTimer.id.in_(ids))
            else:
                statement = (update(ReminderTimer).where(ReminderTimer.id.in_(ids))
                             .values(status=status, fired_at=self.now))
            self.session.execute(statement.execution_options(synchronize_session=False))
        # keys make the next rung idempotent: a rung armed already (by a race, or by a ladder
        # armed whole before timers were lazy) is left as it is
        insert_many_once(self.session, ReminderTimer, self.armed)  # type: ignore[arg-type]
        return enqueue_many(self.session, self.notices, now=self.now,
                            digest_default=self.digest_default)


def _fire_task(batch: _Batch, task_id: int, timers: list[ReminderTimer]) -> None:
    """The rungs of a task's ladder that came due since its timer (a catch-up after downtime
    spans several): the latest reminder and the highest escalation among them go out, and the
    first rung after today becomes the task's timer."""
    session = batch.session
    task = session.get(Task, task_id)
    instance = session.get(WorkflowInstance, task.instance_id) if task else None
    policy = None
    if task and instance and task.status == TaskStatus.open and task.due_at is not None:
        spec = batch.registry.compiled(session, instance.definition_id).spec
        state = spec.states.get(task.state)
        policy = state.deadline if state else None
    if task is None or instance is None or policy is None or task.due_at is None:
        batch.mark(timers, TimerStatus.cancelled)
        return
    batch.mark(timers, TimerStatus.done)
    due_day, today = local_date(task.due_at), local_date(batch.now)
    since = min(local_date(t.due_at) for t in timers)
    came_due = due_rungs(batch.cal, policy, due_day, since, today)
    # the timers themselves count, even where a calendar correction has moved their rung
    came_due += [PlannedTimer(t.kind, t.level, local_date(t.due_at)) for t in timers
                 if t.kind in TimerKind.reminders
                 or (t.kind == TimerKind.escalation and t.level < len(policy.escalate))]
    reminders = [r for r in came_due if r.kind in TimerKind.reminders]
    if reminders:
        latest = max(reminders, key=rank)
        _remind(batch, task, instance, latest.kind, latest.level, start_of_day(latest.day))
    rungs = [r for r in came_due if r.kind == TimerKind.escalation]
    if rungs:
        highest = max(rungs, key=rank)
        _escalate(batch, task, instance, policy, highest.level, start_of_day(highest.day))
    following = next_rung(batch.cal, policy, due_day, today)
    if following is not None:
        batch.armed.append(rung_row(task, following, batch.now))


def _remind(batch: _Batch, task: Task, instance: WorkflowInstance, kind: str, level: int,
            due_at: datetime) -> None:
    """A reminder to everyone the task waits on, and to the delegates of the absent.

    The key names the thing, not the task: the tasks of one person about one thing (one step,
    one checkpoint) that come due together make one mail, whichever of them fires first.
    """
    assert task.id is not None and task.due_at is not None
    topic = topic_key(task)
    due_day = local_date(task.due_at).isoformat()
    for recipient in task_recipients(batch.session, task, instance, batch.directory.on,
                                     batch.directory):
        person = recipient.person
        params = {"level": level, "on_behalf_of_id": recipient.on_behalf_of_id,
                  "due_at": task.due_at.isoformat(), "state": task.state, "topic": topic}
        batch.notices.append(Notice(
            key=f"{kind}:i{instance.id}:{topic}:{due_day}:L{level}:p{person.id}", kind=kind,
            recipient=person, instance_id=instance.id, task_id=task.id, params=params,
            due_at=due_at))


def _escalate(batch: _Batch, task: Task, instance: WorkflowInstance, policy: DeadlinePolicy,
              rung: int, due_at: datetime) -> None:
    """Tell the rung's people the case is overdue; one message per thing (a step visit, a
    checkpoint) and rung, not per task."""
    assert task.due_at is not None
    due_day = local_date(task.due_at)
    today = batch.directory.on
    expr = policy.escalate[rung].to
    topic = topic_key(task)
    # the task's own people hear of it through its reminders: an escalation goes above them
    waited_on = set(task_people(batch.session, task))
    for recipient in escalation_recipients(batch.session, instance, expr, today,
                                           batch.directory):
        person = recipient.person
        if person.id in waited_on:
            continue
        key = f"escalation:i{instance.id}:{topic}:{due_day.isoformat()}:r{rung}:p{person.id}"
        params = {"rung": rung, "to": expr, "on_behalf_of_id": recipient.on_behalf_of_id,
                  "due_at": task.due_at.isoformat(), "state": task.state, "topic": topic,
                  "overdue_days": batch.cal.working_days_between(due_day, today)}
        batch.notices.append(Notice(
            key=key, kind=MessageKind.escalation, recipient=person, instance_id=instance.id,
            task_id=task.id, params=params, due_at=due_at))
