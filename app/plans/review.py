"""The period-end review form (总结, DOMAIN §2a): saved whole, checked before the outcome."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app import clock
from app.engine import runtime
from app.engine.actors import ActorResolver
from app.engine.models import WorkflowInstance
from app.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.i18n import Message
from app.org.models import Person
from app.plans import rules
from app.plans.models import (
    ImprovementPlan,
    Review,
    ReviewIndicator,
    ReviewMeasure,
    ReviewProblem,
    ReviewTarget,
    ReviewTraining,
)
from app.plans.schemas import ReviewDraft

REVIEW_STATES = ("in_progress", "under_review")
CHILDREN = (ReviewIndicator, ReviewMeasure, ReviewTraining, ReviewProblem, ReviewTarget)


@dataclass
class ReviewBundle:
    """A review with all its rows."""

    review: Review
    indicators: list[ReviewIndicator]
    measures: list[ReviewMeasure]
    trainings: list[ReviewTraining]
    problems: list[ReviewProblem]
    targets: list[ReviewTarget]


def load(db_session: Session, plan_id: int) -> ReviewBundle | None:
    """A plan's review with its rows, or None when none was written yet."""
    review = db_session.exec(select(Review).where(Review.plan_id == plan_id)).first()
    if review is None:
        return None

    def rows(model: type) -> list:
        return list(db_session.exec(select(model).where(model.review_id == review.id)
                                    .order_by(model.id)))

    return ReviewBundle(review, rows(ReviewIndicator), rows(ReviewMeasure),
                        rows(ReviewTraining), rows(ReviewProblem), rows(ReviewTarget))


def problems_of(bundle: ReviewBundle | None) -> dict[str, Message]:
    """What is still missing before the supervisor can record the outcome."""
    if bundle is None:
        return {"review": Message("The period-end review has not been written yet.")}
    return rules.review_problems(bundle.indicators, bundle.problems,
                                 bundle.review.cut_off_on is not None)


def save(db_session: Session, *, plan: ImprovementPlan, instance: WorkflowInstance,
         actor: Person, draft: ReviewDraft, expected_version: int | None = None) -> ReviewBundle:
    """Write the employee's review (replacing the earlier text), while the plan runs or is
    under review."""
    resolver = ActorResolver(db_session, instance)
    if runtime.acts_as(db_session, resolver, instance, ["subject", "subject.supervisor"],
                       actor, None) is None:
        raise NotAllowed("Only the employee and the supervisor may write the review.")
    if instance.state not in REVIEW_STATES:
        raise InvalidTransition("The review is written while the plan runs or is under review.")
    names = [row.indicator for row in draft.indicators]
    errors: dict[str, Message] = {}
    for i, problem in enumerate(draft.problems):
        if problem.indicator and problem.indicator not in names:
            errors[f"problems[{i}].indicator"] = Message("Choose one of the offered options.")
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    review = db_session.exec(select(Review).where(Review.plan_id == plan.id)).first()
    if review is None:
        review = Review(plan_id=plan.id)
        db_session.add(review)
        db_session.flush()
    for model in CHILDREN:
        for row in db_session.exec(select(model).where(model.review_id == review.id)):
            db_session.delete(row)
    db_session.flush()
    for key in ("period_label", "cut_off_on", "post", "honours", "next_measures"):
        setattr(review, key, getattr(draft, key))
    review.updated_at = clock.now()
    by_name: dict[str, ReviewIndicator] = {}
    for position, row in enumerate(draft.indicators):
        indicator = ReviewIndicator(review_id=review.id, position=position, **row.model_dump())
        db_session.add(indicator)
        by_name[row.indicator] = indicator
    db_session.flush()
    for row in draft.measures:
        db_session.add(ReviewMeasure(review_id=review.id, **row.model_dump()))
    for row in draft.trainings:
        db_session.add(ReviewTraining(review_id=review.id, **row.model_dump()))
    for row in draft.problems:
        linked = by_name.get(row.indicator)
        db_session.add(ReviewProblem(review_id=review.id,
                                     indicator_id=linked.id if linked else None,
                                     **row.model_dump(exclude={"indicator"})))
    for row in draft.targets:
        db_session.add(ReviewTarget(review_id=review.id, **row.model_dump()))
    runtime.record_event(db_session, instance, trigger="edit_review", actor=actor,
                         expected_version=expected_version, payload={"review": review.id})
    db_session.flush()
    bundle = load(db_session, plan.id)
    assert bundle is not None
    return bundle
