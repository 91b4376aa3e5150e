"""Who may see an instance: one rule, used for single pages and for lists alike.

Visible to its subject, to anyone up the subject's supervisor chain, to holders of a role or
committee seat at the instance's unit or above it (HR scope), to anyone with a task on it
(including tasks of people who delegated to them today), and to administrators.
"""

from __future__ import annotations

from sqlalchemy import or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from app import clock
from app.engine.actors import active_principals
from app.engine.models import Task, WorkflowInstance
from app.org.models import OrgUnit, Person, RoleAssignment
from app.tasks.service import task_filter

MAX_CHAIN = 20


def subordinate_ids(session: Session, person_id: int) -> set[int]:
    """Everyone below a person in the supervisor chain (cycle-safe, bounded depth)."""
    found: set[int] = set()
    frontier = {person_id}
    for _ in range(MAX_CHAIN):
        below = set(session.exec(select(Person.id).where(Person.supervisor_id.in_(frontier))))
        below -= found | {person_id}
        if not below:
            break
        found |= below
        frontier = below
    return found


def visible_filter(session: Session, person: Person) -> ColumnElement[bool]:
    """SQL condition on WorkflowInstance: the instance is visible to this person."""
    if person.is_admin:
        return true()
    conditions: list[ColumnElement[bool]] = [WorkflowInstance.subject_id == person.id]
    below = subordinate_ids(session, person.id)
    if below:
        conditions.append(WorkflowInstance.subject_id.in_(below))
    seats = list(session.exec(select(RoleAssignment).where(RoleAssignment.person_id == person.id)))
    scope_units = {s.org_unit_id for s in seats}
    if scope_units:
        paths = list(session.exec(select(OrgUnit.path).where(OrgUnit.id.in_(scope_units))))
        in_scope = select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(p) for p in paths]))
        conditions.append(WorkflowInstance.org_unit_id.in_(in_scope))
    principals = active_principals(session, person.id, clock.today())
    people = [person.id, *principals]
    if principals:
        seats += list(
            session.exec(select(RoleAssignment).where(RoleAssignment.person_id.in_(principals)))
        )
    with_task = select(Task.instance_id).where(
        or_(task_filter(people, seats), Task.closed_by_id == person.id)
    )
    conditions.append(WorkflowInstance.id.in_(with_task))
    return or_(*conditions)


def can_view(session: Session, person: Person, instance: WorkflowInstance) -> bool:
    """Whether this person may see this instance."""
    if person.is_admin or instance.subject_id == person.id:
        return True
    query = select(WorkflowInstance.id).where(
        WorkflowInstance.id == instance.id, visible_filter(session, person)
    )
    return session.exec(query).first() is not None
