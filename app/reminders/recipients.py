"""Who hears about a task: whoever must act next, their delegates, and the escalation ladder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from app.engine.actors import ActorResolver
from app.engine.models import Task, WorkflowInstance
from app.org.models import Delegation, Person, RoleAssignment


@dataclass(frozen=True)
class Recipient:
    """A person to write to; `on_behalf_of_id` when they hear as someone's delegate."""

    person: Person
    on_behalf_of_id: int | None = None


def delegates_of(session: Session, principal_id: int, on: date, workflow: str) -> list[int]:
    """People acting for an absent principal that day (for this workflow, if scoped)."""
    rows = session.exec(
        select(Delegation).where(
            Delegation.principal_id == principal_id,
            Delegation.starts_on <= on,
            Delegation.ends_on >= on,
            Delegation.revoked_at.is_(None),
        )
    )
    return [d.delegate_id for d in rows if d.workflow is None or d.workflow == workflow]


def group_holders(session: Session, kind: str, name: str, unit_id: int) -> list[int]:
    """Holders of a role, or members of a committee, at one unit."""
    rows = session.exec(
        select(RoleAssignment.person_id).where(
            RoleAssignment.kind == kind,
            RoleAssignment.name == name,
            RoleAssignment.org_unit_id == unit_id,
        )
    )
    return sorted(set(rows))


class Directory:
    """People and the delegations they gave for one day; a sweep reads them for a whole batch
    of tasks in a few statements (`load`), anything else is read when first asked for."""

    def __init__(self, session: Session, on: date) -> None:
        self.session = session
        self.on = on
        self._people: dict[int, Person | None] = {}
        self._delegations: dict[int, list[Delegation]] = {}

    def load(self, person_ids: Iterable[int | None]) -> None:
        """Read these people, the delegations they gave for the day, and their delegates."""
        wanted = sorted({i for i in person_ids if i is not None} - self._delegations.keys())
        if not wanted:
            return
        self._read_people(wanted)
        for person_id in wanted:
            self._delegations[person_id] = []
        for row in self._active(Delegation.principal_id.in_(wanted)):
            self._delegations[row.principal_id].append(row)
        self._read_people([d.delegate_id for i in wanted for d in self._delegations[i]])

    def _read_people(self, ids: list[int]) -> None:
        wanted = sorted(set(ids) - self._people.keys())
        if wanted:
            found = {p.id: p for p in self.session.exec(select(Person).where(
                Person.id.in_(wanted)))}  # type: ignore[union-attr]
            self._people.update({i: found.get(i) for i in wanted})

    def _active(self, condition: object) -> Iterable[Delegation]:
        return self.session.exec(
            select(Delegation).where(
                condition,  # type: ignore[arg-type]
                Delegation.starts_on <= self.on,
                Delegation.ends_on >= self.on,
                Delegation.revoked_at.is_(None),
            ).order_by(Delegation.id)
        )

    def person(self, person_id: int) -> Person | None:
        """A person by id."""
        if person_id not in self._people:
            self._people[person_id] = self.session.get(Person, person_id)
        return self._people[person_id]

    def delegates_of(self, principal_id: int, workflow: str) -> list[int]:
        """People acting for an absent principal that day (for this workflow, if scoped)."""
        if principal_id not in self._delegations:
            self._delegations[principal_id] = list(
                self._active(Delegation.principal_id == principal_id))
        return [d.delegate_id for d in self._delegations[principal_id]
                if d.workflow is None or d.workflow == workflow]


def _with_delegates(
    directory: Directory, person_ids: list[int], workflow: str
) -> list[Recipient]:
    """The people themselves, then whoever acts for each of them that day; active people only."""
    out: list[Recipient] = []
    seen: set[int] = set()

    def add(person_id: int, principal_id: int | None) -> None:
        person = directory.person(person_id)
        if person is None or not person.active or person_id in seen:
            return
        seen.add(person_id)
        out.append(Recipient(person, principal_id))

    for person_id in person_ids:
        add(person_id, None)
    for person_id in person_ids:
        for delegate_id in directory.delegates_of(person_id, workflow):
            add(delegate_id, person_id)
    return out


def task_people(session: Session, task: Task) -> list[int]:
    """The people a task waits on: its assignee, or the group's holders at its unit."""
    if task.assignee_id is not None:
        return [task.assignee_id]
    if task.group_kind and task.group_name and task.org_unit_id is not None:
        return group_holders(session, task.group_kind, task.group_name, task.org_unit_id)
    return []


def task_recipients(
    session: Session, task: Task, instance: WorkflowInstance, on: date,
    directory: Directory | None = None,
) -> list[Recipient]:
    """Whoever must act next on a task, and the delegates of those who are away."""
    return _with_delegates(directory or Directory(session, on), task_people(session, task),
                           instance.workflow)


def expression_people(session: Session, instance: WorkflowInstance, expr: str) -> list[int]:
    """The people an actor expression names for this instance (a person or a group)."""
    resolver = ActorResolver(session, instance)
    assignee = resolver.assignee(expr)
    if assignee is None:
        return []
    if assignee.person_id is not None:
        return [assignee.person_id]
    assert assignee.group_kind and assignee.group_name and assignee.org_unit_id is not None
    return group_holders(session, assignee.group_kind, assignee.group_name, assignee.org_unit_id)


def escalation_recipients(
    session: Session, instance: WorkflowInstance, expr: str, on: date,
    directory: Directory | None = None,
) -> list[Recipient]:
    """The rung's people, named from the case (so an absent assignee's own supervisor hears of
    it, never the delegate's), plus whoever acts for them that day."""
    return _with_delegates(directory or Directory(session, on),
                           expression_people(session, instance, expr), instance.workflow)
