"""Authentication: check an employee number and password; list the demo accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from app.errors import NotAuthenticated
from app.org.models import OrgUnit, Person, RoleAssignment
from app.org.service import get_person_by_number

DEMO_PASSWORD = "demo"


@dataclass
class Seat:
    """A role or committee seat someone holds, with its unit."""

    kind: str
    name: str
    unit: OrgUnit | None


@dataclass
class DemoAccount:
    """A person a visitor may sign in as in demo mode."""

    person: Person
    unit: OrgUnit | None
    seats: list[Seat] = field(default_factory=list)


def authenticate(*, db_session: Session, employee_no: str, password: str) -> Person:
    """The active person with this employee number and password, or NotAuthenticated."""
    person = get_person_by_number(db_session, employee_no.strip())
    if person is None or not person.active or not person.password_hash:
        verify_password(dummy_hash(), password)
        raise NotAuthenticated("The employee number or the password is not correct.")
    if not verify_password(person.password_hash, password):
        raise NotAuthenticated("The employee number or the password is not correct.")
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    return person


def set_password(*, db_session: Session, person: Person, password: str) -> None:
    """Give a person a new password (stored only as its hash)."""
    person.password_hash = hash_password(password)
    db_session.add(person)
    db_session.flush()


def demo_accounts(*, db_session: Session) -> list[DemoAccount]:
    """Every active person who can sign in, with unit and seats, ordered by employee number."""
    people = list(
        db_session.exec(
            select(Person)
            .where(Person.password_hash.is_not(None), Person.active.is_(True))
            .order_by(Person.employee_no)
        )
    )
    if not people:
        return []
    ids = [p.id for p in people]
    rows = list(db_session.exec(select(RoleAssignment).where(RoleAssignment.person_id.in_(ids))))
    unit_ids = {p.org_unit_id for p in people} | {r.org_unit_id for r in rows}
    units = {u.id: u for u in db_session.exec(select(OrgUnit).where(OrgUnit.id.in_(unit_ids)))}
    accounts = {p.id: DemoAccount(p, units.get(p.org_unit_id)) for p in people}
    for row in sorted(rows, key=lambda r: (r.kind, r.name)):
        accounts[row.person_id].seats.append(Seat(row.kind, row.name, units.get(row.org_unit_id)))
    return list(accounts.values())
