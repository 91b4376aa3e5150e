"""Improvement-plan services: draft the content, sign, check, review; the engine moves state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Integer, bindparam, func
from sqlmodel import Session, col, select

from app import clock
from app.engine import access, runtime
from app.engine.actors import ActorResolver
from app.engine.models import WorkflowInstance
from app.errors import InvalidTransition, NotAllowed, PlanNotFound, ValidationFailed
from app.i18n import Message
from app.org.models import Person
from app.plans import content
from app.plans.models import (
    Cause,
    Gap,
    ImprovementPlan,
    Method,
    PlanVersion,
    PlanView,
    Step,
)
from app.plans.schemas import (
    CauseDraft,
    GapDecision,
    GapDraft,
    MethodDraft,
    PlanDetails,
    StepDraft,
)

WORKFLOW = "improvement_plan"
PLANNING_STATES = frozenset(
    {"draft", "gap_identified", "causes_analysed", "methods_chosen", "plan_drafted",
     "plan_proposed"}
)
AUTHORS = ["subject", "subject.supervisor"]


def start_plan(
    db_session: Session,
    *,
    employee: Person,
    initiator: Person | None,
    title: str,
    gaps: Sequence[GapDraft] = (),
    source: str = "",
    previous: ImprovementPlan | None = None,
    on_behalf_of_id: int | None = None,
) -> ImprovementPlan:
    """Open a new improvement plan (cycle 1, or the next cycle of a previous plan)."""
    if not title.strip():
        raise ValidationFailed("Please correct the marked fields.",
                               field_errors={"title": Message("Give the plan a title.")})
    cycle = previous.cycle + 1 if previous else 1
    instance = runtime.start(db_session, workflow=WORKFLOW, subject=employee,
                             initiator=initiator, title=title.strip()[:200],
                             context={"cycle": cycle}, on_behalf_of_id=on_behalf_of_id)
    plan = ImprovementPlan(
        instance_id=instance.id,
        employee_id=employee.id,
        supervisor_id=employee.supervisor_id,
        org_unit_id=employee.org_unit_id,
        cycle=cycle,
        previous_plan_id=previous.id if previous else None,
        title=title.strip()[:200],
        source=source,
    )
    db_session.add(plan)
    db_session.flush()
    instance.context = {**instance.context, "plan_id": plan.id}
    for position, draft in enumerate(gaps):
        db_session.add(Gap(plan_id=plan.id, position=position, **draft.model_dump()))
    db_session.flush()
    return plan


def instance_of(db_session: Session, plan: ImprovementPlan) -> WorkflowInstance:
    """The workflow instance that carries a plan's state."""
    instance = db_session.get(WorkflowInstance, plan.instance_id)
    assert instance is not None
    return instance


def plan_of_instance(db_session: Session, instance_id: int) -> ImprovementPlan | None:
    """The plan a workflow instance belongs to, if it is a plan."""
    return db_session.exec(
        select(ImprovementPlan).where(ImprovementPlan.instance_id == instance_id)
    ).first()


def plan_for(db_session: Session, instance: WorkflowInstance) -> ImprovementPlan | None:
    """The plan of an instance: through the plan id in its context (no query when the plan is
    already loaded in this unit of work), else looked up."""
    plan_id = instance.context.get("plan_id")
    plan = db_session.get(ImprovementPlan, plan_id) if isinstance(plan_id, int) else None
    if plan is not None and plan.instance_id == instance.id:
        return plan
    return plan_of_instance(db_session, instance.id)


@cache
def _plan_and_instance_statement() -> Any:
    """A plan and its instance by the plan's id, built once (every plan page and action)."""
    return (select(ImprovementPlan, WorkflowInstance)
            .join(WorkflowInstance, WorkflowInstance.id == ImprovementPlan.instance_id)
            .where(ImprovementPlan.id == bindparam("plan_id", type_=Integer)))


def get_plan_and_instance(db_session: Session, *, plan_id: int, viewer: Person,
                          log_view: bool = False) -> tuple[ImprovementPlan, WorkflowInstance]:
    """A plan the viewer may see with its workflow instance, read in one statement; anyone
    else is told it does not exist."""
    row = db_session.exec(_plan_and_instance_statement(), params={"plan_id": plan_id}).first()
    if row is None or not access.can_view(db_session, viewer, row[1]):
        raise PlanNotFound("No improvement plan {id}.", id=plan_id)
    plan, instance = row
    if log_view:
        db_session.add(PlanView(plan_id=plan.id, person_id=viewer.id, at=clock.now()))
    return plan, instance


def get_plan(db_session: Session, *, plan_id: int, viewer: Person,
             log_view: bool = False) -> ImprovementPlan:
    """A plan the viewer may see; anyone else is told it does not exist."""
    return get_plan_and_instance(db_session, plan_id=plan_id, viewer=viewer,
                                 log_view=log_view)[0]


@dataclass
class PlanPage:
    """One page of a filtered plan list."""

    rows: list[tuple[ImprovementPlan, WorkflowInstance, Person]]
    total: int
    page: int
    per_page: int


def list_plans(
    db_session: Session,
    *,
    viewer: Person,
    state: str | None = None,
    cycle: int | None = None,
    org_unit_id: int | None = None,
    employee_id: int | None = None,
    search: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> PlanPage:
    """The plans the viewer may see, filtered, newest first, one page at a time."""
    query = (
        select(ImprovementPlan, WorkflowInstance, Person)
        .join(WorkflowInstance, WorkflowInstance.id == ImprovementPlan.instance_id)
        .join(Person, Person.id == ImprovementPlan.employee_id)
        .where(access.visible_filter(db_session, viewer))
    )
    if state:
        query = query.where(WorkflowInstance.state == state)
    if cycle:
        query = query.where(ImprovementPlan.cycle == cycle)
    if org_unit_id:
        query = query.where(ImprovementPlan.org_unit_id == org_unit_id)
    if employee_id:
        query = query.where(ImprovementPlan.employee_id == employee_id)
    if search:
        like = f"%{search.strip()}%"
        query = query.where(col(ImprovementPlan.title).ilike(like) | col(Person.name).ilike(like))
    total = db_session.exec(select(func.count()).select_from(query.subquery())).one()
    page = max(page, 1)
    rows = db_session.exec(
        query.order_by(col(ImprovementPlan.id).desc()).offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return PlanPage(list(rows), total, page, per_page)


def _authoring(
    db_session: Session, plan_id: int, actor: Person, expected_version: int | None
) -> tuple[ImprovementPlan, WorkflowInstance]:
    """The plan, if the actor may change its content now."""
    plan, instance = get_plan_and_instance(db_session, plan_id=plan_id, viewer=actor)
    resolver = ActorResolver(db_session, instance)
    if runtime.acts_as(db_session, resolver, instance, AUTHORS, actor, None) is None:
        raise NotAllowed("Only the employee and the supervisor may change the plan.")
    if instance.state not in PLANNING_STATES:
        raise InvalidTransition(
            "The plan can only be changed while it is drafted. Use 'Adjust the plan' first."
        )
    runtime.check_version(instance, expected_version)
    return plan, instance


def _edited(db_session: Session, plan: ImprovementPlan, instance: WorkflowInstance,
            actor: Person, what: str, detail: dict[str, Any]) -> None:
    """Audit a content edit; an edit after proposal voids signatures and makes a new version."""
    plan.updated_at = clock.now()
    runtime.record_event(db_session, instance, trigger=f"edit_{what}", actor=actor,
                         payload=detail)
    if instance.state == "plan_proposed":
        runtime.void_sign_offs(db_session, instance, actor,
                               "The plan changed after it was proposed.")
        content.freeze(db_session, plan=plan, actor=actor, reason="edited after proposal")


def _invalid(errors: dict[str, Message]) -> ValidationFailed:
    return ValidationFailed("Please correct the marked fields.", field_errors=errors)


def _child(db_session: Session, model: type, row_id: int, plan: ImprovementPlan) -> Any:
    row = db_session.get(model, row_id)
    plan_id = getattr(row, "plan_id", None)
    if row is not None and plan_id is None and isinstance(row, Cause):
        gap = db_session.get(Gap, row.gap_id)
        plan_id = gap.plan_id if gap else None
    if row is None or plan_id != plan.id:
        raise PlanNotFound("No such item in this plan.")
    return row


def add_gap(db_session: Session, *, plan_id: int, actor: Person, gap: GapDraft,
            expected_version: int | None = None) -> Gap:
    """Record a performance gap."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    count = db_session.exec(select(func.count()).where(Gap.plan_id == plan.id)).one()
    row = Gap(plan_id=plan.id, position=count, **gap.model_dump())
    db_session.add(row)
    db_session.flush()
    _edited(db_session, plan, instance, actor, "gap", {"added": row.id})
    return row


def update_gap(db_session: Session, *, plan_id: int, actor: Person, gap_id: int, gap: GapDraft,
               expected_version: int | None = None) -> Gap:
    """Change a recorded gap."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    row = _child(db_session, Gap, gap_id, plan)
    for key, value in gap.model_dump().items():
        setattr(row, key, value)
    _edited(db_session, plan, instance, actor, "gap", {"changed": row.id})
    return row


def remove_gap(db_session: Session, *, plan_id: int, actor: Person, gap_id: int,
               expected_version: int | None = None) -> None:
    """Remove a gap and its causes."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    row = _child(db_session, Gap, gap_id, plan)
    for cause in db_session.exec(select(Cause).where(Cause.gap_id == row.id)):
        db_session.delete(cause)
    for method in db_session.exec(select(Method).where(Method.gap_id == row.id)):
        method.gap_id = None
    db_session.flush()
    db_session.delete(row)
    _edited(db_session, plan, instance, actor, "gap", {"removed": gap_id})


def decide_gap(db_session: Session, *, plan_id: int, actor: Person, gap_id: int,
               decision: GapDecision, expected_version: int | None = None) -> Gap:
    """Decide whether a gap enters the plan; leaving one out needs a reason."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    row = _child(db_session, Gap, gap_id, plan)
    if not decision.included and not decision.exclusion_reason:
        raise _invalid({"exclusion_reason": Message("Say why this gap is left out.")})
    row.included = decision.included
    row.exclusion_reason = "" if decision.included else decision.exclusion_reason
    _edited(db_session, plan, instance, actor, "gap_decision",
            {"gap": row.id, "included": decision.included})
    return row


def add_cause(db_session: Session, *, plan_id: int, actor: Person, gap_id: int,
              cause: CauseDraft, expected_version: int | None = None) -> Cause:
    """Record a cause of a gap, from a catalogue entry or in free text."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    gap = _child(db_session, Gap, gap_id, plan)
    if not cause.catalogue_key and not cause.text:
        raise _invalid({"text": Message("Pick a cause from the list or describe it.")})
    if cause.catalogue_key and not content.catalogue_has(cause.side, cause.catalogue_key):
        raise _invalid({"catalogue_key": Message("Choose one of the offered options.")})
    row = Cause(gap_id=gap.id, **cause.model_dump())
    db_session.add(row)
    db_session.flush()
    _edited(db_session, plan, instance, actor, "cause", {"added": row.id})
    return row


def remove_cause(db_session: Session, *, plan_id: int, actor: Person, cause_id: int,
                 expected_version: int | None = None) -> None:
    """Remove a cause."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    row = _child(db_session, Cause, cause_id, plan)
    db_session.delete(row)
    _edited(db_session, plan, instance, actor, "cause", {"removed": cause_id})


def add_method(db_session: Session, *, plan_id: int, actor: Person, method: MethodDraft,
               expected_version: int | None = None) -> Method:
    """Add a candidate method."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    if method.gap_id is not None:
        _child(db_session, Gap, method.gap_id, plan)
    row = Method(plan_id=plan.id, **method.model_dump())
    db_session.add(row)
    db_session.flush()
    _edited(db_session, plan, instance, actor, "method", {"added": row.id})
    return row


def choose_method(db_session: Session, *, plan_id: int, actor: Person, method_id: int,
                  chosen: bool, expected_version: int | None = None) -> Method:
    """Mark a method as chosen (accepted by both) or not."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    row = _child(db_session, Method, method_id, plan)
    row.chosen = chosen
    _edited(db_session, plan, instance, actor, "method", {"chosen": row.id, "value": chosen})
    return row


def remove_method(db_session: Session, *, plan_id: int, actor: Person, method_id: int,
                  expected_version: int | None = None) -> None:
    """Remove a candidate method."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    db_session.delete(_child(db_session, Method, method_id, plan))
    _edited(db_session, plan, instance, actor, "method", {"removed": method_id})


def update_details(db_session: Session, *, plan_id: int, actor: Person, details: PlanDetails,
                   expected_version: int | None = None) -> ImprovementPlan:
    """Set the goal, committed resources, period and cadence."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    errors: dict[str, Message] = {}
    if details.period_start and details.period_end and details.period_end <= details.period_start:
        errors["period_end"] = Message("The plan must end after it starts.")
    if errors:
        raise _invalid(errors)
    for key, value in details.model_dump().items():
        setattr(plan, key, value)
    if plan.period_end:
        instance.context = {**instance.context, "period_end": plan.period_end.isoformat()}
    _edited(db_session, plan, instance, actor, "details", {})
    return plan


def add_step(db_session: Session, *, plan_id: int, actor: Person, step: StepDraft,
             expected_version: int | None = None) -> Step:
    """Add a dated step."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    _check_step(db_session, plan, step)
    count = db_session.exec(select(func.count()).where(Step.plan_id == plan.id)).one()
    row = Step(plan_id=plan.id, position=count, **step.model_dump())
    db_session.add(row)
    db_session.flush()
    _edited(db_session, plan, instance, actor, "step", {"added": row.id})
    return row


def update_step(db_session: Session, *, plan_id: int, actor: Person, step_id: int,
                step: StepDraft, expected_version: int | None = None) -> Step:
    """Change a step."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    row = _child(db_session, Step, step_id, plan)
    _check_step(db_session, plan, step)
    for key, value in step.model_dump().items():
        setattr(row, key, value)
    _edited(db_session, plan, instance, actor, "step", {"changed": row.id})
    return row


def remove_step(db_session: Session, *, plan_id: int, actor: Person, step_id: int,
                expected_version: int | None = None) -> None:
    """Remove a step."""
    plan, instance = _authoring(db_session, plan_id, actor, expected_version)
    db_session.delete(_child(db_session, Step, step_id, plan))
    _edited(db_session, plan, instance, actor, "step", {"removed": step_id})


def _check_step(db_session: Session, plan: ImprovementPlan, step: StepDraft) -> None:
    errors: dict[str, Message] = {}
    if step.due_on is None:
        errors["due_on"] = Message("Every step needs a date.")
    elif plan.period_start and plan.period_end and not (
        plan.period_start <= step.due_on <= plan.period_end
    ):
        errors["due_on"] = Message("The date must lie inside the plan period.")
    if step.owner_id is not None and db_session.get(Person, step.owner_id) is None:
        errors["owner_id"] = Message("Choose one of the offered options.")
    if errors:
        raise _invalid(errors)


def act(
    db_session: Session,
    *,
    plan_id: int,
    actor: Person,
    trigger: str,
    payload: dict[str, Any] | None = None,
    expected_version: int | None = None,
    on_behalf_of_id: int | None = None,
) -> runtime.FireResult:
    """Take a workflow action on a plan (a signature binds to the exact current version
    through the content hasher the plan domain installs in the engine)."""
    plan, instance = get_plan_and_instance(db_session, plan_id=plan_id, viewer=actor)
    return act_on(db_session, plan=plan, instance=instance, actor=actor, trigger=trigger,
                  payload=payload, expected_version=expected_version,
                  on_behalf_of_id=on_behalf_of_id)


def act_on(
    db_session: Session,
    *,
    plan: ImprovementPlan,
    instance: WorkflowInstance,
    actor: Person,
    trigger: str,
    payload: dict[str, Any] | None = None,
    expected_version: int | None = None,
    on_behalf_of_id: int | None = None,
    strict_payload: bool = False,
) -> runtime.FireResult:
    """`act` on a plan and instance already read with `get_plan_and_instance` for this actor
    (the engine still decides whether the actor may take the action)."""
    assert plan.instance_id == instance.id
    return runtime.fire(db_session, instance, trigger, actor, payload or {},
                        expected_version=expected_version, on_behalf_of_id=on_behalf_of_id,
                        strict_payload=strict_payload)


def versions(db_session: Session, *, plan: ImprovementPlan) -> list[PlanVersion]:
    """A plan's frozen versions, oldest first."""
    return list(db_session.exec(
        select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.number)
    ))


def may_open_for(db_session: Session, *, actor: Person, employee: Person) -> bool:
    """Plans are opened by the employee, anyone above them, or HR over their unit."""
    if actor.id == employee.id:
        return True
    from app.org.service import supervisor_chain

    if any(boss.id == actor.id for boss in supervisor_chain(db_session, employee)):
        return True
    return access.holds_scope_over(db_session, actor, employee.org_unit_id)


def open_plan(db_session: Session, *, actor: Person, employee_id: int | None, title: str,
              gaps: Sequence[GapDraft] = ()) -> ImprovementPlan:
    """Open a plan as the employee, a supervisor above them, or their HR."""
    employee = db_session.get(Person, employee_id) if employee_id else actor
    if employee is None or not employee.active:
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            "employee_id": Message("Choose one of the offered options.")})
    if not may_open_for(db_session, actor=actor, employee=employee):
        raise NotAllowed("You may open plans only for yourself and the people you supervise.")
    return start_plan(db_session, employee=employee, initiator=actor, title=title, gaps=gaps,
                      source="manual")
