"""Directory groups to Stepwise roles: the seats the mapping names follow the directory at each
sign-in; seats it does not name stay as HR set them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ldap3.utils.dn import safe_dn
from sqlmodel import Session, select

from app.config import Settings
from app.org.models import OrgUnit, Person, RoleAssignment

log = logging.getLogger("stepwise.directory")
ADMIN = "admin"


@dataclass(frozen=True)
class Seat:
    """A role or committee seat at a unit, named by the unit's code."""

    kind: str
    name: str
    unit_code: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}@{self.unit_code}"


def parse_grant(grant: str) -> Seat | None:
    """`role:hr@BR01` → Seat("role", "hr", "BR01"); `admin` → None (the administrator flag)."""
    if grant == ADMIN:
        return None
    kind, _, rest = grant.partition(":")
    name, _, code = rest.partition("@")
    return Seat(kind, name, code)


def normal_dn(dn: str) -> str:
    """A DN compared the way directories do: case and spacing around commas do not count."""
    try:
        return safe_dn(dn).lower()
    except Exception:  # noqa: BLE001 - a malformed DN is compared as written
        return dn.strip().lower()


def granted(settings: Settings, groups: list[str]) -> tuple[bool, set[Seat]]:
    """Whether the groups make the person an administrator, and the seats they grant."""
    mine = {normal_dn(g) for g in groups}
    admin, seats = False, set()
    for group, grant in settings.directory_group_roles.items():
        if normal_dn(group) not in mine:
            continue
        seat = parse_grant(grant)
        if seat is None:
            admin = True
        else:
            seats.add(seat)
    return admin, seats


def sync_roles(db_session: Session, *, person: Person, groups: list[str],
               settings: Settings) -> None:
    """Give and take the mapped seats (and the administrator flag, when mapped) so they match
    the person's directory groups; unmapped seats are left alone."""
    mapping = settings.directory_group_roles
    if not mapping:
        return
    admin, wanted = granted(settings, groups)
    if ADMIN in mapping.values() and person.is_admin != admin:
        person.is_admin = admin
        db_session.add(person)
        log.info("directory: person %s administrator=%s", person.id, admin)
    managed = {s for s in (parse_grant(g) for g in mapping.values()) if s is not None}
    codes = {s.unit_code for s in managed}
    units = {u.code: u for u in db_session.exec(select(OrgUnit).where(OrgUnit.code.in_(codes)))}
    held = list(db_session.exec(select(RoleAssignment).where(
        RoleAssignment.person_id == person.id)))
    code_of = {u.id: code for code, u in units.items()}
    have = {Seat(r.kind, r.name, code_of[r.org_unit_id]): r for r in held
            if r.org_unit_id in code_of}
    for seat in sorted(managed, key=str):
        unit = units.get(seat.unit_code)
        if unit is None:
            log.warning("directory: STEPWISE_DIRECTORY_GROUP_ROLES names unit %s, which does "
                        "not exist", seat.unit_code)
            continue
        if seat in wanted and seat not in have:
            db_session.add(RoleAssignment(person_id=person.id, kind=seat.kind, name=seat.name,
                                          org_unit_id=unit.id))
            log.info("directory: person %s given %s", person.id, seat)
        elif seat not in wanted and seat in have:
            db_session.delete(have[seat])
            log.info("directory: person %s no longer %s", person.id, seat)
    db_session.flush()
