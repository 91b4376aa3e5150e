"""HR's actions on stuck work: remind now, reassign with a reason, and both in bulk.

Every action checks here that the actor holds HR scope over the case, and is audited on the
case with `runtime.record_event`. Reminders go through the one mail path: the outbox.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app import clock
from app.engine import calendar, runtime
from app.engine.handover import REASSIGN_TRIGGER
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.errors import NotFound, ValidationFailed
from app.i18n import Message
from app.notifications.models import MessageKind
from app.notifications.outbox import enqueue
from app.org.models import OrgUnit, Person
from app.reminders.recipients import task_recipients
from app.reports import scope as scopes

REMIND_TRIGGER = "remind_now"
REASON_MAX = 500
BULK_MAX = 500
BULK_ACTIONS = ("remind", "reassign")


@dataclass
class TaskInScope:
    """An open task the actor may act on, with its case."""

    task: Task
    instance: WorkflowInstance


def task_in_scope(session: Session, scope: scopes.Scope, task_id: int) -> TaskInScope:
    """An open task of a case inside the scope; anything else does not exist for the actor."""
    task = session.get(Task, task_id)
    instance = session.get(WorkflowInstance, task.instance_id) if task else None
    unit = session.get(OrgUnit, instance.org_unit_id) if instance else None
    if task is None or instance is None or not scope.covers(unit):
        raise NotFound("No task {id} in your scope.", id=task_id)
    if task.status != TaskStatus.open:
        raise ValidationFailed("This step is already closed.")
    return TaskInScope(task, instance)


def reminder_kind(task: Task, now: datetime) -> str:
    """Which reminder text fits: overdue, due today, or due later."""
    assert task.due_at is not None
    if task.due_at < now:
        return MessageKind.overdue
    if calendar.local_date(task.due_at) == calendar.local_date(now):
        return MessageKind.on_due
    return MessageKind.before_due


def _remind(session: Session, actor: Person, item: TaskInScope, now: datetime,
            digest_default: bool, bulk: bool) -> int:
    task, instance = item.task, item.instance
    if task.due_at is None:
        raise ValidationFailed("This step has no due date to remind of.")
    kind = reminder_kind(task, now)
    hour = calendar.local_date(now).isoformat() + now.astimezone(clock.zone()).strftime("T%H")
    queued = []
    for recipient in task_recipients(session, task, instance, calendar.local_date(now)):
        # One "remind now" per task, person and hour: a double click does not send twice.
        key = f"{REMIND_TRIGGER}:task{task.id}:{hour}:p{recipient.person.id}"
        params = {"level": 0, "on_behalf_of_id": recipient.on_behalf_of_id,
                  "due_at": task.due_at.isoformat(), "state": task.state, "by": actor.id}
        if enqueue(session, key=key, kind=kind, recipient=recipient.person, now=now,
                   digest_default=digest_default, instance_id=instance.id, task_id=task.id,
                   params=params) is not None:
            queued.append(recipient.person.id)
    if queued:
        runtime.record_event(session, instance, trigger=REMIND_TRIGGER, actor=actor,
                             payload={"task_id": task.id, "to": queued, "kind": kind,
                                      **({"bulk": True} if bulk else {})})
    return len(queued)


def remind_now(session: Session, *, actor: Person, task_id: int, digest_default: bool = False
               ) -> int:
    """Remind whoever a task waits on, now; how many messages were queued (0: already done
    within the hour, or nobody to write to)."""
    scope = scopes.hr_scope(session, actor)
    return _remind(session, actor, task_in_scope(session, scope, task_id), clock.now(),
                   digest_default, bulk=False)


def _reason(text: str) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            "reason": Message("Say why the step is reassigned.")})
    if len(reason) > REASON_MAX:
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            "reason": Message("At most {n} characters.", {"n": REASON_MAX})})
    return reason


def reassignee(session: Session, scope: scopes.Scope, person_id: int | None) -> Person:
    """The person work is handed to: active, and inside the actor's HR scope."""
    person = session.get(Person, person_id) if person_id else None
    unit = session.get(OrgUnit, person.org_unit_id) if person else None
    if person is None or not person.active or not scope.covers(unit):
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            "to": Message("Choose an active person in your units.")})
    return person


def _check_reassignable(item: TaskInScope, to: Person) -> None:
    if item.task.kind != "act":
        raise ValidationFailed(
            "Signatures and checkpoint entries are personal; only action steps can be "
            "reassigned.")
    if item.task.assignee_id == to.id:
        raise ValidationFailed("The step already waits on this person.")


def _reassign(session: Session, actor: Person, item: TaskInScope, to: Person, reason: str,
              bulk: bool) -> Task:
    _check_reassignable(item, to)
    task = item.task
    before = {"assignee_id": task.assignee_id, "group_kind": task.group_kind,
              "group_name": task.group_name, "org_unit_id": task.org_unit_id}
    task.assignee_id = to.id
    task.group_kind = task.group_name = None
    task.org_unit_id = None
    runtime.record_event(session, item.instance, trigger=REASSIGN_TRIGGER, actor=actor,
                         comment=reason,
                         payload={"task_id": task.id, "to": to.id, "from": before,
                                  **({"bulk": True} if bulk else {})})
    return task


def reassign(session: Session, *, actor: Person, task_id: int, to_person_id: int | None,
             reason: str) -> Task:
    """Hand an open action step to a named person, with a reason; they may then act on it."""
    scope = scopes.hr_scope(session, actor)
    item = task_in_scope(session, scope, task_id)
    to = reassignee(session, scope, to_person_id)
    return _reassign(session, actor, item, to, _reason(reason), bulk=False)


@dataclass
class BulkLine:
    """One selected task in a bulk action and whether it can be done."""

    task_id: int
    item: TaskInScope | None
    refusal: Message | None = None


@dataclass
class BulkPlan:
    """What a bulk action would do; applying it needs `confirmation` echoed back."""

    action: str
    to: Person | None
    reason: str
    lines: list[BulkLine] = field(default_factory=list)
    confirmation: str = ""
    done: int = 0  # after applying: tasks acted on
    messages: int = 0  # after applying a reminder: messages queued

    @property
    def doable(self) -> list[BulkLine]:
        """The lines that will be acted on."""
        return [line for line in self.lines if line.refusal is None]


def confirmation_code(actor: Person, action: str, task_ids: list[int], to_id: int | None,
                      reason: str) -> str:
    """A digest of exactly what was previewed: confirming anything else is refused."""
    text = f"{actor.id}|{action}|{','.join(map(str, task_ids))}|{to_id or ''}|{reason}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _ids(task_ids: list[int]) -> list[int]:
    ids = sorted({int(i) for i in task_ids})
    if not ids:
        raise ValidationFailed("Select at least one task.")
    if len(ids) > BULK_MAX:
        raise ValidationFailed("At most {n} tasks at once.", n=BULK_MAX)
    return ids


def bulk_preview(session: Session, *, actor: Person, action: str, task_ids: list[int],
                 to_person_id: int | None = None, reason: str = "") -> BulkPlan:
    """What a bulk remind or reassign would do to each selected task (nothing changes)."""
    if action not in BULK_ACTIONS:
        raise ValidationFailed("Choose one of the offered options.")
    scope = scopes.hr_scope(session, actor)
    ids = _ids(task_ids)
    to = reassignee(session, scope, to_person_id) if action == "reassign" else None
    reason = _reason(reason) if action == "reassign" else ""
    plan = BulkPlan(action, to, reason)
    for task_id in ids:
        try:
            item = task_in_scope(session, scope, task_id)
            if action == "reassign":
                assert to is not None
                _check_reassignable(item, to)
            elif item.task.due_at is None:
                raise ValidationFailed("This step has no due date to remind of.")
            plan.lines.append(BulkLine(task_id, item))
        except (NotFound, ValidationFailed) as exc:
            plan.lines.append(BulkLine(task_id, None, exc.message))
    plan.confirmation = confirmation_code(actor, action, ids, to.id if to else None, reason)
    return plan


def bulk_apply(session: Session, *, actor: Person, action: str, task_ids: list[int],
               confirmation: str, to_person_id: int | None = None, reason: str = "",
               digest_default: bool = False) -> BulkPlan:
    """Carry out a previewed bulk action, if `confirmation` matches the preview; one transaction.

    Tasks refused in the preview (closed since, out of scope…) are skipped and reported.
    """
    plan = bulk_preview(session, actor=actor, action=action, task_ids=task_ids,
                        to_person_id=to_person_id, reason=reason)
    if not confirmation or confirmation != plan.confirmation:
        raise ValidationFailed("Confirm the action on the confirmation page first.")
    now = clock.now()
    for line in plan.doable:
        assert line.item is not None
        if action == "remind":
            plan.messages += _remind(session, actor, line.item, now, digest_default, bulk=True)
        else:
            assert plan.to is not None
            _reassign(session, actor, line.item, plan.to, plan.reason, bulk=True)
        plan.done += 1
    return plan


def people_in_scope(session: Session, *, actor: Person, search: str = "", limit: int = 20
                    ) -> list[Person]:
    """Active people in the actor's HR units matching a name or employee number."""
    scope = scopes.hr_scope(session, actor)
    query = (select(Person).join(OrgUnit, OrgUnit.id == Person.org_unit_id)
             .where(Person.active)
             .order_by(Person.employee_no).limit(limit))
    paths = [r.path for r in scope.roots]
    query = query.where(or_(*[col(OrgUnit.path).startswith(p) for p in paths]))
    if search.strip():
        like = f"%{search.strip()}%"
        query = query.where(or_(col(Person.name).ilike(like), col(Person.employee_no).ilike(like),
                                col(Person.name_en).ilike(like)))
    return list(session.exec(query))


def person_by_number(session: Session, employee_no: str) -> Person | None:
    """A person by employee number (exact, trimmed)."""
    number = (employee_no or "").strip()
    if not number:
        return None
    return session.exec(select(Person).where(Person.employee_no == number)).first()
