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
from app.errors import AlreadyDone, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.i18n import Message
from app.org.models import Person
from app.plans import content, rules
from app.plans.models import Checkpoint, Evidence, ImprovementPlan
from app.plans.schemas import CheckEntry, ProgressEntry

RECORD, CHECK = "checkpoint_record", "checkpoint_check"


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


def _close_task(db_session: Session, checkpoint: Checkpoint, kind: str, actor: Person) -> None:
    for task in db_session.exec(select(Task).where(Task.ref == f"checkpoint:{checkpoint.id}",
                                                   Task.kind == kind,
                                                   Task.status == TaskStatus.open)):
        task.status = TaskStatus.done
        task.closed_at = clock.now()
        task.closed_by_id = actor.id


def close_open(db_session: Session, plan: ImprovementPlan, status: str) -> None:
    """Mark unfinished checkpoints cancelled (re-plan) or missed (review began)."""
    for checkpoint in db_session.exec(select(Checkpoint).where(
            Checkpoint.plan_id == plan.id, Checkpoint.status.in_(("open", "recorded")))):
        checkpoint.status = status


def _checkpoint(db_session: Session, plan: ImprovementPlan, checkpoint_id: int) -> Checkpoint:
    checkpoint = db_session.get(Checkpoint, checkpoint_id)
    if checkpoint is None or checkpoint.plan_id != plan.id:
        raise NotFound("No such checkpoint in this plan.")
    return checkpoint


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
    if checkpoint.status not in ("open", "recorded"):
        raise AlreadyDone("This checkpoint has already been checked.")
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
        supervisor = ActorResolver(db_session, instance).assignee("subject.supervisor")
        _open_task(db_session, instance, checkpoint, CHECK, "subject.supervisor",
                   supervisor.person_id if supervisor else None)
    db_session.flush()
    runtime.tasks_changed(db_session, instance)
    return checkpoint


def check(db_session: Session, *, plan: ImprovementPlan, instance: WorkflowInstance,
          checkpoint_id: int, actor: Person, entry: CheckEntry,
          expected_version: int | None = None) -> Checkpoint:
    """The supervisor checks a recorded checkpoint: on track, at risk or behind."""
    _as(db_session, instance, actor, "subject.supervisor")
    checkpoint = _checkpoint(db_session, plan, checkpoint_id)
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
