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
    unit: OrgUnit  # where someone is missing (or, for no_level, the subjects' unit)
    level: str = ""
    people: int = 0
    subject_units: list[OrgUnit] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)  # people stranded per subject unit

    def within(self, units: list[OrgUnit]) -> Gap | None:
        """The same gap, for the people of some of its units only (None: none of them)."""
        kept = [u for u in self.subject_units if u in units]
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


class _Org:
    """The organisation read once: units, chains, holders, people."""

    def __init__(self, session: Session) -> None:
        self.units = {u.id: u for u in session.exec(select(OrgUnit))}
        self.people = {p.id: p for p in session.exec(select(Person))}
        active = {pid for pid, p in self.people.items() if p.active}
        self.holders = {(a.kind, a.name, a.org_unit_id) for a in session.exec(
            select(RoleAssignment)) if a.person_id in active}
        self._chains: dict[int, list[OrgUnit]] = {}
        self.headcount: dict[int, int] = {}
        for pid in active:
            unit_id = self.people[pid].org_unit_id
            self.headcount[unit_id] = self.headcount.get(unit_id, 0) + 1

    def chain(self, unit_id: int) -> list[OrgUnit]:
        if unit_id not in self._chains:
            unit = self.units.get(unit_id)
            ids = [int(p) for p in unit.path.strip("/").split("/") if p] if unit else []
            self._chains[unit_id] = [self.units[i] for i in reversed(ids) if i in self.units]
        return self._chains[unit_id]

    def at_top(self, person: Person) -> bool:
        """The head of the bank: nobody above them, by design."""
        unit = self.units.get(person.org_unit_id)
        return unit is not None and unit.parent_id is None

    def up(self, person: Person, hops: int) -> tuple[Person | None, Person | None]:
        """The person `hops` supervisors up, or (None, where the chain broke)."""
        current = person
        for _ in range(hops):
            boss = self.people.get(current.supervisor_id) if current.supervisor_id else None
            if boss is None:
                return None, current
            current = boss
        return current, None


def _check(org: _Org, site: Site, subjects: list[Person], gaps: dict[tuple, Gap]) -> None:
    ref = actor_exprs.parse(site.expr)

    def gap(why: str, unit: OrgUnit, home_id: int, count: int, level: str = "") -> None:
        found = gaps.setdefault((site, why, unit.id), Gap(site, why, unit, level))
        found.people += count
        found.counts[home_id] = found.counts.get(home_id, 0) + count
        home = org.units.get(home_id)
        if home is not None and home not in found.subject_units:
            found.subject_units.append(home)

    base_ref = ref if isinstance(ref, actor_exprs.PersonRef) else ref.unit.person
    if isinstance(ref, actor_exprs.GroupRef) and (base_ref is None or base_ref.hops == 0):
        for unit_id, count in org.headcount.items():  # the subject's own unit decides
            found = _group_gap(org, ref, unit_id)
            if found is not None:
                gap(found[0], found[1], unit_id, count, found[2])
        return
    for subject in subjects:
        base, broke = org.up(subject, base_ref.hops if base_ref else 0)
        if base is None:
            if broke is not None and not org.at_top(broke) and isinstance(
                    ref, actor_exprs.PersonRef):
                gap("no_supervisor", org.units[broke.org_unit_id], subject.org_unit_id, 1)
            continue
        if isinstance(ref, actor_exprs.GroupRef):
            found = _group_gap(org, ref, base.org_unit_id)
            if found is not None:
                gap(found[0], found[1], subject.org_unit_id, 1, found[2])


def _group_gap(org: _Org, ref: actor_exprs.GroupRef, unit_id: int
               ) -> tuple[str, OrgUnit, str] | None:
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
    subjects = [p for p in org.people.values() if p.active]
    gaps: dict[tuple, Gap] = {}
    for site in sites:
        _check(org, site, subjects, gaps)
    return sorted(gaps.values(), key=lambda g: (g.site.workflow, g.site.state, g.site.expr,
                                                g.unit.path))
