"""What the plan domain does when its workflow moves: versions, checkpoints, the next cycle."""

from __future__ import annotations

from sqlmodel import Session

from app import clock
from app.engine import runtime
from app.engine.models import AuditEvent, WorkflowInstance
from app.engine.registry import CompiledWorkflow
from app.org.models import Person
from app.plans import checkpoints, content, review, service
from app.plans.models import ImprovementPlan
from app.plans.schemas import GapDraft

CARRYING_OUT = ("in_progress", "under_review")  # checkpoints are worked on in these states


def on_state_change(session: Session, compiled: CompiledWorkflow, instance: WorkflowInstance,
                    result: runtime.FireResult) -> None:
    """React to a completed plan transition inside the same transaction."""
    if instance.workflow != service.WORKFLOW:
        return
    plan = service.plan_for(session, instance)
    if plan is None:
        return
    moved = (result.from_state, result.to_state)
    if result.to_state == "plan_proposed":
        content.freeze(session, plan=plan, actor=None, reason="proposed")
    elif moved == ("plan_agreed", "in_progress"):
        checkpoints.generate(session, plan, instance)
    elif moved == ("in_progress", "plan_drafted"):
        checkpoints.cancel_open(session, plan)
    elif moved == ("under_review", "in_progress"):
        checkpoints.reopen(session, plan, instance)
    elif result.from_state in CARRYING_OUT and result.to_state not in CARRYING_OUT:
        checkpoints.conclude(session, plan, clock.today())
    if result.from_state != "under_review" and result.to_state != "next_cycle":
        return  # only these need the action's own event: no read on every other move
    event = session.get(AuditEvent, result.event_id)
    if result.from_state == "under_review" and event is not None:
        _note_supervisor_decision(session, plan.id, result, event)
    if result.to_state == "next_cycle":
        _open_next_cycle(session, plan, instance, event)


def _note_supervisor_decision(session: Session, plan_id: int, result: runtime.FireResult,
                              event: AuditEvent) -> None:
    """The review's sign-off block holds what the supervisor said with this very action (a
    send-back's reason, an outcome's comment, or nothing), never an earlier action's words."""
    bundle = review.load(session, plan_id)
    if bundle is None:
        return
    bundle.review.supervisor_decision = "return" if result.to_state == "in_progress" else "accept"
    bundle.review.supervisor_comment = event.comment


def _open_next_cycle(session: Session, plan: ImprovementPlan, instance: WorkflowInstance,
                     event: AuditEvent | None) -> None:
    """Cycle n+1 starts as a draft with the gaps that were worked on, linked to this one; it
    was started by whoever took the decision that opened it (the supervisor's review outcome,
    or HR's decision), not by the employee."""
    employee = session.get(Person, plan.employee_id)
    if employee is None or not employee.active:
        return
    gaps = [
        GapDraft(requirement=g.requirement, actual=g.actual, metric=g.metric, unit=g.unit,
                 baseline=g.baseline, target=g.target, source=g.source)
        for g in content.gaps_of(session, plan.id) if g.included
    ]
    decider = session.get(Person, event.actor_id) if event and event.actor_id else None
    nxt = service.start_plan(session, employee=employee, initiator=decider, title=plan.title,
                             gaps=gaps, source="next_cycle", previous=plan,
                             on_behalf_of_id=event.on_behalf_of_id if event else None)
    instance.context = {**instance.context, "next_plan_id": nxt.id}


def signed_content_hash(session: Session, instance: WorkflowInstance, actor: Person) -> str:
    """The hash of the plan version being signed, frozen now if the content changed."""
    plan = service.plan_for(session, instance)
    if plan is None:
        return ""
    return content.freeze(session, plan=plan, actor=actor, reason="signed")[1]


if on_state_change not in runtime.STATE_HOOKS:
    runtime.STATE_HOOKS.append(on_state_change)
runtime.CONTENT_HASHERS[service.WORKFLOW] = signed_content_hash
