"""Reading and acting on an instance on behalf of a signed-in person, visibility enforced."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.engine import audit, runtime, steps
from app.engine.models import AuditEvent, Task, TaskStatus, WorkflowInstance
from app.errors import InstanceNotFound
from app.instances import access
from app.org.models import Person


def get_visible(*, db_session: Session, person: Person, instance_id: int) -> WorkflowInstance:
    """The instance, if this person may see it; otherwise it does not exist for them."""
    instance = db_session.get(WorkflowInstance, instance_id)
    if instance is None or not access.can_view(db_session, person, instance):
        raise InstanceNotFound("Case {id} does not exist or is not visible to you.",
                               id=instance_id)
    return instance


def still_visible(*, db_session: Session, person: Person, instance: WorkflowInstance) -> bool:
    """Whether the person may still see the instance (after acting, they may no longer)."""
    db_session.flush()
    return access.can_view(db_session, person, instance)


def visible_instances(
    *, db_session: Session, person: Person, workflow: str | None = None, limit: int = 200
) -> list[WorkflowInstance]:
    """The newest instances this person may see (optionally of one workflow)."""
    query = select(WorkflowInstance).where(access.visible_filter(db_session, person))
    if workflow:
        query = query.where(WorkflowInstance.workflow == workflow)
    query = query.order_by(WorkflowInstance.updated_at.desc()).limit(limit)
    return list(db_session.exec(query))


def events(*, db_session: Session, instance: WorkflowInstance) -> list[AuditEvent]:
    """The audit trail, oldest first."""
    return audit.trail(db_session, instance.id)


def open_tasks(*, db_session: Session, instance: WorkflowInstance) -> list[Task]:
    """Who the instance is waiting on now."""
    return list(
        db_session.exec(
            select(Task)
            .where(Task.instance_id == instance.id, Task.status == TaskStatus.open)
            .order_by(Task.id)
        )
    )


def take_action(
    *,
    db_session: Session,
    person: Person,
    instance_id: int,
    trigger: str,
    payload: dict[str, Any],
    expected_version: int | None,
    on_behalf_of_id: int | None,
    strict_payload: bool = False,
) -> runtime.FireResult:
    """Fire an action as this person; an instance they cannot see is not found.

    A stale version is reported before anything else: whatever else looks wrong to the
    caller (the action is gone, the form changed) follows from acting on an old view.
    Someone who acts at another step of the case's route hears that it is not at their step.
    """
    found = db_session.get(WorkflowInstance, instance_id)
    if found is not None and not access.can_view(db_session, person, found):
        steps.refuse_other_step(db_session, found, person, runtime.get_registry())
    instance = get_visible(db_session=db_session, person=person, instance_id=instance_id)
    registry = runtime.get_registry()
    spec = registry.compiled(db_session, instance.definition_id).spec
    if spec.transition(trigger, instance.state) is None and spec.transition(trigger):
        steps.refuse_other_step(db_session, instance, person, registry)
    if expected_version != runtime.VERSION_MISSING:
        runtime.check_version(instance, expected_version)
    return runtime.fire(
        db_session,
        instance,
        trigger,
        person,
        payload,
        expected_version=expected_version,
        on_behalf_of_id=on_behalf_of_id,
        strict_payload=strict_payload,
    )
