"""Guards the improvement-plan workflow names: the content must be ready for the next step."""

from __future__ import annotations

from sqlmodel import select

from app.engine.guards import GuardContext, guard
from app.i18n import Message
from app.plans import content, review, rules
from app.plans.models import Gap, ImprovementPlan, Method


def _plan(ctx: GuardContext) -> ImprovementPlan | None:
    return ctx.session.exec(
        select(ImprovementPlan).where(ImprovementPlan.instance_id == ctx.instance.id)
    ).first()


@guard("plan_has_gap")
def plan_has_gap(ctx: GuardContext) -> Message | None:
    """At least one gap is recorded."""
    plan = _plan(ctx)
    if plan is None or not content.gaps_of(ctx.session, plan.id):
        return Message("Record at least one performance gap.")
    return None


@guard("gaps_decided")
def gaps_decided(ctx: GuardContext) -> Message | None:
    """Every gap is decided, one is included, and each included gap has a cause."""
    plan = _plan(ctx)
    gaps = content.gaps_of(ctx.session, plan.id) if plan else []
    problems = rules.gap_problems(gaps)
    if problems:
        return next(iter(problems.values()))
    causes = content.causes_of(ctx.session, [g.id for g in gaps if g.included])
    if any(not found for found in causes.values()):
        return Message("Analyse at least one cause for every gap that enters the plan.")
    return None


@guard("method_chosen")
def method_chosen(ctx: GuardContext) -> Message | None:
    """At least one method is chosen by both sides."""
    plan = _plan(ctx)
    chosen = ctx.session.exec(select(Method.id).where(Method.plan_id == plan.id,
                                                      Method.chosen)).first() if plan else None
    return None if chosen else Message("Choose at least one method both sides accept.")


@guard("plan_complete")
def plan_complete(ctx: GuardContext) -> Message | None:
    """The plan meets every rule of a valid plan (DOMAIN §2)."""
    plan = _plan(ctx)
    if plan is None:
        return Message("Record at least one performance gap.")
    problems = plan_problems(ctx, plan)
    if problems:
        return Message("The plan is not complete yet: {count} point(s) to fix, shown next to "
                       "the fields.", {"count": len(problems)})
    return None


def plan_problems(ctx: GuardContext, plan: ImprovementPlan) -> dict[str, Message]:
    """Every rule the plan still breaks."""
    gaps = list(ctx.session.exec(select(Gap).where(Gap.plan_id == plan.id)
                                 .order_by(Gap.position, Gap.id)))
    chosen = len(ctx.session.exec(select(Method.id).where(Method.plan_id == plan.id,
                                                          Method.chosen)).all())
    return rules.plan_problems(plan, gaps, content.steps_of(ctx.session, plan.id), chosen)


@guard("review_complete")
def review_complete(ctx: GuardContext) -> Message | None:
    """The period-end review is written and explains every indicator under plan."""
    plan = _plan(ctx)
    problems = review.problems_of(review.load(ctx.session, plan.id) if plan else None)
    if problems:
        return next(iter(problems.values()))
    return None
