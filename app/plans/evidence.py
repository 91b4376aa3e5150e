"""Evidence files added to a checkpoint one at a time (the API's upload), checked as forms are."""

from __future__ import annotations

from sqlmodel import Session

from app.engine import runtime
from app.engine.actors import ActorResolver
from app.engine.models import WorkflowInstance
from app.errors import AlreadyDone, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.org.models import Person
from app.plans import content, rules
from app.plans.models import Checkpoint, Evidence, ImprovementPlan

OPEN_FOR_EVIDENCE = ("open", "recorded")


def checkpoint_of(db_session: Session, plan: ImprovementPlan, checkpoint_id: int) -> Checkpoint:
    """A checkpoint of this plan (any other is not found)."""
    checkpoint = db_session.get(Checkpoint, checkpoint_id)
    if checkpoint is None or checkpoint.plan_id != plan.id:
        raise NotFound("No such checkpoint in this plan.")
    return checkpoint


def add_file(db_session: Session, *, plan: ImprovementPlan, instance: WorkflowInstance,
             checkpoint_id: int, actor: Person, filename: str, data: bytes,
             expected_version: int | None = None) -> Evidence:
    """The employee adds a file to a checkpoint not yet checked; audited with its hash."""
    checkpoint = checkpoint_of(db_session, plan, checkpoint_id)
    if runtime.acts_as(db_session, ActorResolver(db_session, instance), instance, ["subject"],
                       actor, None) is None:
        raise NotAllowed("You may not take this action on this case.")
    if instance.state != "in_progress":
        raise InvalidTransition("Checkpoints are recorded while the plan is in progress.")
    if checkpoint.status == "checked":
        raise AlreadyDone("This checkpoint has already been checked.")
    if checkpoint.status not in OPEN_FOR_EVIDENCE:
        raise InvalidTransition("This checkpoint is closed.")
    kind, problem = rules.check_evidence(filename, data)
    if problem:
        raise ValidationFailed("Please correct the marked fields.", field_errors={"file": problem})
    row = Evidence(checkpoint_id=checkpoint.id, filename=filename[-200:], content_type=kind,
                   size=len(data), sha256=content.sha256_bytes(data), data=data,
                   added_by_id=actor.id)
    db_session.add(row)
    db_session.flush()
    runtime.record_event(db_session, instance, trigger="evidence_added", actor=actor,
                         expected_version=expected_version,
                         payload={"checkpoint": checkpoint.id, "evidence": row.id,
                                  "sha256": row.sha256})
    return row
