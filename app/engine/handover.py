"""Handed-over tasks: HR gives an open task to a named person, who then acts in its place.

The audit trail is the record of the hand-over (trigger `reassign`, payload `task_id`, `to`),
so the rule needs no column of its own and can never be granted without leaving a trace.
"""

from __future__ import annotations

from sqlmodel import Session, select

from app.engine.models import AuditEvent, Task, TaskStatus, WorkflowInstance

REASSIGN_TRIGGER = "reassign"


def handed_over_expr(session: Session, instance: WorkflowInstance, exprs: list[str],
                     person_id: int) -> str | None:
    """The actor expression of an open task handed to this person on this instance, if any."""
    if not exprs or instance.id is None:
        return None
    tasks = list(session.exec(
        select(Task.id, Task.actor_expr).where(
            Task.instance_id == instance.id,
            Task.status == TaskStatus.open,
            Task.kind == "act",
            Task.assignee_id == person_id,
            Task.actor_expr.in_(exprs),
        )
    ))
    if not tasks:
        return None
    handed = {
        (payload.get("task_id"), payload.get("to"))
        for payload in session.exec(
            select(AuditEvent.payload).where(AuditEvent.instance_id == instance.id,
                                             AuditEvent.trigger == REASSIGN_TRIGGER)
        )
        if isinstance(payload, dict)
    }
    for task_id, expr in tasks:
        if (task_id, person_id) in handed:
            return expr
    return None
