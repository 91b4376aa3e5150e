"""Assessment services: record levels and annual results, flags, outcomes; who may do it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlmodel import Session, select

from app import clock
from app.assessments import improvement
from app.assessments.models import (
    AnnualAssessment,
    AssessmentFlag,
    AssessmentPlanLink,
    QuarterlyAssessment,
)
from app.assessments.rules import rule_book
from app.assessments.schemas import AnnualEntry, FlagEntry, OutcomeEntry, QuarterlyEntry
from app.assessments.wording import RuleRefused, require_year
from app.errors import NotAllowed, NotFound
from app.i18n import N_, Message
from app.org.models import OrgUnit, Person, RoleAssignment

Status = Literal["created", "updated", "unchanged"]
REASON_NEEDED = ("skip_level", "appoint_lower", "dismiss")


@dataclass
class Recorded:
    """What recording one result did, and the improvement plans it opened."""

    row: Any
    status: Status
    plans: list[int] = field(default_factory=list)


def unit_chain_ids(session: Session, unit_id: int) -> list[int]:
    """A unit's id and its ancestors' ids, nearest first."""
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        return []
    return [int(p) for p in reversed(unit.path.strip("/").split("/")) if p]


def holds_role_over(session: Session, actor: Person, person: Person, roles: tuple[str, ...]
                    ) -> bool:
    """Whether the actor holds one of the roles at the person's unit or an ancestor of it."""
    chain = unit_chain_ids(session, person.org_unit_id)
    found = session.exec(
        select(RoleAssignment.id).where(
            RoleAssignment.person_id == actor.id,
            RoleAssignment.kind == "role",
            RoleAssignment.name.in_(roles),
            RoleAssignment.org_unit_id.in_(chain),
        )
    ).first()
    return found is not None


def is_supervisor_of(session: Session, actor: Person, person: Person) -> bool:
    """Whether the actor is somewhere up the person's supervisor chain."""
    seen: set[int] = set()
    current = person
    while current.supervisor_id and current.supervisor_id not in seen:
        if current.supervisor_id == actor.id:
            return True
        seen.add(current.supervisor_id)
        boss = session.get(Person, current.supervisor_id)
        if boss is None:
            return False
        current = boss
    return False


def may_record(session: Session, actor: Person | None, person: Person) -> bool:
    """HR over the person's unit records results; None is the system (imports from the CLI).

    Administrators are not included: running the system does not entitle anyone to careers.
    """
    return actor is None or holds_role_over(session, actor, person, ("hr",))


def may_view(session: Session, actor: Person, person: Person) -> bool:
    """The person, their supervisors and HR over their unit may see their results."""
    return (actor.id == person.id or may_record(session, actor, person)
            or is_supervisor_of(session, actor, person))


def _require_recorder(session: Session, actor: Person | None, person: Person) -> None:
    if not may_record(session, actor, person):
        raise NotAllowed("Only HR responsible for this person may record assessment results.")


def get_person(session: Session, *, person_id: int, viewer: Person) -> Person:
    """A person whose results the viewer may see; anyone else is told they do not exist."""
    person = session.get(Person, person_id)
    if person is None or not may_view(session, viewer, person):
        raise NotFound("No person {id}.", id=person_id)
    return person


def record_quarter(
    db_session: Session, *, person: Person, entry: QuarterlyEntry, actor: Person | None,
    registry: Any = None,
) -> Recorded:
    """Create or update one quarter's level; a trigger result opens an improvement plan."""
    _require_recorder(db_session, actor, person)
    row = db_session.exec(select(QuarterlyAssessment).where(
        QuarterlyAssessment.person_id == person.id, QuarterlyAssessment.year == entry.year,
        QuarterlyAssessment.quarter == entry.quarter)).first()
    status: Status = "unchanged"
    if row is None:
        row = QuarterlyAssessment(person_id=person.id, year=entry.year, quarter=entry.quarter,
                                  level=entry.level, note=entry.note,
                                  recorded_by_id=actor.id if actor else None)
        db_session.add(row)
        status = "created"
    elif (row.level, row.note) != (entry.level, entry.note):
        row.level, row.note = entry.level, entry.note
        row.recorded_by_id = actor.id if actor else None
        row.updated_at = clock.now()
        status = "updated"
    db_session.flush()
    values = {"year": row.year, "quarter": row.quarter, "level": row.level}
    plans = improvement.open_plans(db_session, person=person, on="quarter", values=values,
                                   actor=actor, registry=registry)
    return Recorded(row, status, plans)


def _check_metrics(entry: AnnualEntry, registry: Any) -> None:
    known = rule_book(registry).stars.metrics
    unknown = [name for name in entry.metrics if name not in known]
    if unknown:
        raise RuleRefused(
            N_("Please correct the marked fields."),
            field_errors={"metrics": Message("Unknown metric(s): {names}.",
                                             {"names": ", ".join(unknown)})},
        )


def record_annual(
    db_session: Session, *, person: Person, entry: AnnualEntry, actor: Person | None,
    registry: Any = None,
) -> Recorded:
    """Create or update a person's annual result (fields left out keep their stored values)."""
    _require_recorder(db_session, actor, person)
    _check_metrics(entry, registry)
    row = db_session.exec(select(AnnualAssessment).where(
        AnnualAssessment.person_id == person.id, AnnualAssessment.year == entry.year)).first()
    status: Status = "unchanged"
    if row is None:
        row = AnnualAssessment(person_id=person.id, year=entry.year)
        db_session.add(row)
        status = "created"
    given = entry.model_dump(exclude_unset=True, exclude={"year", "metrics"})
    changed = False
    for name, value in given.items():
        if name in ("liability_loans", "violating_loans") and value is None:
            value = 0
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    metrics = {**(row.metrics or {}), **entry.metrics}
    if metrics != (row.metrics or {}):
        row.metrics = metrics
        changed = True
    if changed:
        row.recorded_by_id = actor.id if actor else None
        row.updated_at = clock.now()
        if status == "unchanged":
            status = "updated"
    db_session.flush()
    from app.assessments.stars import result_values

    plans = improvement.open_plans(db_session, person=person, on="year",
                                   values=result_values(row), actor=actor, registry=registry)
    return Recorded(row, status, plans)


def set_flag(db_session: Session, *, person: Person, entry: FlagEntry, actor: Person,
             registry: Any = None) -> AssessmentFlag:
    """Set a reviewer flag (outstanding contribution…) on a person's year, with justification."""
    if not (may_record(db_session, actor, person) or is_supervisor_of(db_session, actor, person)):
        raise NotAllowed("Only HR or the person's supervisors may set this flag.")
    flags = rule_book(registry).assessment.flags
    if entry.name not in flags:
        raise RuleRefused(N_("Please correct the marked fields."),
                          field_errors={"name": Message("Choose one of the offered options.")})
    row = db_session.exec(select(AssessmentFlag).where(
        AssessmentFlag.person_id == person.id, AssessmentFlag.year == entry.year,
        AssessmentFlag.name == entry.name)).first()
    if row is None:
        row = AssessmentFlag(person_id=person.id, year=entry.year, name=entry.name,
                             justification=entry.justification, set_by_id=actor.id)
        db_session.add(row)
    else:
        row.justification, row.set_by_id = entry.justification, actor.id
    db_session.flush()
    return row


def flag_justification(db_session: Session, *, person_id: int, year: int, name: str) -> str:
    """The written justification of a flag on a person's year ('' when not set)."""
    row = db_session.exec(select(AssessmentFlag).where(
        AssessmentFlag.person_id == person_id, AssessmentFlag.year == year,
        AssessmentFlag.name == name)).first()
    return row.justification.strip() if row is not None else ""


def has_flag(db_session: Session, *, person_id: int, year: int, name: str) -> bool:
    """Whether a justified flag is set on a person's year."""
    return bool(flag_justification(db_session, person_id=person_id, year=year, name=name))


def allowed_outcomes(db_session: Session, *, person_id: int, year: int,
                     registry: Any = None) -> list[str]:
    """The outcomes the rules allow for a person's year (missed targets: lower or dismiss)."""
    require_year(year)
    rules = rule_book(registry).assessment
    row = db_session.exec(select(AnnualAssessment).where(
        AnnualAssessment.person_id == person_id, AnnualAssessment.year == year)).first()
    allowed = list(rules.outcomes)
    if row is not None and row.targets_met is False:
        allowed = [o for o in allowed if o in rules.targets_missed_allows]
    if not has_flag(db_session, person_id=person_id, year=year,
                    name=rules.skip_level_requires_flag):
        allowed = [o for o in allowed if o != "skip_level"]
    return allowed


def record_outcome(db_session: Session, *, person: Person, entry: OutcomeEntry, actor: Person,
                   registry: Any = None) -> AnnualAssessment:
    """Record the outcome of a periodic assessment, refusing what the rules do not allow."""
    _require_recorder(db_session, actor, person)
    rules = rule_book(registry).assessment
    if entry.outcome not in rules.outcomes:
        raise RuleRefused(N_("Please correct the marked fields."),
                          field_errors={"outcome": Message("Choose one of the offered options.")})
    row = db_session.exec(select(AnnualAssessment).where(
        AnnualAssessment.person_id == person.id, AnnualAssessment.year == entry.year)).first()
    if row is None:
        raise RuleRefused(N_("Record the annual result of {year} before its outcome."),
                          year=entry.year)
    chosen = rules.outcomes[entry.outcome]
    if row.targets_met is False and entry.outcome not in rules.targets_missed_allows:
        allowed = [rules.outcomes[o] for o in rules.targets_missed_allows]
        raise RuleRefused(
            N_("The targets of {year} were not met: only {allowed} may be chosen, not {chosen}."),
            field_errors={"outcome": Message("Targets not met: only {allowed}.",
                                             {"allowed": allowed})},
            year=entry.year, allowed=allowed, chosen=chosen,
        )
    flag = rules.skip_level_requires_flag
    if entry.outcome == "skip_level" and not has_flag(db_session, person_id=person.id,
                                                      year=entry.year, name=flag):
        raise RuleRefused(
            N_("{chosen} needs the '{flag}' flag with its written justification for {year}."),
            field_errors={"outcome": Message("Set the '{flag}' flag first.",
                                             {"flag": rules.flags[flag]})},
            chosen=chosen, flag=rules.flags[flag], year=entry.year,
        )
    if entry.outcome in REASON_NEEDED and not entry.reason:
        raise RuleRefused(N_("Please correct the marked fields."),
                          field_errors={"reason": Message("This field is required.")})
    row.outcome, row.outcome_reason = entry.outcome, entry.reason
    row.outcome_by_id, row.outcome_at = actor.id, clock.now()
    db_session.flush()
    return row


def quarter_of(day: date) -> tuple[int, int]:
    """The (year, quarter) a date falls in."""
    return day.year, (day.month - 1) // 3 + 1


def level_in_force(db_session: Session, *, person_id: int, on: date | None = None,
                   registry: Any = None) -> int | None:
    """The level that applies on a day: assessed each quarter, effective the next quarter."""
    year, quarter = quarter_of(on or clock.today())
    if rule_book(registry).assessment.level_takes_effect == "next_quarter":
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    row = db_session.exec(select(QuarterlyAssessment).where(
        QuarterlyAssessment.person_id == person_id, QuarterlyAssessment.year == year,
        QuarterlyAssessment.quarter == quarter)).first()
    return row.level if row else None


@dataclass
class PersonResults:
    """Everything recorded about a person's assessments."""

    quarters: list[QuarterlyAssessment]
    annual: list[AnnualAssessment]
    flags: list[AssessmentFlag]
    plan_links: list[AssessmentPlanLink]


def results_of(db_session: Session, *, person_id: int) -> PersonResults:
    """A person's quarterly levels, annual results, flags and the plans they opened."""
    quarters = db_session.exec(select(QuarterlyAssessment).where(
        QuarterlyAssessment.person_id == person_id).order_by(
        QuarterlyAssessment.year, QuarterlyAssessment.quarter)).all()
    annual = db_session.exec(select(AnnualAssessment).where(
        AnnualAssessment.person_id == person_id).order_by(AnnualAssessment.year)).all()
    flags = db_session.exec(select(AssessmentFlag).where(
        AssessmentFlag.person_id == person_id).order_by(AssessmentFlag.year)).all()
    links = db_session.exec(select(AssessmentPlanLink).where(
        AssessmentPlanLink.person_id == person_id).order_by(AssessmentPlanLink.id)).all()
    return PersonResults(list(quarters), list(annual), list(flags), list(links))
