"""A plan as data for pages and the API: content with labels in the reader's language."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.engine import runtime
from app.engine.actors import ActorResolver
from app.engine.guards import GuardContext
from app.engine.models import SignOff
from app.engine.registry import CompiledWorkflow
from app.i18n import gettext_for, pick_label
from app.org.models import Person
from app.plans import checkpoints, content, review, service
from app.plans.forms import BALANCE_KINDS
from app.plans.guards import plan_problems
from app.plans.models import Checkpoint, ImprovementPlan


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: _iso(v) for k, v in obj.model_dump().items() if k not in skip}


def review_view(bundle: review.ReviewBundle | None) -> dict[str, Any] | None:
    """The period-end review as plain data, each indicator with its completion."""
    if bundle is None:
        return None
    return {
        **_row(bundle.review),
        "indicators": [{**_row(r), "completion": review.rules.completion(r),
                        "behind": review.rules.behind_time_target(r),
                        "balance_label": BALANCE_KINDS.get(r.balance_kind, r.balance_kind)}
                       for r in bundle.indicators],
        "measures": [_row(r) for r in bundle.measures],
        "trainings": [_row(r) for r in bundle.trainings],
        "problems": [{**_row(r), "indicator": next(
            (i.indicator for i in bundle.indicators if i.id == r.indicator_id), "")}
            for r in bundle.problems],
        "targets": [_row(r) for r in bundle.targets],
    }


def plan_document(db: Session, plan: ImprovementPlan, viewer: Person, locale: str,
                  compiled: CompiledWorkflow, *,
                  actions: list[runtime.Action] | None = None,
                  resolver: ActorResolver | None = None,
                  points: list[Checkpoint] | None = None) -> dict[str, Any]:
    """Everything a page or API client needs to show and work on a plan; `actions`: the
    viewer's actions when the caller has already asked the engine for them, `resolver` the
    look-ups it made doing so, `points` the plan's checkpoints when already read."""
    gettext = gettext_for(locale)
    instance = service.instance_of(db, plan)
    spec = compiled.spec
    gaps, causes = content.gaps_with_causes(db, plan.id)
    catalogue = content.cause_catalogue()
    if points is None:
        points = checkpoints.of_plan(db, plan.id)
    evidence = checkpoints.evidence_of(db, [p.id for p in points])
    bundle = review.load(db, plan.id)
    resolver = resolver or ActorResolver(db, instance)
    may_edit = instance.state in service.PLANNING_STATES and runtime.acts_as(
        db, resolver, instance, service.AUTHORS, viewer, None) is not None
    ctx = GuardContext(session=db, instance=instance, actor=viewer, payload={}, spec=spec)
    problems = {k: m.render(gettext) for k, m in plan_problems(ctx, plan).items()}
    if instance.state in ("in_progress", "under_review"):
        problems.update({k: m.render(gettext)
                         for k, m in review.problems_of(bundle).items()})
    signatures = db.exec(select(SignOff, Person).join(Person, Person.id == SignOff.signer_id)
                         .where(SignOff.instance_id == instance.id).order_by(SignOff.id)).all()
    warning_at = spec.parameters.get("cycle_warning")
    if actions is None:
        actions = runtime.available_actions(db, instance, viewer, resolver=resolver)
    return {
        "id": plan.id,
        "instance_id": instance.id,
        "title": plan.title,
        "employee_id": plan.employee_id,
        "supervisor_id": plan.supervisor_id,
        "cycle": plan.cycle,
        "previous_plan_id": plan.previous_plan_id,
        "state": instance.state,
        "state_label": pick_label(spec.states[instance.state].label, locale),
        "version": instance.version,
        "content_version": plan.content_version,
        "cycle_warning": bool(warning_at is not None and plan.cycle >= int(warning_at)),
        "details": {k: _iso(getattr(plan, k)) for k in (
            "goal", "goal_metric", "goal_unit", "goal_target", "goal_unquantified_reason",
            "resources", "period_start", "period_end", "cadence")},
        "gaps": [
            {**_row(g), "causes": [
                {**_row(c), "label": pick_label(catalogue.get(c.side, {}).get(c.catalogue_key),
                                                locale) or c.text}
                for c in causes[g.id]]}
            for g in gaps
        ],
        "methods": [_row(m) for m in content.methods_of(db, plan.id)],
        "steps": [_row(s) for s in content.steps_of(db, plan.id)],
        "checkpoints": [
            {**_row(p), "evidence": [_row(e, skip=("data",)) for e in evidence[p.id]]}
            for p in points
        ],
        "review": review_view(bundle),
        "problems": problems,
        "may_edit": may_edit,
        "actions": [
            {"trigger": a.transition.trigger,
             "label": pick_label(a.transition.label, locale),
             "fields": list(a.transition.form) + (
                 ["meaning", "disagreement"] if a.sign_off is not None else []),
             "on_behalf_of_id": a.on_behalf_of_id}
            for a in actions
        ],
        "signatures": [
            {"signer_id": s.signer_id, "signer_name": p.name if locale == "zh_CN" else
             (p.name_en or p.name), "meaning": s.meaning, "disagreement": s.disagreement,
             "content_hash": s.content_hash, "at": s.at,
             "on_behalf_of_id": s.on_behalf_of_id, "voided": s.voided_at is not None}
            for s, p in signatures
        ],
    }
