"""How a plan's cycle ended, as data: the review outcome, HR's decision and whom it applies to,
and HR's comment in the review's sign-off block (DOMAIN §2, §2a).

The outcome and the decision are read from the audit trail (the events that made them), so
they are exactly what was signed off and cannot drift from it; HR's comment is kept on the
review and its writing is audited too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app import clock
from app.engine import runtime
from app.engine.actors import ActorResolver
from app.engine.models import AuditEvent, WorkflowInstance
from app.errors import Incomplete, InvalidTransition, NotAllowed, ValidationFailed
from app.i18n import Message
from app.org.models import Person
from app.plans import review
from app.plans.models import ImprovementPlan

REVIEW, DECIDE, HR_COMMENT = "review", "decide", "hr_comment"
# HR comments on a review once it is submitted: under review, waiting for HR, and after.
COMMENT_STATES = frozenset({"under_review", "hr_decision", "closed", "next_cycle",
                            "closed_by_hr"})
HR_ACTORS = ["role:hr@subject.branch"]
COMMENT_MAX = 4000


@dataclass
class Outcome:
    """The outcome of one plan cycle (None where nothing was decided yet)."""

    review_outcome: str | None = None
    reviewed_at: datetime | None = None
    reviewed_by_id: int | None = None
    supervisor_comment: str = ""
    hr_decision: str | None = None
    applies_to: str | None = None
    hr_reason: str = ""
    decided_at: datetime | None = None
    decided_by_id: int | None = None
    hr_comment: str = ""
    hr_comment_at: datetime | None = None
    hr_comment_by_id: int | None = None
    next_plan_id: int | None = None


def _latest(db_session: Session, instance_id: int) -> dict[str, AuditEvent]:
    """The latest review, decision and HR-comment events of a case."""
    found: dict[str, AuditEvent] = {}
    for event in db_session.exec(
        select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                 col(AuditEvent.trigger).in_((REVIEW, DECIDE, HR_COMMENT)))
        .order_by(AuditEvent.seq)
    ):
        found[event.trigger] = event
    return found


def outcome_of(db_session: Session, plan: ImprovementPlan,
               instance: WorkflowInstance) -> Outcome:
    """The plan's outcome as recorded so far."""
    events = _latest(db_session, instance.id)
    bundle = review.load(db_session, plan.id)
    next_plan = instance.context.get("next_plan_id")
    found = Outcome(next_plan_id=next_plan if isinstance(next_plan, int) else None)
    if bundle is not None:
        found.hr_comment = bundle.review.hr_comment
        found.supervisor_comment = bundle.review.supervisor_comment
    if (event := events.get(REVIEW)) is not None:
        found.review_outcome = event.payload.get("outcome")
        found.reviewed_at, found.reviewed_by_id = event.at, event.actor_id
        found.supervisor_comment = str(event.payload.get("comment") or found.supervisor_comment)
    if (event := events.get(DECIDE)) is not None:
        found.hr_decision = event.payload.get("hr_decision")
        found.applies_to = event.payload.get("decision_applies_to")
        found.hr_reason = str(event.payload.get("reason") or "")
        found.decided_at, found.decided_by_id = event.at, event.actor_id
    if (event := events.get(HR_COMMENT)) is not None:
        found.hr_comment_at, found.hr_comment_by_id = event.at, event.actor_id
    return found


def is_plan_hr(db_session: Session, instance: WorkflowInstance, person: Person) -> bool:
    """Whether the person is the HR the plan's decisions belong to."""
    resolver = ActorResolver(db_session, instance)
    return runtime.acts_as(db_session, resolver, instance, HR_ACTORS, person, None) is not None


def may_comment(db_session: Session, plan: ImprovementPlan, instance: WorkflowInstance,
                person: Person) -> bool:
    """Whether the person may write HR's comment now."""
    return (instance.state in COMMENT_STATES and is_plan_hr(db_session, instance, person)
            and review.load(db_session, plan.id) is not None)


def write_hr_comment(db_session: Session, *, plan: ImprovementPlan,
                     instance: WorkflowInstance, actor: Person, comment: str,
                     expected_version: int | None = None) -> Outcome:
    """HR writes (or rewrites) its comment on the submitted review; audited."""
    if not is_plan_hr(db_session, instance, actor):
        raise NotAllowed("Only HR responsible for this plan may comment on its review.")
    if instance.state not in COMMENT_STATES:
        raise InvalidTransition("HR comments on the review once it has been submitted.")
    bundle = review.load(db_session, plan.id)
    if bundle is None:
        raise Incomplete("The period-end review has not been written yet.")
    if not comment.strip():
        raise ValidationFailed("Please correct the marked fields.",
                               field_errors={"comment": Message("This field is required.")})
    if len(comment.strip()) > COMMENT_MAX:
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            "comment": Message("At most {n} characters.", {"n": COMMENT_MAX})})
    bundle.review.hr_comment = comment.strip()
    bundle.review.updated_at = clock.now()
    runtime.record_event(db_session, instance, trigger=HR_COMMENT, actor=actor,
                         comment=bundle.review.hr_comment, expected_version=expected_version,
                         payload={"review": bundle.review.id})
    db_session.flush()
    return outcome_of(db_session, plan, instance)
