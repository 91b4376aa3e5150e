"""Handed-over tasks: HR gives an open task to a named person, who then acts in its place.

The audit trail is the record of the hand-over (trigger `reassign`, payload `task_id`, `to`),
so the rule needs no column of its own and can never be granted without leaving a trace.
"""

from __future__ import annotations

from sqlmodel import Session, select

from app.engine.models import AuditEvent, Task, TaskStatus, WorkflowInstance

REASSIGN_TRIGGER = "reassign"


def handed_over_exprs(session: Session, instance: WorkflowInstance, person_id: int) -> set[str]:
    """The actor expressions of the open tasks handed to this person on this instance."""
    if instance.id is None:
        return set()
    tasks = list(session.exec(
        select(Task.id, Task.actor_expr).where(
            Task.instance_id == instance.id,
            Task.status == TaskStatus.open,
            Task.kind == "act",
            Task.assignee_id == person_id,
        )
    ))
    if not tasks:
        return set()
    handed = {
        (payload.get("task_id"), payload.get("to"))
        for payload in session.exec(
            select(AuditEvent.payload).where(AuditEvent.instance_id == instance.id,
                                             AuditEvent.trigger == REASSIGN_TRIGGER)
        )
        if isinstance(payload, dict)
    }
    return {expr for task_id, expr in tasks if (task_id, person_id) in handed and expr}
