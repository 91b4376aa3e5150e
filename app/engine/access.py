"""Need-to-know: who may see an instance, as one rule for pages, lists and the API."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlmodel import Session, select

from app import clock
from app.engine.actors import active_principals
from app.engine.models import Task, WorkflowInstance
from app.org.models import OrgUnit, Person, RoleAssignment

# Roles whose holders see every case of their unit and the units below it.
SCOPE_ROLES = ("hr",)


def _subordinates_cte(person_id: int):  # noqa: ANN202 - a SQLAlchemy CTE
    """Everyone below a person in the supervisor chain, at any depth."""
    base = select(Person.id).where(Person.supervisor_id == person_id).cte(recursive=True)
    below = select(Person.id).where(Person.supervisor_id == base.c.id)
    return base.union(below)


def visible_filter(session: Session, person: Person) -> ColumnElement[bool]:
    """A WHERE condition on WorkflowInstance selecting what this person may see."""
    reports = _subordinates_cte(person.id)
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
    has_task = exists().where(Task.instance_id == WorkflowInstance.id, or_(*task_conditions))
    in_scope = (
        exists().where(OrgUnit.id == WorkflowInstance.org_unit_id,
                       or_(*[OrgUnit.path.startswith(path) for path in scopes]))
        if scopes else false()
    )
    return or_(
        WorkflowInstance.subject_id == person.id,
        WorkflowInstance.initiator_id == person.id,
        WorkflowInstance.subject_id.in_(select(reports.c.id)),
        in_scope,
        has_task,
    )


def can_view(session: Session, person: Person, instance: WorkflowInstance) -> bool:
    """Whether a person may see one instance (same rule as the list filter)."""
    found = session.exec(
        select(WorkflowInstance.id).where(WorkflowInstance.id == instance.id,
                                          visible_filter(session, person))
    ).first()
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
