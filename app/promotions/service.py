"""Promotion services: apply or nominate in the open round, and what each reader may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app import clock
from app.assessments.rules import rule_book
from app.assessments.wording import RuleForbids, RuleRefused
from app.engine import runtime
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.errors import AlreadyDone, NotAllowed, NotFound
from app.i18n import N_, Message, pick_label
from app.org.models import OrgUnit, Person, RoleAssignment
from app.promotions.conditions import Evaluator
from app.promotions.eligibility import (
    KIND_LABELS,
    Application,
    Citation,
    TitleVerdict,
    add_round_needs,
    application_kind,
    eligibility,
    labeller,
    person_record,
)
from app.promotions.models import ExitRequest, FilingNotice, PromotionRequest, PromotionRound
from app.promotions.rounds import open_round
from app.promotions.route import visible_instance
from app.promotions.schemes import Scheme, get_scheme
from app.promotions.screening import clean_facts, screen
from app.text import colon

__all__ = ["KIND_LABELS", "apply"]


def _why(citations: list[Citation]) -> list[Message]:
    return [Message("{rule} {label}: {details}", {"rule": c.rule, "label": c.label,
                                                  "details": c.details}) for c in citations]


def _target(scheme: Scheme, name: str) -> Any:
    title = scheme.title(name)
    if title is None:
        raise RuleRefused(N_("Please correct the marked fields."), field_errors={
            "target_title": Message("Choose one of the offered options.")})
    return title


def _refuse(verdict: TitleVerdict | None, title: Any, field_needs: dict[str, Message]) -> None:
    """Refuse an application with everything that stands in its way, all at once.

    What the person cannot change in the form (rules not met, the window, who starts it)
    forbids it (403, every item cited); otherwise every field to fix is marked (422).
    """
    if verdict is None:
        raise RuleRefused(N_("{title} is not above the current title."), field_errors={
            "target_title": Message("Choose a title above the current one.")},
            title=title.label)
    if any(n.key == "existing" for n in verdict.missing):
        existing = next(n for n in verdict.missing if n.key == "existing")
        raise AlreadyDone(existing.detail.msgid, **existing.detail.params)
    blocking = [n for n in verdict.missing if n.field is None]
    if not verdict.eligible or blocking:
        why = _why(verdict.why_not) + [n.detail for n in blocking] + [
            n.detail for n in verdict.missing if n.field] + list(field_needs.values())
        if not verdict.eligible:
            raise RuleForbids(N_("Not eligible to enter the evaluation for {title}: {why}"),
                              title=title.label, why=why)
        raise RuleForbids(N_("An application for {title} cannot be made now: {why}"),
                          title=title.label, why=why)
    errors = {n.field: n.detail for n in verdict.missing if n.field} | field_needs
    if errors:
        raise RuleRefused(N_("Please correct the marked fields: {why}"), field_errors=errors,
                          why=list(errors.values()))


def apply(
    db_session: Session,
    *,
    scheme: str,
    person: Person,
    applicant: Person,
    target_title: str,
    facts: dict[str, Any] | None = None,
    justifications: dict[str, str] | None = None,
    outstanding_contribution: bool = False,
    justification: str = "",
    registry: Any = None,
) -> PromotionRequest:
    """Apply (or nominate) for a title in the open round; screened, then sent down its route.

    The eligibility verdict decides: whatever it lists as missing (the window, a case already
    this round, who may start it, the scheme's skip-level needs, declared facts and
    qualifications) refuses the application, every item at once.
    """
    found = get_scheme(scheme, registry)
    today = clock.today()
    kind = application_kind(db_session, person, applicant)
    if kind is None:
        raise NotAllowed("Only the employee or one of their supervisors may start this "
                         "application.")
    title = _target(found, target_title)
    justification = justification.strip()
    book = rule_book(registry)
    declared, field_needs = clean_facts(found, facts or {})
    screening = screen(found, book, declared, justifications or {})
    if not field_needs:
        field_needs |= screening.errors
    application = Application(kind, bool(outstanding_contribution), justification)
    weighed = open_round(db_session, found, today)
    year = weighed.assessment_year if weighed else None
    result = eligibility(db_session, person=person, scheme=found,
                         year=year or _assessment_year(db_session, found, today),
                         facts={**declared, "application_kind": kind},
                         registry=registry, application=application)
    add_round_needs(db_session, result, person, kind, today)
    verdict = result.verdict(title.name)
    _refuse(verdict, title, field_needs)
    assert verdict is not None and weighed is not None
    round_ = weighed
    record = person_record(db_session, person=person, year=round_.assessment_year,
                           facts={**declared, "application_kind": kind,
                                  "skip_level": verdict.skip_level}, book=book)
    outstanding = bool(outstanding_contribution) or bool(
        record.facts.get("outstanding_contribution"))
    justification = justification or str(record.facts.get("outstanding_justification") or "")
    record.facts["outstanding_contribution"] = outstanding
    route = found.route(title)
    via = bool(route.via_supervising_branch) and Evaluator(
        record, labeller(found, book), found.reading).evaluate(route.via_supervising_branch).holds
    current = result.current
    request = PromotionRequest(
        round_id=round_.id, scheme=found.scheme, person_id=person.id, applicant_id=applicant.id,
        kind=kind, current_title=current.name if current else None, target_title=title.name,
        tier=title.tier, workflow=route.workflow, skip_level=verdict.skip_level,
        outstanding_contribution=outstanding, justification=justification,
        facts=declared, screening=screening.to_data(),
        eligibility={"reasons": [c.to_data() for c in verdict.reasons],
                     "why_not": [c.to_data() for c in verdict.why_not]},
    )
    db_session.add(request)
    db_session.flush()
    instance = runtime.start(
        db_session, workflow=route.workflow, subject=person, initiator=applicant,
        title=f"{person.name}{colon(person.locale)}{pick_label(title.label, person.locale)}"[:200],
        registry=registry,
        context={
            "promotion_request_id": request.id, "scheme": found.scheme,
            "target_title": title.name, "staff_grade": title.staff_grade,
            "round_year": round_.year,
            "window": {"opens": round_.opens_on.isoformat(),
                       "closes": round_.closes_on.isoformat()},
            "screening_passed": screening.passed, "skip_level": verdict.skip_level,
            "skip_level_needs": _skip_needs(found),
            "outstanding_contribution": outstanding,
            "justification_given": bool(justification), "via_supervising_branch": via,
            "appointed_state": route.appointed_state, "filing": list(route.filing),
        },
    )
    request.instance_id = instance.id
    db_session.flush()
    runtime.fire(db_session, instance, "submit", applicant, {}, registry=registry)
    return request


def _assessment_year(db_session: Session, scheme: Scheme, today: Any) -> int:
    from app.promotions.rounds import next_window

    return next_window(scheme, today, db_session).assessment_year


def _skip_needs(scheme: Scheme) -> dict[str, bool]:
    """What the scheme's skip-level rule asks, for the guard that holds the workflow to it."""
    rule = scheme.skip_level
    return {"outstanding_contribution": bool(rule and rule.requires is not None),
            "justification": bool(rule and rule.justification)}


def request_of_instance(db_session: Session, instance_id: int) -> PromotionRequest | None:
    """The promotion request a workflow instance carries, if any."""
    return db_session.exec(select(PromotionRequest).where(
        PromotionRequest.instance_id == instance_id)).first()


def _scope_paths(db_session: Session, person: Person) -> list[str]:
    return list(db_session.exec(
        select(OrgUnit.path).join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
        .where(RoleAssignment.person_id == person.id, RoleAssignment.kind == "role",
               RoleAssignment.name == "hr")))


def get_case(db_session: Session, *, request_id: int, viewer: Person
             ) -> tuple[PromotionRequest, WorkflowInstance]:
    """A case the viewer may see (the need-to-know rule of every instance), with its instance."""
    request = db_session.get(PromotionRequest, request_id)
    instance = visible_instance(db_session, request.instance_id if request else None, viewer)
    if request is None or instance is None:
        raise NotFound("Promotion application {id} does not exist or is not visible to you.",
                       id=request_id)
    return request, instance


@dataclass
class CaseRow:
    """One case of a round as HR sees it: who, for what, and where it is."""

    request: PromotionRequest
    instance: WorkflowInstance
    person: Person
    waiting_on: list[Task]


def round_cases(db_session: Session, *, round_id: int, viewer: Person) -> tuple[PromotionRound,
                                                                                list[CaseRow]]:
    """Who applied in a round and where each case is (HR sees the units below their seat)."""
    round_ = db_session.get(PromotionRound, round_id)
    paths = _scope_paths(db_session, viewer)
    if round_ is None or not paths:
        raise NotFound("No promotion round {id}.", id=round_id)
    rows = db_session.exec(
        select(PromotionRequest, WorkflowInstance, Person, OrgUnit)
        .join(WorkflowInstance, WorkflowInstance.id == PromotionRequest.instance_id)
        .join(Person, Person.id == PromotionRequest.person_id)
        .join(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .where(PromotionRequest.round_id == round_id).order_by(PromotionRequest.id)).all()
    visible = [(r, i, p) for r, i, p, u in rows
               if any(u.path.startswith(path) for path in paths)]
    ids = [i.id for _, i, _ in visible]
    tasks: dict[int, list[Task]] = {}
    if ids:
        for task in db_session.exec(select(Task).where(Task.instance_id.in_(ids),
                                                       Task.status == TaskStatus.open)):
            tasks.setdefault(task.instance_id, []).append(task)
    return round_, [CaseRow(r, i, p, tasks.get(i.id, [])) for r, i, p in visible]


def may_view_rounds(db_session: Session, viewer: Person) -> bool:
    """HR sees rounds (administrators do not: running the system is not reading careers)."""
    return bool(_scope_paths(db_session, viewer))


@dataclass
class QueueItem:
    """A promotion case or an exit waiting on the reader."""

    request: PromotionRequest | None
    exit: ExitRequest | None
    instance: WorkflowInstance
    task: Task
    person: Person
    on_behalf_of_id: int | None

    @property
    def scheme(self) -> str:
        """The scheme the case belongs to."""
        return self.request.scheme if self.request else self.exit.scheme  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        """The case page, at the decision."""
        if self.request is not None:
            return f"/promotions/cases/{self.request.id}#decide"
        return f"/promotions/exits/{self.exit.id}#decide"  # type: ignore[union-attr]

    def what(self, scheme: Scheme, locale: str) -> str:
        """What is asked for, in words: the title applied for, or the exit route."""
        if self.request is not None:
            title = scheme.title(self.request.target_title)
            return pick_label(title.label, locale) if title else ""
        route = scheme.exits.get(self.exit.route)  # type: ignore[union-attr]
        return pick_label(route.label, locale) if route else ""


def queue(db_session: Session, *, person: Person) -> list[QueueItem]:
    """The approver's queue: promotion cases and exits whose current step waits on them."""
    from app.promotions.exits import exit_of_instance
    from app.tasks.service import my_tasks

    items = []
    for mine in my_tasks(db_session=db_session, person=person):
        request = request_of_instance(db_session, mine.instance.id)
        exit_ = None if request else exit_of_instance(db_session, mine.instance.id)
        if request is None and exit_ is None:
            continue
        subject = db_session.get(Person, (request or exit_).person_id)  # type: ignore[union-attr]
        assert subject is not None
        items.append(QueueItem(request, exit_, mine.instance, mine.task, subject,
                               mine.on_behalf_of_id))
    return items


def my_requests(db_session: Session, *, person: Person) -> list[tuple[PromotionRequest,
                                                                      WorkflowInstance]]:
    """Cases about the person or started by them, newest first."""
    rows = db_session.exec(
        select(PromotionRequest, WorkflowInstance)
        .join(WorkflowInstance, WorkflowInstance.id == PromotionRequest.instance_id)
        .where((PromotionRequest.person_id == person.id)
               | (PromotionRequest.applicant_id == person.id))
        .order_by(col(PromotionRequest.id).desc())).all()
    return [(r, i) for r, i in rows]


def filing_notices_for(db_session: Session, *, person: Person, include_acknowledged: bool = False
                       ) -> list[FilingNotice]:
    """Filing notices addressed to the person or a seat they hold (for information only)."""
    seats = list(db_session.exec(select(RoleAssignment).where(
        RoleAssignment.person_id == person.id)))
    query = select(FilingNotice)
    if not include_acknowledged:
        query = query.where(FilingNotice.acknowledged_at.is_(None))
    notices = db_session.exec(query.order_by(col(FilingNotice.id).desc())).all()
    return [n for n in notices if n.assignee_id == person.id or any(
        (s.kind, s.name, s.org_unit_id) == (n.group_kind, n.group_name, n.org_unit_id)
        for s in seats)]


def acknowledge_filing(db_session: Session, *, notice_id: int, person: Person) -> FilingNotice:
    """Mark a filing notice as read (it never held anything up)."""
    notice = next((n for n in filing_notices_for(db_session, person=person,
                                                 include_acknowledged=True)
                   if n.id == notice_id), None)
    if notice is None:
        raise NotFound("No filing notice {id}.", id=notice_id)
    if notice.acknowledged_at is None:
        notice.acknowledged_at = clock.now()
        notice.acknowledged_by_id = person.id
        db_session.flush()
    return notice


def schemes_for_display(registry: Any = None) -> list[Scheme]:
    """Every scheme, sorted by name."""
    from app.promotions.schemes import schemes_of

    return sorted(schemes_of(registry).values(), key=lambda s: s.scheme)
