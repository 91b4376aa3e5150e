"""No route to nobody, for the whole product: every workflow's steps and every scheme's filing
notice checked against the organisation; reported by `stepwise workflows check --org`, in the
log at start-up and on the HR dashboard (for the units in HR's area)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from app.engine.access import SCOPE_ROLES
from app.engine.reach import Gap, Site, unreached, workflow_sites
from app.i18n import Message, pick_label
from app.org.models import OrgUnit, Person, RoleAssignment
from app.promotions.schemes import schemes_of
from app.web.labels import UNIT_LEVEL_LABELS, actor_label, unit_name

MAX_UNITS_NAMED = 4


def sites(registry: Any) -> list[Site]:
    """Every place a workflow or a scheme names someone."""
    specs = {name: loaded.spec for name, loaded in registry.files.items()}
    out = workflow_sites(specs.values())
    for scheme in schemes_of(registry).values():
        for route in scheme.routes.values():
            spec = specs.get(route.workflow)
            if spec is None or route.appointed_state not in spec.states:
                continue
            out += [Site(spec.workflow, dict(spec.label), route.appointed_state,
                         dict(spec.states[route.appointed_state].label), expr, "filing")
                    for expr in route.filing]
    return list(dict.fromkeys(out))


def check(session: Session, registry: Any) -> list[Gap]:
    """Every step that would wait on nobody for someone in the organisation as it is."""
    return unreached(session, sites(registry))


_remembered: dict[tuple[Any, ...], list[Gap]] = {}


def _fingerprint(session: Session) -> tuple[Any, ...]:
    """What changes whenever people, units or seats change (one cheap statement each)."""
    def of(statement: Any) -> tuple[Any, ...]:
        return tuple(session.exec(statement).one())

    return (
        of(select(func.count(), func.max(Person.id),
                  func.sum(func.coalesce(Person.supervisor_id, 0) + Person.org_unit_id))
           .where(Person.active)),
        of(select(func.count(), func.max(RoleAssignment.id),
                  func.sum(RoleAssignment.person_id + RoleAssignment.org_unit_id))),
        of(select(func.count(), func.max(OrgUnit.id),
                  func.sum(func.coalesce(OrgUnit.parent_id, 0)))),
    )


def check_remembered(session: Session, registry: Any) -> list[Gap]:
    """The check for pages: answered again only when the organisation or the files changed."""
    key = (str(session.get_bind().engine.url), id(registry), tuple(sorted(registry.files)),
           *_fingerprint(session))
    if key not in _remembered:
        if len(_remembered) > 8:
            _remembered.clear()
        _remembered[key] = check(session, registry)
    return _remembered[key]


def in_area(session: Session, gaps: list[Gap], viewer: Person) -> list[Gap]:
    """The gaps that strand people in the units of the viewer's HR seats (for those units)."""
    paths = list(session.exec(
        select(OrgUnit.path).join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
        .where(RoleAssignment.person_id == viewer.id, RoleAssignment.kind == "role",
               RoleAssignment.name.in_(SCOPE_ROLES))))
    mine = []
    for gap in gaps:
        units = [u for u in gap.subject_units if any(u.path.startswith(p) for p in paths)]
        found = gap.within(units)
        if found is not None:
            mine.append(found)
    return mine


def describe(gap: Gap, vocabulary: Any, locale: str, *, with_expression: bool = False
             ) -> Message:
    """A gap in words: the workflow and step, who is missing where, and how many it strands."""
    names = [unit_name(u, locale) for u in gap.subject_units[:MAX_UNITS_NAMED]]
    if len(gap.subject_units) > MAX_UNITS_NAMED:
        names.append("…")
    who = actor_label(gap.site.expr, vocabulary, locale)
    if with_expression:
        who = f"{who} [{gap.site.expr}]"
    params = {"workflow": pick_label(gap.site.workflow_label, locale),
              "step": pick_label(gap.site.state_label, locale), "who": who,
              "people": gap.people, "units": names, "unit": unit_name(gap.unit, locale),
              "level": Message(UNIT_LEVEL_LABELS.get(gap.level, gap.level))}
    if gap.why == "no_level":
        return Message("{workflow} · {step}: “{who}” reaches nobody in {units} ({people} in "
                       "all): there is no {level} above them.", params)
    if gap.why == "no_holder":
        return Message("{workflow} · {step}: nobody holds “{who}” at {unit} or above, so "
                       "cases of people in {units} ({people} in all) would wait on nobody.",
                       params)
    return Message("{workflow} · {step}: “{who}”: the supervisor chain breaks at {unit}, for "
                   "people in {units} ({people} in all).", params)
