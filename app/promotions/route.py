"""A case's route drawn as steps: the path its workflow takes for it, and where it stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from app.engine import audit
from app.engine.conditions import condition_holds
from app.engine.definitions import Condition, WorkflowSpec
from app.engine.guards import GuardContext
from app.engine.models import WorkflowInstance
from app.i18n import N_
from app.promotions.models import FilingNotice

NOTICE_LABEL = N_("Filing notice to head office (for information, never blocks closing)")


@dataclass
class RouteStep:
    """One step of the route and how far the case got."""

    key: str  # the state name, or "filing" for the notice
    label: dict[str, str] | str  # a state's labels, or a msgid
    actors: list[str] = field(default_factory=list)
    status: str = "pending"  # done current pending returned rejected withdrawn not_reached sent
    blocking: bool = True


def _forward(spec: WorkflowSpec, state: str) -> Any:
    return next((t for t in spec.transitions_from(state) if not t.optional), None)


def _next_state(spec: WorkflowSpec, transition: Any, instance: WorkflowInstance) -> str:
    if transition.dest:
        return transition.dest
    ctx = GuardContext(session=None, instance=instance, actor=None, payload={},  # type: ignore[arg-type]
                       spec=spec)
    for route in transition.routes:
        if route.when is None:
            return route.dest
        if isinstance(route.when, Condition) and route.when.field is None and (
                condition_holds(route.when, ctx)):
            return route.dest
    return transition.routes[-1].dest


def planned_path(spec: WorkflowSpec, instance: WorkflowInstance) -> list[str]:
    """The states the case passes on its way to the end, given its context."""
    path = [spec.initial]
    while True:
        transition = _forward(spec, path[-1])
        if transition is None:
            return path
        following = _next_state(spec, transition, instance)
        if following in path:
            return path
        path.append(following)


def route_steps(session: Session, *, spec: WorkflowSpec, instance: WorkflowInstance,
                request_id: int | None = None) -> list[RouteStep]:
    """The route with each step's status, the current one marked, the filing notice last."""
    path = planned_path(spec, instance)
    steps = []
    for state in path:
        transition = _forward(spec, state)
        steps.append(RouteStep(state, dict(spec.states[state].label),
                               list(transition.actors) if transition else []))
    current = instance.state
    if current in path:
        at = path.index(current)
        for i, step in enumerate(steps):
            step.status = "done" if i < at else "current" if i == at else "pending"
        if spec.states[current].terminal:
            steps[at].status = "done"
    else:
        events = audit.trail(session, instance.id)
        last = next((e for e in reversed(events)
                     if e.from_state in path and e.to_state not in path), None)
        stopped = path.index(last.from_state) if last and last.from_state in path else 0
        outcome = {"returned": "returned", "rejected": "rejected"}.get(current, "withdrawn")
        for i, step in enumerate(steps):
            step.status = ("done" if i < stopped else outcome if i == stopped
                           else "not_reached")
    filing = instance.context.get("filing") or []
    if filing and request_id is not None:
        sent = session.exec(select(FilingNotice.id).where(
            FilingNotice.request_id == request_id)).first()
        status = "sent" if sent else ("pending" if current in path and not (
            spec.states[current].terminal) else "not_reached")
        steps.append(RouteStep("filing", NOTICE_LABEL, list(filing), status, blocking=False))
    return steps


def visible_instance(session: Session, instance_id: int | None,
                     viewer: Any) -> WorkflowInstance | None:
    """A case's instance if the viewer may see it; someone further down its route hears that
    it is not at their step yet (409); anyone else gets None (it does not exist for them)."""
    from app.engine import access, runtime
    from app.engine.steps import refuse_other_step

    instance = session.get(WorkflowInstance, instance_id) if instance_id else None
    if instance is None:
        return None
    if not access.can_view(session, viewer, instance):
        refuse_other_step(session, instance, viewer, runtime.get_registry())
        return None
    return instance
