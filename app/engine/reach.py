"""No route to nobody: every actor expression checked against the organisation as it is now.

For every step of every workflow (who acts, who signs, who hears of an escalation) and every
person who could be its subject, the expression must name someone: a supervisor up the chain,
or a holder of the role or seat at the unit (or above it, as the engine resolves). A gap names
the step, the expression, the unit where someone is missing and how many people it strands.

The whole organisation is read once and checked in memory, so the check stays cheap enough for
start-up and the HR dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from app.engine import actors as actor_exprs
from app.engine.definitions import WorkflowSpec
from app.org.models import OrgUnit, Person, RoleAssignment
from app.org.rows import Unit


@dataclass(frozen=True)
class Site:
    """Where a workflow names an actor: the step (a state), the expression, and what for."""

    workflow: str
    workflow_label: Any = field(compare=False)  # {en, zh}
    state: str = ""
    state_label: Any = field(default=None, compare=False)  # {en, zh}
    expr: str = ""
    purpose: str = "acts"  # acts | signs | escalation | filing


@dataclass
class Gap:
    """An expression that names nobody for some subjects."""

    site: Site
    why: str  # no_supervisor | no_level | no_holder
    unit: Unit  # where someone is missing (or, for no_level, the subjects' unit)
    level: str = ""
    people: int = 0
    subject_units: list[Unit] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)  # people stranded per subject unit

    def within(self, units: list[Unit]) -> Gap | None:
        """The same gap, for the people of some of its units only (None: none of them)."""
        wanted = {u.id for u in units}
        kept = [u for u in self.subject_units if u.id in wanted]
        if not kept:
            return None
        counts = {u.id: self.counts.get(u.id, 0) for u in kept}
        return Gap(self.site, self.why, self.unit, self.level, sum(counts.values()), kept,
                   counts)


def workflow_sites(specs: Iterable[WorkflowSpec]) -> list[Site]:
    """Every place the workflows name an actor (the initiator always exists: left out)."""
    sites: dict[tuple[str, str, str, str], Site] = {}

    def add(spec: WorkflowSpec, state: str, expr: str, purpose: str) -> None:
        if expr.startswith("initiator"):
            return
        key = (spec.workflow, state, expr, purpose)
        sites.setdefault(key, Site(spec.workflow, dict(spec.label), state,
                                   dict(spec.states[state].label), expr, purpose))

    for spec in specs:
        for transition in spec.transitions:
            for state in spec.source_states(transition):
                if state not in spec.states or spec.states[state].terminal:
                    continue
                for expr in transition.actors:
                    add(spec, state, expr, "acts")
                for slot in transition.sign_offs:
                    add(spec, state, slot.signer, "signs")
        for name, state_spec in spec.states.items():
            for rung in (state_spec.deadline.escalate if state_spec.deadline else []):
                add(spec, name, rung.to, "escalation")
    return list(sites.values())


@dataclass(frozen=True)
class _Someone:
    """What the check needs of a person (read as plain columns: thousands of people)."""

    id: int
    org_unit_id: int
    supervisor_id: int | None


class _Org:
    """The organisation read once: units, chains, holders, people."""

    def __init__(self, session: Session) -> None:
        self.units = {row[0]: Unit(*row) for row in session.exec(select(
            OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.name_en, OrgUnit.kind,
            OrgUnit.parent_id, OrgUnit.path))}
        rows = session.exec(select(Person.id, Person.org_unit_id, Person.supervisor_id,
                                   Person.active)).all()
        self.people = {pid: _Someone(pid, unit, boss) for pid, unit, boss, _ in rows}
        active = {pid for pid, _, _, is_active in rows if is_active}
        self.subjects = [self.people[pid] for pid in active]
        self.holders = {(kind, name, unit) for kind, name, unit, pid in session.exec(
            select(RoleAssignment.kind, RoleAssignment.name, RoleAssignment.org_unit_id,
                   RoleAssignment.person_id)) if pid in active}
        self._chains: dict[int, list[Unit]] = {}
        self._ups: dict[int, dict[int, tuple[_Someone | None, _Someone | None]]] = {}
        self._breaks: dict[int, list[tuple[_Someone, _Someone]]] = {}
        self.headcount: dict[int, int] = {}
        for someone in self.subjects:
            self.headcount[someone.org_unit_id] = self.headcount.get(someone.org_unit_id, 0) + 1

    def chain(self, unit_id: int) -> list[Unit]:
        if unit_id not in self._chains:
            unit = self.units.get(unit_id)
            ids = [int(p) for p in unit.path.strip("/").split("/") if p] if unit else []
            self._chains[unit_id] = [self.units[i] for i in reversed(ids) if i in self.units]
        return self._chains[unit_id]

    def at_top(self, person: _Someone) -> bool:
        """The head of the bank: nobody above them, by design."""
        unit = self.units.get(person.org_unit_id)
        return unit is not None and unit.parent_id is None

    def breaks(self, hops: int) -> list[tuple[_Someone, _Someone]]:
        """Everyone whose supervisor chain breaks within `hops` below the top, with where."""
        if hops not in self._breaks:
            found = []
            for subject in self.subjects:
                base, broke = self.up(subject, hops)
                if base is None and broke is not None and not self.at_top(broke):
                    found.append((subject, broke))
            self._breaks[hops] = found
        return self._breaks[hops]

    def up(self, person: _Someone, hops: int) -> tuple[_Someone | None, _Someone | None]:
        """The person `hops` supervisors up, or (None, where the chain broke); remembered."""
        known = self._ups.setdefault(hops, {})
        if person.id not in known:
            current = person
            found: tuple[_Someone | None, _Someone | None] = (person, None)
            for _ in range(hops):
                boss = self.people.get(current.supervisor_id) if current.supervisor_id else None
                if boss is None:
                    found = (None, current)
                    break
                current = boss
                found = (current, None)
            known[person.id] = found
        return known[person.id]


def _check(org: _Org, site: Site, gaps: dict[tuple, Gap]) -> None:
    ref = actor_exprs.parse(site.expr)

    def gap(why: str, unit: Unit, home_id: int, count: int, level: str = "") -> None:
        found = gaps.setdefault((site, why, unit.id), Gap(site, why, unit, level))
        found.people += count
        found.counts[home_id] = found.counts.get(home_id, 0) + count

    if isinstance(ref, actor_exprs.PersonRef):
        for subject, broke in org.breaks(ref.hops):
            gap("no_supervisor", org.units[broke.org_unit_id], subject.org_unit_id, 1)
        return
    base_ref = ref.unit.person
    if base_ref is None or base_ref.hops == 0:
        for unit_id, count in org.headcount.items():  # the subject's own unit decides
            found = _group_gap(org, ref, unit_id)
            if found is not None:
                gap(found[0], found[1], unit_id, count, found[2])
        return
    for subject in org.subjects:  # a role relative to someone up the chain: person by person
        base, _ = org.up(subject, base_ref.hops)
        if base is not None and (found := _group_gap(org, ref, base.org_unit_id)) is not None:
            gap(found[0], found[1], subject.org_unit_id, 1, found[2])


def _group_gap(org: _Org, ref: actor_exprs.GroupRef, unit_id: int
               ) -> tuple[str, Unit, str] | None:
    """Why a role or seat names nobody for someone in a unit (None: somebody holds it)."""
    chain = org.chain(unit_id)
    unit = actor_exprs.level_unit(chain, ref.unit.level)
    if unit is None:
        if ref.unit.level != "supervising_branch" and chain:
            # one gap per top-level unit (a branch under the head office), not per sub-branch
            return "no_level", chain[-2] if len(chain) > 1 else chain[0], ref.unit.level
        return None  # a supervising branch only exists for subordinate branches
    if not any((ref.kind, ref.name, u.id) in org.holders for u in org.chain(unit.id)):
        return "no_holder", unit, ""
    return None


def unreached(session: Session, sites: list[Site]) -> list[Gap]:
    """Every site that names nobody for some active person, by step and unit."""
    org = _Org(session)
    gaps: dict[tuple, Gap] = {}
    for site in sites:
        _check(org, site, gaps)
    for found in gaps.values():
        found.subject_units = [org.units[i] for i in found.counts if i in org.units]
    return sorted(gaps.values(), key=lambda g: (g.site.workflow, g.site.state, g.site.expr,
                                                g.unit.path))
