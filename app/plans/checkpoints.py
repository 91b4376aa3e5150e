"""Checkpoints: dates from the steps and a cadence; the employee records, the supervisor checks."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from app import clock
from app.engine import runtime
from app.engine.actors import ActorResolver
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.engine.topics import DOMAIN_TOPICS, TaskTopic, TopicAction
from app.errors import AlreadyDone, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.i18n import Message
from app.org.models import Person
from app.plans import content, rules
from app.plans.models import Checkpoint, Evidence, ImprovementPlan, Step
from app.plans.schemas import CheckEntry, ProgressEntry

RECORD, CHECK = "checkpoint_record", "checkpoint_check"
OPEN_STATUSES = ("open", "recorded")  # still waiting on someone


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def cadence_dates(start: date, end: date, cadence: str) -> list[date]:
    """Check dates in (start, end]: weekly, every ten days (旬: 10th, 20th, month end), monthly."""
    dates: list[date] = []
    if cadence == "weekly":
        day = start + timedelta(days=7)
        while day <= end:
            dates.append(day)
            day += timedelta(days=7)
        return dates
    month = start.replace(day=1)
    while month <= end:
        last = _month_end(month)
        marks = [month.replace(day=10), month.replace(day=20), last] if cadence == "ten_days" \
            else [last]
        dates += [d for d in marks if start < d <= end]
        month = last + timedelta(days=1)
    return dates


def checkpoint_dates(
    start: date, end: date, cadence: str, step_dates: Sequence[date]
) -> list[date]:
    """Every step date, every cadence date, and the period end; each once, in order."""
    return sorted({*cadence_dates(start, end, cadence), *step_dates, end})


def end_of_day(day: date) -> datetime:
    """The last moment of a local day, as an aware instant."""
    return datetime.combine(day, time(23, 59), tzinfo=clock.zone())


def generate(db_session: Session, plan: ImprovementPlan, instance: WorkflowInstance) -> int:
    """Create the plan's checkpoints and the employee's task for each."""
    if plan.period_start is None or plan.period_end is None:
        return 0
    steps = content.steps_of(db_session, plan.id)
    step_by_date = {s.due_on: s.id for s in steps if s.due_on}
    dates = checkpoint_dates(plan.period_start, plan.period_end, plan.cadence,
                             list(step_by_date))
    for day in dates:
        checkpoint = Checkpoint(plan_id=plan.id, step_id=step_by_date.get(day), due_on=day)
        db_session.add(checkpoint)
        db_session.flush()
        _open_task(db_session, instance, checkpoint, RECORD, "subject", plan.employee_id)
    db_session.flush()
    runtime.tasks_changed(db_session, instance)
    return len(dates)


def _open_task(db_session: Session, instance: WorkflowInstance, checkpoint: Checkpoint,
               kind: str, expr: str, person_id: int | None) -> None:
    db_session.add(Task(instance_id=instance.id, state=instance.state, kind=kind,
                        assignee_id=person_id, actor_expr=expr, ref=f"checkpoint:{checkpoint.id}",
                        due_at=end_of_day(checkpoint.due_on)))


def _open_check_task(db_session: Session, instance: WorkflowInstance,
                     checkpoint: Checkpoint) -> None:
    supervisor = ActorResolver(db_session, instance).assignee("subject.supervisor")
    _open_task(db_session, instance, checkpoint, CHECK, "subject.supervisor",
               supervisor.person_id if supervisor else None)


def _close_task(db_session: Session, checkpoint: Checkpoint, kind: str, actor: Person) -> None:
    for task in db_session.exec(select(Task).where(Task.ref == f"checkpoint:{checkpoint.id}",
                                                   Task.kind == kind,
                                                   Task.status == TaskStatus.open)):
        task.status = TaskStatus.done
        task.closed_at = clock.now()
        task.closed_by_id = actor.id


def _waiting(db_session: Session, plan: ImprovementPlan) -> list[Checkpoint]:
    return list(db_session.exec(select(Checkpoint).where(
        Checkpoint.plan_id == plan.id, Checkpoint.status.in_(OPEN_STATUSES))
        .order_by(Checkpoint.due_on, Checkpoint.id)))


def cancel_open(db_session: Session, plan: ImprovementPlan) -> None:
    """The plan is drafted again: its unfinished checkpoints give way to the new plan's."""
    for checkpoint in _waiting(db_session, plan):
        checkpoint.status = "cancelled"


def reopen(db_session: Session, plan: ImprovementPlan, instance: WorkflowInstance) -> int:
    """The review went back to the employee: every checkpoint still waiting gets its task again
    (record it, or check what was recorded), with its own date."""
    waiting = _waiting(db_session, plan)
    for checkpoint in waiting:
        if checkpoint.status == "open":
            _open_task(db_session, instance, checkpoint, RECORD, "subject", plan.employee_id)
        else:
            _open_check_task(db_session, instance, checkpoint)
    if waiting:
        db_session.flush()
        runtime.tasks_changed(db_session, instance)
    return len(waiting)


def conclude(db_session: Session, plan: ImprovementPlan, on: date) -> None:
    """The carrying-out is over for good (review outcome, HR's decision, cancellation): an
    unrecorded checkpoint that fell due by then was missed, a later one was never reached;
    what the employee recorded stays recorded."""
    for checkpoint in _waiting(db_session, plan):
        if checkpoint.status == "open":
            checkpoint.status = "missed" if checkpoint.due_on <= on else "cancelled"


def _checkpoint(db_session: Session, plan: ImprovementPlan, checkpoint_id: int) -> Checkpoint:
    checkpoint = db_session.get(Checkpoint, checkpoint_id)
    if checkpoint is None or checkpoint.plan_id != plan.id:
        raise NotFound("No such checkpoint in this plan.")
    return checkpoint


def _still_waiting(checkpoint: Checkpoint) -> None:
    """Refuse, in words true for it, a checkpoint nobody can record or check any more."""
    if checkpoint.status == "checked":
        raise AlreadyDone("This checkpoint has already been checked.")
    if checkpoint.status == "missed":
        raise InvalidTransition("This checkpoint was missed: the plan's period is over.")
    if checkpoint.status not in OPEN_STATUSES:
        raise InvalidTransition("This checkpoint was cancelled when the plan was drafted again.")


def _as(db_session: Session, instance: WorkflowInstance, actor: Person, expr: str) -> None:
    if runtime.acts_as(db_session, ActorResolver(db_session, instance), instance, [expr],
                       actor, None) is None:
        raise NotAllowed("You may not take this action on this case.")
    if instance.state != "in_progress":
        raise InvalidTransition("Checkpoints are recorded while the plan is in progress.")


def record_progress(db_session: Session, *, plan: ImprovementPlan, instance: WorkflowInstance,
                    checkpoint_id: int, actor: Person, entry: ProgressEntry,
                    files: Sequence[tuple[str, bytes]] = (),
                    expected_version: int | None = None) -> Checkpoint:
    """The employee records progress and evidence; the supervisor is asked to check."""
    _as(db_session, instance, actor, "subject")
    checkpoint = _checkpoint(db_session, plan, checkpoint_id)
    _still_waiting(checkpoint)
    stored: list[Evidence] = []
    for i, (filename, data) in enumerate(files):
        kind, problem = rules.check_evidence(filename, data)
        if problem:
            raise ValidationFailed("Please correct the marked fields.",
                                   field_errors={f"files[{i}]": problem, "files": problem})
        stored.append(Evidence(checkpoint_id=checkpoint.id, filename=filename[-200:],
                               content_type=kind, size=len(data),
                               sha256=content.sha256_bytes(data), data=data,
                               added_by_id=actor.id))
    if entry.evidence_text:
        stored.append(Evidence(checkpoint_id=checkpoint.id, text=entry.evidence_text,
                               added_by_id=actor.id))
    first_record = checkpoint.status == "open"
    checkpoint.progress = entry.progress
    checkpoint.status = "recorded"
    checkpoint.recorded_at = clock.now()
    checkpoint.recorded_by_id = actor.id
    db_session.add_all(stored)
    runtime.record_event(db_session, instance, trigger="checkpoint_recorded", actor=actor,
                         comment=entry.progress, expected_version=expected_version,
                         payload={"checkpoint": checkpoint.id, "evidence": len(stored)})
    if first_record:
        _close_task(db_session, checkpoint, RECORD, actor)
        _open_check_task(db_session, instance, checkpoint)
    db_session.flush()
    runtime.tasks_changed(db_session, instance)
    return checkpoint


def check(db_session: Session, *, plan: ImprovementPlan, instance: WorkflowInstance,
          checkpoint_id: int, actor: Person, entry: CheckEntry,
          expected_version: int | None = None) -> Checkpoint:
    """The supervisor checks a recorded checkpoint: on track, at risk or behind."""
    _as(db_session, instance, actor, "subject.supervisor")
    checkpoint = _checkpoint(db_session, plan, checkpoint_id)
    _still_waiting(checkpoint)
    if checkpoint.status != "recorded":
        raise InvalidTransition("The employee has not recorded this checkpoint yet.")
    if entry.result != "on_track" and not entry.comment:
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            "comment": Message("Say what must change when a checkpoint is at risk or behind.")})
    checkpoint.status = "checked"
    checkpoint.check_result = entry.result
    checkpoint.check_comment = entry.comment
    checkpoint.checked_at = clock.now()
    checkpoint.checked_by_id = actor.id
    runtime.record_event(db_session, instance, trigger="checkpoint_checked", actor=actor,
                         comment=entry.comment, expected_version=expected_version,
                         payload={"checkpoint": checkpoint.id, "result": entry.result})
    _close_task(db_session, checkpoint, CHECK, actor)
    db_session.flush()
    runtime.tasks_changed(db_session, instance)
    return checkpoint


def of_plan(db_session: Session, plan_id: int) -> list[Checkpoint]:
    """A plan's checkpoints in date order."""
    return list(db_session.exec(select(Checkpoint).where(Checkpoint.plan_id == plan_id)
                                .order_by(Checkpoint.due_on, Checkpoint.id)))


def evidence_of(db_session: Session, checkpoint_ids: list[int]) -> dict[int, list[Evidence]]:
    """Evidence per checkpoint, in one query."""
    out: dict[int, list[Evidence]] = {i: [] for i in checkpoint_ids}
    if checkpoint_ids:
        for row in db_session.exec(select(Evidence).where(
                Evidence.checkpoint_id.in_(checkpoint_ids)).order_by(Evidence.id)):
            out[row.checkpoint_id].append(row)
    return out


def topic(db_session: Session, instance: WorkflowInstance, task: Task) -> TaskTopic | None:
    """What a checkpoint task is about: the checkpoint, its date (and the step it closes), and
    the plan page's form to record or check it."""
    kind, _, number = task.ref.partition(":")
    checkpoint = db_session.get(Checkpoint, int(number)) if kind == "checkpoint" and \
        number.isdigit() else None
    if checkpoint is None:
        return None
    step = db_session.get(Step, checkpoint.step_id) if checkpoint.step_id else None
    record = task.kind == RECORD
    verb = "record" if record else "check"
    if step is not None:
        name = Message("the checkpoint of {date} (step: {step})",
                       {"date": checkpoint.due_on, "step": step.description[:80]})
    else:
        name = Message("the checkpoint of {date}", {"date": checkpoint.due_on})
    label = Message("Record progress at this checkpoint") if record else \
        Message("Check this checkpoint")
    path = f"/plans/{checkpoint.plan_id}/checkpoints/{checkpoint.id}/{verb}"
    return TaskTopic(key="", name=name,
                     title=Message("Checkpoint {date}", {"date": checkpoint.due_on}),
                     actions=[TopicAction(label, path)], day=checkpoint.due_on)


DOMAIN_TOPICS[RECORD] = topic
DOMAIN_TOPICS[CHECK] = topic
