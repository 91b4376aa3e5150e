"""Staffing quota per branch (DOMAIN §6): the figures HR keeps, the units counted from the
organisation tree, and the headcount each branch and the whole area get."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from app import clock
from app.engine.access import SCOPE_ROLES
from app.errors import NotAllowed, NotFound
from app.org.models import OrgUnit, Person, RoleAssignment, UnitKind
from app.promotions.models import StaffingFigures
from app.promotions.schemes import Scheme, get_scheme
from app.promotions.staffing import Figures, Quota, StaffingFormula, compute

FIGURE_FIELDS = ("second_level_units", "asset_liability_size", "corporate_deposit_growth",
                 "corporate_risk_asset_growth", "sme_credit_lines_start", "sme_credit_lines_end",
                 "first_year")


@dataclass
class BranchQuota:
    """One branch's figures and computed headcount."""

    branch: OrgUnit
    units: list[OrgUnit]  # the second-level units counted from the tree
    stored: StaffingFigures | None
    figures: Figures
    quota: Quota


@dataclass
class StaffingReport:
    """The branches in the reader's area for one scheme and year, with the roll-up."""

    scheme: Scheme
    formula: StaffingFormula
    year: int
    branches: list[BranchQuota] = field(default_factory=list)

    @property
    def total(self) -> int:
        """The headcount of every branch together."""
        return sum(b.quota.headcount for b in self.branches)

    def rollup(self, parents: dict[int, OrgUnit]) -> list[tuple[OrgUnit, int, int]]:
        """Headcount per parent unit (province or head office): (unit, branches, headcount)."""
        groups: dict[int, list[BranchQuota]] = {}
        for b in self.branches:
            groups.setdefault(b.branch.parent_id or 0, []).append(b)
        return [(parents[pid], len(items), sum(i.quota.headcount for i in items))
                for pid, items in groups.items() if pid in parents]


def formula_of(scheme: Scheme) -> StaffingFormula:
    """The scheme's staffing formula, or NotFound when it has none."""
    if scheme.staffing is None:
        raise NotFound("{scheme} has no staffing quota.", scheme=scheme.label)
    return scheme.staffing


def _hr_paths(session: Session, viewer: Person) -> list[str]:
    return list(session.exec(
        select(OrgUnit.path).join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
        .where(RoleAssignment.person_id == viewer.id, RoleAssignment.kind == "role",
               RoleAssignment.name.in_(SCOPE_ROLES))))


def may_view_staffing(session: Session, viewer: Person) -> bool:
    """HR sees the staffing quota of the branches in its area."""
    return bool(_hr_paths(session, viewer))


def branches(session: Session, *, viewer: Person | None) -> list[OrgUnit]:
    """The branches (first-level units) the viewer may see; every one for the system (None)."""
    rows = list(session.exec(select(OrgUnit).where(OrgUnit.kind == UnitKind.branch)
                             .order_by(OrgUnit.code)))
    if viewer is None:
        return rows
    paths = _hr_paths(session, viewer)
    if not paths:
        raise NotAllowed("Only HR may see the staffing quota.")
    return [u for u in rows if any(u.path.startswith(p) for p in paths)]


def find_branch(session: Session, *, code: str, viewer: Person | None) -> OrgUnit:
    """A branch by its code, if the viewer may see it."""
    found = next((u for u in branches(session, viewer=viewer) if u.code == code), None)
    if found is None:
        raise NotFound("No branch with code {code} in your area.", code=code)
    return found


def second_level_units(session: Session, branch: OrgUnit,
                       formula: StaffingFormula) -> list[OrgUnit]:
    """The branch's second-level operating units: its children of the counted kinds."""
    return list(session.exec(select(OrgUnit).where(
        OrgUnit.parent_id == branch.id, col(OrgUnit.kind).in_(formula.second_level_kinds))
        .order_by(OrgUnit.code)))


def stored_figures(session: Session, *, scheme: str, branch: OrgUnit,
                   year: int) -> StaffingFigures | None:
    """The figures HR saved for a branch's year, if any."""
    return session.exec(select(StaffingFigures).where(
        StaffingFigures.scheme == scheme, StaffingFigures.org_unit_id == branch.id,
        StaffingFigures.year == year)).first()


def branch_quota(session: Session, scheme: Scheme, branch: OrgUnit, year: int,
                 overrides: dict[str, Any] | None = None) -> BranchQuota:
    """A branch's headcount: stored figures, units from the tree, what-if overrides on top."""
    formula = formula_of(scheme)
    units = second_level_units(session, branch, formula)
    stored = stored_figures(session, scheme=scheme.scheme, branch=branch, year=year)
    values: dict[str, Any] = {name: getattr(stored, name) for name in FIGURE_FIELDS} \
        if stored else {}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    counted = values.get("second_level_units")
    figures = Figures(
        second_level_units=counted if counted is not None else len(units),
        unit_names=[] if counted is not None else [
            {"zh": u.name, "en": u.name_en or u.name} for u in units],
        asset_liability_size=values.get("asset_liability_size"),
        corporate_deposit_growth=values.get("corporate_deposit_growth"),
        corporate_risk_asset_growth=values.get("corporate_risk_asset_growth"),
        sme_credit_lines_start=list(values.get("sme_credit_lines_start") or []),
        sme_credit_lines_end=list(values.get("sme_credit_lines_end") or []),
        first_year=bool(values.get("first_year")))
    return BranchQuota(branch, units, stored, figures, compute(formula, figures))


def report(session: Session, *, scheme: str, viewer: Person | None, year: int | None = None,
           branch_code: str | None = None, registry: Any = None,
           overrides: dict[str, Any] | None = None) -> StaffingReport:
    """Every branch in the viewer's area (or one), each with its headcount explained."""
    found = get_scheme(scheme, registry)
    formula = formula_of(found)
    year = year or clock.today().year
    units = ([find_branch(session, code=branch_code, viewer=viewer)] if branch_code
             else branches(session, viewer=viewer))
    out = StaffingReport(found, formula, year)
    out.branches = [branch_quota(session, found, unit, year, overrides) for unit in units]
    return out


def save_figures(session: Session, *, scheme: str, branch_code: str, year: int,
                 values: dict[str, Any], actor: Person, registry: Any = None) -> BranchQuota:
    """Keep a branch's figures for a year (HR of its area only); the quota follows."""
    found = get_scheme(scheme, registry)
    formula_of(found)
    branch = find_branch(session, code=branch_code, viewer=actor)
    row = stored_figures(session, scheme=found.scheme, branch=branch, year=year)
    if row is None:
        row = StaffingFigures(scheme=found.scheme, org_unit_id=branch.id, year=year)
        session.add(row)
    for name in FIGURE_FIELDS:
        if name in values:
            value = values[name]
            if name.startswith("sme_credit_lines"):
                value = list(value or [])
            elif name == "first_year":
                value = bool(value)
            setattr(row, name, value)
    row.updated_by_id = actor.id
    row.updated_at = clock.now()
    session.flush()
    return branch_quota(session, found, branch, year)


def parents_of(session: Session, units: list[OrgUnit]) -> dict[int, OrgUnit]:
    """The parent units of some units, by id."""
    ids = {u.parent_id for u in units if u.parent_id}
    if not ids:
        return {}
    return {u.id: u for u in session.exec(select(OrgUnit).where(col(OrgUnit.id).in_(ids)))}
