"""Organisation services: build the tree, add people, hand out roles and seats."""

from __future__ import annotations

from sqlmodel import Session, select

from app.errors import NotFound, ValidationFailed
from app.i18n import Message
from app.org.models import OrgUnit, Person, RoleAssignment, UnitKind

ROLE_KINDS = ("role", "committee")


def unit_path(parent: OrgUnit | None, unit_id: int) -> str:
    """The materialised path of a unit under its parent."""
    return f"{parent.path if parent else '/'}{unit_id}/"


def create_unit(
    session: Session,
    *,
    code: str,
    name: str,
    kind: UnitKind | str,
    parent: OrgUnit | None = None,
    name_en: str = "",
) -> OrgUnit:
    """Add an org unit under a parent (None for the head office)."""
    unit = OrgUnit(code=code, name=name, name_en=name_en, kind=str(kind),
                   parent_id=parent.id if parent else None)
    session.add(unit)
    session.flush()
    unit.path = unit_path(parent, unit.id)
    session.flush()
    return unit


def move_unit(session: Session, *, unit: OrgUnit, parent: OrgUnit | None) -> None:
    """Re-hang a unit (and its subtree) under another parent, keeping paths true."""
    if parent is not None and parent.path.startswith(unit.path):
        raise ValidationFailed(
            "A unit cannot be moved below itself.",
            field_errors={"parent": Message("A unit cannot be moved below itself.")},
        )
    old = unit.path
    unit.parent_id = parent.id if parent else None
    unit.path = unit_path(parent, unit.id)
    for child in session.exec(select(OrgUnit).where(OrgUnit.path.startswith(old),
                                                    OrgUnit.id != unit.id)):
        child.path = unit.path + child.path[len(old):]
    session.flush()


def subtree_ids(session: Session, unit: OrgUnit) -> list[int]:
    """Ids of a unit and every unit below it."""
    return list(session.exec(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))


def get_unit_by_code(session: Session, code: str) -> OrgUnit:
    """A unit by its code."""
    unit = session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()
    if unit is None:
        raise NotFound("No org unit with code {code}.", code=code)
    return unit


def get_person_by_number(session: Session, employee_no: str) -> Person | None:
    """A person by employee number."""
    return session.exec(select(Person).where(Person.employee_no == employee_no)).first()


def assign(
    session: Session, *, person: Person, kind: str, name: str, unit: OrgUnit
) -> RoleAssignment:
    """Give a person a role or a committee seat at a unit (idempotent)."""
    if kind not in ROLE_KINDS:
        raise ValueError(f"kind must be one of {ROLE_KINDS}")
    existing = session.exec(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.kind == kind,
            RoleAssignment.name == name,
            RoleAssignment.org_unit_id == unit.id,
        )
    ).first()
    if existing:
        return existing
    row = RoleAssignment(person_id=person.id, kind=kind, name=name, org_unit_id=unit.id)
    session.add(row)
    session.flush()
    return row


def assignments_of(session: Session, person_id: int) -> list[RoleAssignment]:
    """Every role and seat a person holds."""
    return list(session.exec(select(RoleAssignment).where(RoleAssignment.person_id == person_id)))


def supervisor_chain(session: Session, person: Person, limit: int = 20) -> list[Person]:
    """The person's supervisor, their supervisor, and so on (cycle-safe)."""
    chain: list[Person] = []
    seen = {person.id}
    current = person
    while current.supervisor_id and len(chain) < limit:
        boss = session.get(Person, current.supervisor_id)
        if boss is None or boss.id in seen:
            break
        chain.append(boss)
        seen.add(boss.id)
        current = boss
    return chain
