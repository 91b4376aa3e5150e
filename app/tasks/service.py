"""Which open tasks wait on a person: their own, their seats', and their principals' today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from app import clock
from app.engine.actors import active_principals
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.org.models import Person, RoleAssignment


@dataclass
class MyTask:
    """An open task for a person, and on whose behalf they would act (None: their own)."""

    task: Task
    instance: WorkflowInstance
    on_behalf_of_id: int | None
    overdue: bool


def _seats(session: Session, person_ids: list[int]) -> list[RoleAssignment]:
    query = select(RoleAssignment).where(RoleAssignment.person_id.in_(person_ids))
    return list(session.exec(query))


def _holder(task: Task, person_id: int, seats: list[RoleAssignment]) -> bool:
    """Whether the task is addressed to this person directly or to one of their seats."""
    if task.assignee_id is not None:
        return task.assignee_id == person_id
    return any(
        s.person_id == person_id
        and (s.kind, s.name, s.org_unit_id) == (task.group_kind, task.group_name, task.org_unit_id)
        for s in seats
    )


def task_filter(person_ids: list[int], seats: list[RoleAssignment]) -> ColumnElement[bool]:
    """SQL condition: the task is addressed to one of these people or one of these seats."""
    conditions = [Task.assignee_id.in_(person_ids)]
    conditions += [
        and_(Task.group_kind == s.kind, Task.group_name == s.name,
             Task.org_unit_id == s.org_unit_id)
        for s in seats
    ]
    return or_(*conditions)


def _sort_key(item: MyTask) -> tuple[bool, bool, datetime, datetime, int]:
    due = item.task.due_at or datetime.max.replace(tzinfo=clock.now().tzinfo)
    task = item.task
    return (not item.overdue, task.due_at is None, due, task.created_at, task.id or 0)


def my_tasks(*, db_session: Session, person: Person) -> list[MyTask]:
    """Open tasks waiting on me: overdue first, then by due time (undated last)."""
    today = clock.today()
    now = clock.now()
    principals = [p for p in active_principals(db_session, person.id, today) if p != person.id]
    people = [person.id, *principals]
    seats = _seats(db_session, people)
    rows = db_session.exec(
        select(Task, WorkflowInstance)
        .join(WorkflowInstance, WorkflowInstance.id == Task.instance_id)
        .where(Task.status == TaskStatus.open, task_filter(people, seats))
    ).all()
    scoped: dict[str, set[int]] = {}
    found: dict[int, MyTask] = {}
    for task, instance in rows:
        on_behalf_of: int | None = None
        if not _holder(task, person.id, seats):
            if instance.workflow not in scoped:
                scoped[instance.workflow] = set(
                    active_principals(db_session, person.id, today, instance.workflow)
                )
            on_behalf_of = next(
                (p for p in principals if p in scoped[instance.workflow]
                 and _holder(task, p, seats)),
                None,
            )
            if on_behalf_of is None:
                continue  # delegated for another workflow only
        overdue = task.due_at is not None and task.due_at < now
        found.setdefault(task.id, MyTask(task, instance, on_behalf_of, overdue))
    return sorted(found.values(), key=_sort_key)
