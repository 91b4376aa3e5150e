"""Whose step: the steps of a case at which a person could act, though the case is elsewhere.

Someone further down a route (a president's office waiting for the committee) cannot see the
case yet; acting on it tells them it is not at their step, instead of "no such case".
"""

from __future__ import annotations

from sqlmodel import Session

from app.engine.actors import ActorResolver
from app.engine.models import WorkflowInstance
from app.engine.registry import Registry
from app.errors import InvalidTransition
from app.org.models import Person


def steps_of(session: Session, instance: WorkflowInstance, person: Person,
             registry: Registry) -> list[str]:
    """The open states, other than the current one, where this person would act."""
    spec = registry.compiled(session, instance.definition_id).spec
    resolver = ActorResolver(session, instance)
    found: list[str] = []
    for transition in spec.transitions:
        exprs = [e for e in [*transition.actors, *(s.signer for s in transition.sign_offs)]
                 if not e.startswith(("initiator", "subject"))]
        for state in spec.source_states(transition):
            if state == instance.state or state in found or spec.states[state].terminal:
                continue
            if any(resolver.matches(expr, person.id) for expr in exprs):
                found.append(state)
    return found


def refuse_other_step(session: Session, instance: WorkflowInstance, person: Person,
                      registry: Registry) -> None:
    """Raise "not at your step" (409) when the person acts elsewhere on this case's route."""
    found = steps_of(session, instance, person, registry)
    if found:
        spec = registry.compiled(session, instance.definition_id).spec
        raise InvalidTransition(
            "This case is not at your step: it is at “{state}”; you act at “{step}”.",
            state=dict(spec.states[instance.state].label),
            step=dict(spec.states[found[0]].label))
