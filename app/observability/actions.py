"""Counting workflow actions once they commit (an action rolled back never happened)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from app.engine import runtime
from app.engine.models import WorkflowInstance
from app.engine.registry import CompiledWorkflow
from app.observability.metrics import ACTIONS

PENDING_KEY = "stepwise_fired_actions"


def note_action(session: Session, _compiled: CompiledWorkflow, instance: WorkflowInstance,
                trigger: str) -> None:
    """Remember an action of this transaction until it commits."""
    session.info.setdefault(PENDING_KEY, []).append((instance.workflow, trigger))


def _count_committed(session: OrmSession) -> None:
    for workflow, trigger in session.info.pop(PENDING_KEY, ()):
        ACTIONS.labels(workflow, trigger).inc()


def _forget_rolled_back(session: OrmSession, *_args: object) -> None:
    session.info.pop(PENDING_KEY, None)


def install() -> None:
    """Count committed actions from now on (idempotent; every process calls it at start-up)."""
    if note_action not in runtime.FIRED_HOOKS:
        runtime.FIRED_HOOKS.append(note_action)
    if not event.contains(OrmSession, "after_commit", _count_committed):
        event.listen(OrmSession, "after_commit", _count_committed)
        event.listen(OrmSession, "after_rollback", _forget_rolled_back)
