"""Need-to-know: who may see an instance, as one rule for pages, lists and the API."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, and_, bindparam, exists, false, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app import clock
from app.engine.actors import active_principals
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.org.models import Delegation, OrgUnit, Person, RoleAssignment

# Roles whose holders see every case of their unit and the units below it.
SCOPE_ROLES = ("hr",)


def _subordinates_cte(person_id: Any):  # noqa: ANN202 - a SQLAlchemy CTE
    """Everyone below a person in the supervisor chain, at any depth."""
    base = select(Person.id).where(Person.supervisor_id == person_id).cte(recursive=True)
    below = select(Person.id).where(Person.supervisor_id == base.c.id)
    return base.union(below)


def _rule(person_id: Any, in_scope: ColumnElement[bool],
          task_conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    """The one rule: subject, initiator, above the subject, HR in scope, or a task of theirs."""
    reports = _subordinates_cte(person_id)
    return or_(
        WorkflowInstance.subject_id == person_id,
        WorkflowInstance.initiator_id == person_id,
        WorkflowInstance.subject_id.in_(select(reports.c.id)),
        in_scope,
        exists().where(Task.instance_id == WorkflowInstance.id, or_(*task_conditions)),
    )


def visible_filter(session: Session, person: Person) -> ColumnElement[bool]:
    """A WHERE condition on WorkflowInstance selecting what this person may see (for lists:
    the person's scopes, seats and principals are read first, so the big query stays simple)."""
    scopes = list(
        session.exec(
            select(OrgUnit.path)
            .join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
            .where(RoleAssignment.person_id == person.id, RoleAssignment.kind == "role",
                   RoleAssignment.name.in_(SCOPE_ROLES))
        )
    )
    seats = list(
        session.exec(
            select(RoleAssignment.kind, RoleAssignment.name, RoleAssignment.org_unit_id).where(
                RoleAssignment.person_id == person.id
            )
        )
    )
    principals = active_principals(session, person.id, clock.today())
    task_conditions = [Task.assignee_id == person.id]
    if principals:
        task_conditions.append(and_(Task.assignee_id.in_(principals), Task.status == "open"))
    for kind, name, unit_id in seats:
        task_conditions.append(and_(Task.group_kind == kind, Task.group_name == name,
                                    Task.org_unit_id == unit_id))
    in_scope = (
        exists().where(OrgUnit.id == WorkflowInstance.org_unit_id,
                       or_(*[OrgUnit.path.startswith(path) for path in scopes]))
        if scopes else false()
    )
    return _rule(person.id, in_scope, task_conditions)


@cache
def _can_view_statement() -> Any:
    """The rule for one instance as one statement, built once: scopes, seats and principals
    are subqueries here, and the person, instance and day are parameters."""
    person_id = bindparam("person_id", type_=Integer)
    today = bindparam("today", type_=Date)
    scope = aliased(OrgUnit)
    in_scope = exists().where(
        OrgUnit.id == WorkflowInstance.org_unit_id,
        RoleAssignment.org_unit_id == scope.id,
        RoleAssignment.person_id == person_id, RoleAssignment.kind == "role",
        RoleAssignment.name.in_(SCOPE_ROLES),
        OrgUnit.path.startswith(scope.path),
    )
    seat = aliased(RoleAssignment)
    principals = select(Delegation.principal_id).where(
        Delegation.delegate_id == person_id, Delegation.starts_on <= today,
        Delegation.ends_on >= today, Delegation.revoked_at.is_(None))
    task_conditions = [
        Task.assignee_id == person_id,
        and_(Task.assignee_id.in_(principals), Task.status == TaskStatus.open),
        exists().where(seat.person_id == person_id, seat.kind == Task.group_kind,
                       seat.name == Task.group_name, seat.org_unit_id == Task.org_unit_id),
    ]
    return select(WorkflowInstance.id).where(
        WorkflowInstance.id == bindparam("instance_id", type_=Integer),
        _rule(person_id, in_scope, task_conditions))


def can_view(session: Session, person: Person, instance: WorkflowInstance) -> bool:
    """Whether a person may see one instance (same rule as the list filter): the case's
    own people without a query, everyone else with one statement."""
    if person.id in (instance.subject_id, instance.initiator_id):
        return True
    found = session.exec(_can_view_statement(), params={
        "person_id": person.id, "instance_id": instance.id, "today": clock.today()}).first()
    return found is not None


def holds_scope_over(session: Session, person: Person, org_unit_id: int) -> bool:
    """Whether the person holds a scope role (HR) at this unit or one above it."""
    unit = session.get(OrgUnit, org_unit_id)
    if unit is None:
        return False
    paths = session.exec(
        select(OrgUnit.path)
        .join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
        .where(RoleAssignment.person_id == person.id, RoleAssignment.kind == "role",
               RoleAssignment.name.in_(SCOPE_ROLES))
    )
    return any(unit.path.startswith(path) for path in paths)
