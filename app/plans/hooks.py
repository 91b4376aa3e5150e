"""What the plan domain does when its workflow moves: versions, checkpoints, the next cycle."""

from __future__ import annotations

from sqlmodel import Session

from app.engine import runtime
from app.engine.models import WorkflowInstance
from app.engine.registry import CompiledWorkflow
from app.org.models import Person
from app.plans import checkpoints, content, review, service
from app.plans.schemas import GapDraft


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
        content.ensure_version(session, plan=plan, actor=None, reason="proposed")
    elif moved == ("plan_agreed", "in_progress"):
        checkpoints.generate(session, plan, instance)
    elif moved == ("in_progress", "plan_drafted"):
        checkpoints.close_open(session, plan, "cancelled")
    elif moved == ("in_progress", "under_review"):
        checkpoints.close_open(session, plan, "missed")
    if result.from_state == "under_review":
        _note_supervisor_decision(session, plan.id, instance, result)
    if result.to_state == "next_cycle":
        _open_next_cycle(session, plan, instance)


def _note_supervisor_decision(session: Session, plan_id: int, instance: WorkflowInstance,
                              result: runtime.FireResult) -> None:
    bundle = review.load(session, plan_id)
    if bundle is None:
        return
    bundle.review.supervisor_decision = "return" if result.to_state == "in_progress" else "accept"
    bundle.review.supervisor_comment = str(instance.context.get("last_comment")
                                           or instance.context.get("last_reason") or "")


def _open_next_cycle(session: Session, plan, instance: WorkflowInstance) -> None:
    """Cycle n+1 starts as a draft with the gaps that were worked on, linked to this one."""
    employee = session.get(Person, plan.employee_id)
    if employee is None or not employee.active:
        return
    gaps = [
        GapDraft(requirement=g.requirement, actual=g.actual, metric=g.metric, unit=g.unit,
                 baseline=g.baseline, target=g.target, source=g.source)
        for g in content.gaps_of(session, plan.id) if g.included
    ]
    nxt = service.start_plan(session, employee=employee, initiator=None, title=plan.title,
                             gaps=gaps, source="next_cycle", previous=plan)
    instance.context = {**instance.context, "next_plan_id": nxt.id}


def signed_content_hash(session: Session, instance: WorkflowInstance, actor: Person) -> str:
    """The hash of the plan version being signed, frozen now if the content changed."""
    plan = service.plan_for(session, instance)
    if plan is None:
        return ""
    return content.ensure_version(session, plan=plan, actor=actor, reason="signed").content_hash


if on_state_change not in runtime.STATE_HOOKS:
    runtime.STATE_HOOKS.append(on_state_change)
runtime.CONTENT_HASHERS[service.WORKFLOW] = signed_content_hash
