"""Actor expressions (`subject.supervisor`, `role:hr@subject.branch`…) and whom they name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from app.engine import handover
from app.engine.models import WorkflowInstance
from app.org.models import Delegation, OrgUnit, Person, RoleAssignment, UnitKind

PERSON_BASES = ("subject", "initiator")
UNIT_LEVELS = ("unit", "sub_branch", "branch", "province", "head_office", "supervising_branch")
# The levels of the tree, highest first (departments and outlets belong to the unit above).
RANKS = {"head_office": 0, "province": 1, "branch": 2, "sub_branch": 3}
_PERSON_RE = re.compile(r"^(subject|initiator)((?:\.supervisor)*)$")
_GROUP_RE = re.compile(r"^(role|committee):([a-z][a-z0-9_]*)@(.+)$")


@dataclass(frozen=True)
class PersonRef:
    """A person relative to the instance: its subject or initiator, N supervisors up."""

    base: str
    hops: int


@dataclass(frozen=True)
class UnitRef:
    """An org unit relative to a person: their own unit or an ancestor of a given level."""

    person: PersonRef | None
    level: str


@dataclass(frozen=True)
class GroupRef:
    """Holders of a role, or members of a committee, at a unit."""

    kind: str
    name: str
    unit: UnitRef


ActorRef = PersonRef | GroupRef


@dataclass(frozen=True)
class Assignee:
    """Where a task goes: one person, or a group at a unit."""

    person_id: int | None = None
    group_kind: str | None = None
    group_name: str | None = None
    org_unit_id: int | None = None


def _parse_person(text: str) -> PersonRef | None:
    match = _PERSON_RE.match(text)
    if not match:
        return None
    return PersonRef(match.group(1), match.group(2).count(".supervisor"))


def _parse_unit(text: str) -> UnitRef:
    if text == "head_office":
        return UnitRef(None, "head_office")
    person_part, _, level = text.rpartition(".")
    person = _parse_person(person_part)
    if person is None or level not in UNIT_LEVELS:
        raise ValueError(
            f"'{text}' is not a unit (use e.g. subject.branch, subject.unit, head_office; "
            f"levels: {', '.join(UNIT_LEVELS)})"
        )
    return UnitRef(person, level)


def level_unit(chain: list[OrgUnit], level: str) -> OrgUnit | None:
    """The unit of a level above a unit, given the unit and its ancestors nearest first.

    Someone sitting above the level (a head-office or provincial employee asked for their
    "branch") is their own level: the nearest unit of theirs that ranks higher stands in.
    A missing level below them (no provincial branch above a branch) is None: nobody.
    """
    if not chain:
        return None
    if level == "unit":
        return chain[0]
    if level == "head_office":
        return chain[-1]
    if level == "supervising_branch":
        branches = [u for u in chain if u.kind in (UnitKind.branch, UnitKind.province)]
        return branches[1] if len(branches) > 1 else None
    found = next((u for u in chain if u.kind == level), None)
    if found is not None or level not in RANKS:
        return found
    own = next((u for u in chain if u.kind in RANKS), None)
    if own is not None and RANKS[own.kind] < RANKS[level]:
        return own
    return None


def parse(expr: str) -> ActorRef:
    """Parse an actor expression or raise ValueError saying what is wrong."""
    text = expr.strip()
    person = _parse_person(text)
    if person is not None:
        return person
    match = _GROUP_RE.match(text)
    if match:
        return GroupRef(match.group(1), match.group(2), _parse_unit(match.group(3)))
    raise ValueError(
        f"'{expr}' is not an actor expression (use subject, subject.supervisor, "
        f"role:NAME@subject.branch or committee:NAME@subject.branch)"
    )


class ActorResolver:
    """Resolves actor expressions for one instance, caching look-ups for one action."""

    def __init__(self, session: Session, instance: WorkflowInstance) -> None:
        self.session = session
        self.instance = instance
        self._people: dict[int, Person | None] = {}
        self._chains: dict[int, list[OrgUnit]] = {}
        self._holders: dict[tuple[str, str, int], set[int]] = {}
        self._principals: dict[tuple[int, date], list[int]] = {}
        self._handed: dict[int, set[str]] = {}

    def person(self, person_id: int | None) -> Person | None:
        """A person by id, cached."""
        if person_id is None:
            return None
        if person_id not in self._people:
            self._people[person_id] = self.session.get(Person, person_id)
        return self._people[person_id]

    def resolve_person(self, ref: PersonRef) -> int | None:
        """The id of the person a reference points at, if there is one."""
        base_id = self.instance.subject_id if ref.base == "subject" else self.instance.initiator_id
        current = self.person(base_id)
        for _ in range(ref.hops):
            if current is None:
                return None
            current = self.person(current.supervisor_id)
        return current.id if current else None

    def principals(self, delegate_id: int, on: date) -> list[int]:
        """Who has delegated this instance's workflow to the person on that day, cached: a
        page asks it for every action the person might take."""
        key = (delegate_id, on)
        if key not in self._principals:
            self._principals[key] = active_principals(self.session, delegate_id, on,
                                                      self.instance.workflow)
        return self._principals[key]

    def handed_over(self, person_id: int) -> set[str]:
        """The actor expressions of this instance's open tasks handed to the person, cached."""
        if person_id not in self._handed:
            self._handed[person_id] = handover.handed_over_exprs(self.session, self.instance,
                                                                 person_id)
        return self._handed[person_id]

    def unit_chain(self, unit_id: int) -> list[OrgUnit]:
        """A unit and its ancestors, nearest first."""
        if unit_id not in self._chains:
            unit = self.session.get(OrgUnit, unit_id)
            if unit is None:
                self._chains[unit_id] = []
            else:
                ids = [int(p) for p in unit.path.strip("/").split("/") if p]
                units = {
                    u.id: u for u in self.session.exec(select(OrgUnit).where(OrgUnit.id.in_(ids)))
                }
                self._chains[unit_id] = [units[i] for i in reversed(ids) if i in units]
        return self._chains[unit_id]

    def resolve_unit(self, ref: UnitRef) -> OrgUnit | None:
        """The unit a unit reference points at, or None when the tree has no such level."""
        if ref.person is None:
            base_unit = self.instance.org_unit_id
        else:
            person = self.person(self.resolve_person(ref.person))
            if person is None:
                return None
            base_unit = person.org_unit_id
        return level_unit(self.unit_chain(base_unit), ref.level)

    def holders(self, kind: str, name: str, unit_id: int) -> set[int]:
        """Ids of people holding a role (or seat) at exactly this unit."""
        key = (kind, name, unit_id)
        if key not in self._holders:
            rows = self.session.exec(
                select(RoleAssignment.person_id).where(
                    RoleAssignment.kind == kind,
                    RoleAssignment.name == name,
                    RoleAssignment.org_unit_id == unit_id,
                )
            )
            self._holders[key] = set(rows)
        return self._holders[key]

    def group_unit(self, ref: GroupRef) -> OrgUnit | None:
        """The unit whose holders act for the group: the named unit, else the nearest
        ancestor that has holders (a bank may keep HR only at the provincial branch)."""
        unit = self.resolve_unit(ref.unit)
        if unit is None:
            return None
        for candidate in self.unit_chain(unit.id):
            if self.holders(ref.kind, ref.name, candidate.id):
                return candidate
        return unit

    def assignee(self, expr: str) -> Assignee | None:
        """Where a task for this expression goes, or None when nobody fits."""
        ref = parse(expr)
        if isinstance(ref, PersonRef):
            person_id = self.resolve_person(ref)
            return Assignee(person_id=person_id) if person_id else None
        unit = self.group_unit(ref)
        if unit is None:
            return None
        return Assignee(group_kind=ref.kind, group_name=ref.name, org_unit_id=unit.id)

    def matches(self, expr: str, person_id: int) -> bool:
        """Whether a person is among those the expression names."""
        ref = parse(expr)
        if isinstance(ref, PersonRef):
            return self.resolve_person(ref) == person_id
        unit = self.group_unit(ref)
        return unit is not None and person_id in self.holders(ref.kind, ref.name, unit.id)


def active_principals(
    session: Session, delegate_id: int, on: date, workflow: str | None = None
) -> list[int]:
    """People who have delegated to this person for that day (and workflow, if scoped)."""
    query = select(Delegation).where(
        Delegation.delegate_id == delegate_id,
        Delegation.starts_on <= on,
        Delegation.ends_on >= on,
        Delegation.revoked_at.is_(None),
    )
    return [
        d.principal_id
        for d in session.exec(query)
        if workflow is None or d.workflow is None or d.workflow == workflow
    ]
