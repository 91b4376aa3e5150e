"""What the engine calls: the due calculator, and the reaction to every state change."""

from __future__ import annotations

from sqlmodel import Session

from app import clock
from app.config import get_settings
from app.engine import calendar, runtime
from app.engine.models import Task, WorkflowInstance
from app.engine.registry import CompiledWorkflow
from app.engine.runtime import FireResult
from app.notifications.models import MessageKind
from app.notifications.outbox import enqueue
from app.org.models import Person
from app.reminders.service import cancel_closed, schedule_open_tasks, schedule_tasks


def on_state_change(session: Session, compiled: CompiledWorkflow, instance: WorkflowInstance,
                    result: FireResult) -> None:
    """In the action's own transaction: drop timers that no longer apply, plan the new tasks'
    timers, and tell the subject the final result when the case has ended."""
    now = clock.now()
    assert instance.id is not None
    cancel_closed(session, instance_id=instance.id)
    # the engine says which tasks the action opened: no search for unscheduled ones (a domain
    # that opens its own tasks announces them through runtime.tasks_changed)
    schedule_tasks(session, result.opened, compiled, now)
    ended = compiled.spec.states[result.to_state].terminal
    if ended and result.from_state != result.to_state:
        subject = session.get(Person, instance.subject_id)
        if subject is not None and subject.active:
            enqueue(
                session,
                key=f"final:i{instance.id}:e{result.event_id}:p{subject.id}",
                kind=MessageKind.final_result,
                recipient=subject,
                now=now,
                digest_default=get_settings().digest_default,
                instance_id=instance.id,
                params={"state": result.to_state, "from_state": result.from_state,
                        "event_id": result.event_id},
            )


def on_tasks_changed(session: Session, compiled: CompiledWorkflow,
                     instance: WorkflowInstance, opened: list[Task] | None = None) -> None:
    """Tasks opened or closed without a state change get (or lose) their timers at once."""
    assert instance.id is not None
    cancel_closed(session, instance_id=instance.id)
    if opened is None:  # a domain's own tasks: find those without timers
        schedule_open_tasks(session, clock.now(), instance_id=instance.id, compiled=compiled)
    else:
        schedule_tasks(session, opened, compiled, clock.now())


def install() -> None:
    """Connect reminders to the engine (idempotent): call once at start-up of every process."""
    calendar.install_due_calculator()
    if on_state_change not in runtime.STATE_HOOKS:
        runtime.STATE_HOOKS.append(on_state_change)
    if on_tasks_changed not in runtime.TASK_HOOKS:
        runtime.TASK_HOOKS.append(on_tasks_changed)


def uninstall() -> None:
    """Disconnect again (tests)."""
    calendar.uninstall_due_calculator()
    while on_state_change in runtime.STATE_HOOKS:
        runtime.STATE_HOOKS.remove(on_state_change)
    while on_tasks_changed in runtime.TASK_HOOKS:
        runtime.TASK_HOOKS.remove(on_tasks_changed)
