"""HR scope for reports: the units an HR person answers for, and drilling down inside them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.engine.access import SCOPE_ROLES
from app.errors import NotAllowed, NotFound
from app.org.models import OrgUnit, Person, RoleAssignment
from app.org.rows import Unit


@dataclass(frozen=True)
class Scope:
    """The subtrees an HR person sees: every unit whose path starts with one of `roots`."""

    person_id: int
    roots: tuple[OrgUnit, ...]

    def covers(self, unit: OrgUnit | None) -> bool:
        """Whether a unit lies inside one of the subtrees."""
        return unit is not None and any(unit.path.startswith(r.path) for r in self.roots)


def hr_scope(session: Session, person: Person) -> Scope:
    """The person's HR scope; people without an HR seat get NotAllowed."""
    units = list(session.exec(
        select(OrgUnit)
        .join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
        .where(RoleAssignment.person_id == person.id, RoleAssignment.kind == "role",
               RoleAssignment.name.in_(SCOPE_ROLES))
        .order_by(OrgUnit.path)
    ))
    # A seat inside another seat's subtree adds nothing.
    roots: list[OrgUnit] = []
    for unit in units:
        if not any(unit.path.startswith(r.path) for r in roots):
            roots.append(unit)
    if not roots:
        raise NotAllowed("Reports are for HR; you hold no HR role.")
    return Scope(person.id, tuple(roots))


def has_hr_scope(session: Session, person: Person) -> bool:
    """Whether the person holds an HR seat anywhere (for showing links)."""
    try:
        hr_scope(session, person)
    except NotAllowed:
        return False
    return True


def focus_unit(session: Session, scope: Scope, unit_id: int | None) -> OrgUnit | None:
    """The unit asked for, if in scope; None means the whole scope. Others do not exist."""
    if unit_id is None:
        return scope.roots[0] if len(scope.roots) == 1 else None
    unit = session.get(OrgUnit, unit_id)
    if not scope.covers(unit):
        raise NotFound("No unit {id} in your scope.", id=unit_id)
    return unit


def units_below(session: Session, scope: Scope, focus: OrgUnit | None) -> list[Unit]:
    """Every unit of the focus's subtree (of the whole scope when focus is None)."""
    prefixes = [focus.path] if focus is not None else [r.path for r in scope.roots]
    found: dict[int, Unit] = {}
    for prefix in prefixes:
        rows = session.exec(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.name_en, OrgUnit.kind,
                   OrgUnit.parent_id, OrgUnit.path).where(col(OrgUnit.path).startswith(prefix)))
        for row in rows:
            found[row[0]] = Unit(*row)
    return sorted(found.values(), key=lambda u: u.path)


def unit_count(session: Session) -> int:
    """How many units the organisation has."""
    return int(session.exec(select(func.count()).select_from(OrgUnit)).one())


def children(scope: Scope, focus: OrgUnit | None, units: list[Unit]) -> list[Unit | OrgUnit]:
    """The next level down from the focus (the scope's roots when focus is None)."""
    if focus is None:
        return list(scope.roots)
    return [u for u in units if u.parent_id == focus.id]


def rollup_key(unit_path: str, focus: OrgUnit | None, kids: list[Unit | OrgUnit]) -> int | None:
    """Which child a unit's numbers roll up into; None for the focus unit itself."""
    for kid in kids:
        if unit_path.startswith(kid.path):
            return kid.id
    return None


def breadcrumb(session: Session, scope: Scope, focus: OrgUnit | None) -> list[OrgUnit]:
    """The focus's ancestors inside the scope, top first, ending with the focus."""
    if focus is None:
        return []
    ids = [int(part) for part in focus.path.strip("/").split("/") if part]
    units = {u.id: u for u in session.exec(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [units[i] for i in ids if i in units and scope.covers(units[i])]
