"""Named guards: conditions a workflow file can require before an action may happen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.engine.guard_names import GUARDS, GuardFn, guard
from app.i18n import Message

if TYPE_CHECKING:
    from app.engine.definitions import WorkflowSpec
    from app.engine.models import WorkflowInstance
    from app.org.models import Person


@dataclass
class GuardContext:
    """What a guard may look at: the instance, the actor, the submitted form."""

    session: Session
    instance: WorkflowInstance
    actor: Person
    payload: dict[str, Any]
    spec: WorkflowSpec
    extra: dict[str, Any] = field(default_factory=dict)


__all__ = ["GUARDS", "GuardContext", "GuardFn", "guard"]


@guard("subject_active")
def subject_active(ctx: GuardContext) -> Message | None:
    """The person the instance is about is still employed."""
    from app.org.models import Person

    subject = ctx.session.get(Person, ctx.instance.subject_id)
    if subject is None or not subject.active:
        return Message("The employee is no longer active.")
    return None


@guard("comment_given")
def comment_given(ctx: GuardContext) -> Message | None:
    """A written comment accompanies the action."""
    if not str(ctx.payload.get("comment") or "").strip():
        return Message("Please write a comment.")
    return None
