"""Need-to-know for the directory: whom and which units a person may look up.

A person sees themselves, their colleagues in the same unit, everyone above and below them in
the supervisor chain, and — holding HR's scope role — everyone in the units at and below their
seat. Units follow: the units of the people one may see with the units above them, and HR's
subtrees. Anyone else is "not found", as for cases.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.engine.access import SCOPE_ROLES
from app.org.models import OrgUnit, Person, RoleAssignment
from app.org.service import supervisor_chain


def scope_paths(db_session: Session, viewer: Person) -> list[str]:
    """The paths of the units where the viewer holds HR's scope role."""
    return list(db_session.exec(
        select(OrgUnit.path).join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
        .where(RoleAssignment.person_id == viewer.id, RoleAssignment.kind == "role",
               col(RoleAssignment.name).in_(SCOPE_ROLES))))


def _below(viewer_id: int):  # noqa: ANN202 - a SQLAlchemy CTE
    """Everyone below the viewer in the supervisor chain, at any depth."""
    base = select(Person.id).where(Person.supervisor_id == viewer_id).cte(recursive=True)
    return base.union(select(Person.id).where(Person.supervisor_id == base.c.id))


def _in_paths(unit_id_column, paths: list[str]) -> ColumnElement[bool]:  # noqa: ANN001
    if not paths:
        return false()
    unit = aliased(OrgUnit)  # its own name: the outer query may read org_unit too
    return exists().where(unit.id == unit_id_column,
                          or_(*[unit.path.startswith(p) for p in paths]))


def people_filter(db_session: Session, viewer: Person) -> ColumnElement[bool]:
    """A WHERE condition on Person: the people the viewer may look up."""
    above = [p.id for p in supervisor_chain(db_session, viewer)]
    below = _below(viewer.id)
    return or_(Person.id == viewer.id, Person.org_unit_id == viewer.org_unit_id,
               col(Person.id).in_(above), col(Person.id).in_(select(below.c.id)),
               _in_paths(Person.org_unit_id, scope_paths(db_session, viewer)))


def may_see_person(db_session: Session, viewer: Person, person_id: int) -> bool:
    """Whether the viewer may look this person up."""
    found = db_session.exec(select(Person.id).where(
        Person.id == person_id, people_filter(db_session, viewer))).first()
    return found is not None


def units_filter(db_session: Session, viewer: Person) -> ColumnElement[bool]:
    """A WHERE condition on OrgUnit: the units the viewer may look up."""
    unit_paths = list(db_session.exec(
        select(OrgUnit.path).join(Person, Person.org_unit_id == OrgUnit.id)
        .where(people_filter(db_session, viewer)).distinct()))
    ancestors = {int(part) for path in unit_paths for part in path.strip("/").split("/")
                 if part}
    scopes = scope_paths(db_session, viewer)
    return or_(col(OrgUnit.id).in_(ancestors or {0}),
               *[col(OrgUnit.path).startswith(p) for p in scopes])
