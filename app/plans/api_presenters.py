"""A plan and its parts as the API answers them: typed rows with their URLs and neighbours."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.engine import runtime
from app.engine.actors import ActorResolver
from app.engine.guards import GuardContext
from app.engine.models import SignOff, WorkflowInstance
from app.engine.registry import Registry
from app.i18n import gettext_for, pick_label
from app.instances import presenters as case_presenters
from app.org.models import Person
from app.plans import checkpoints, content, outcomes, review, rules, service
from app.plans.guards import plan_problems
from app.plans.models import (
    Cause,
    Checkpoint,
    Evidence,
    Gap,
    ImprovementPlan,
    Method,
    PlanVersion,
    Step,
)
from app.web.labels import person_name

API = "/api/plans"
DETAILS = ("goal", "goal_metric", "goal_unit", "goal_target", "goal_unquantified_reason",
           "resources", "period_start", "period_end", "cadence")


def plan_url(plan_id: int) -> str:
    """The plan's API URL."""
    return f"{API}/{plan_id}"


def _fields(row: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in row.model_dump().items() if k not in skip}


def cause_out(plan_id: int, cause: Cause, locale: str) -> dict[str, Any]:
    """A cause with its label in the reader's language."""
    entry = content.cause_catalogue().get(cause.side, {}).get(cause.catalogue_key)
    return {**_fields(cause), "label": pick_label(entry, locale) or cause.text,
            "url": f"{plan_url(plan_id)}/causes/{cause.id}"}


def gap_out(plan_id: int, gap: Gap, causes: list[Cause], locale: str) -> dict[str, Any]:
    """A gap with its causes."""
    return {**_fields(gap, skip=("plan_id",)), "url": f"{plan_url(plan_id)}/gaps/{gap.id}",
            "causes": [cause_out(plan_id, c, locale) for c in causes]}


def method_out(method: Method) -> dict[str, Any]:
    """A candidate method."""
    return {**_fields(method, skip=("plan_id",)),
            "url": f"{plan_url(method.plan_id)}/methods/{method.id}"}


def step_out(step: Step) -> dict[str, Any]:
    """A dated step."""
    return {**_fields(step, skip=("plan_id",)),
            "url": f"{plan_url(step.plan_id)}/steps/{step.id}"}


def details_out(plan: ImprovementPlan) -> dict[str, Any]:
    """Goal, resources, period and cadence."""
    return {key: getattr(plan, key) for key in DETAILS}


def evidence_out(plan_id: int, row: Evidence) -> dict[str, Any]:
    """Evidence without its bytes (a file is downloaded from `url`)."""
    return {**_fields(row, skip=("data",)),
            "url": f"{plan_url(plan_id)}/evidence/{row.id}" if row.data is not None else None}


def checkpoint_out(point: Checkpoint, evidence: list[Evidence]) -> dict[str, Any]:
    """A checkpoint with its evidence."""
    return {**_fields(point, skip=("plan_id",)),
            "url": f"{plan_url(point.plan_id)}/checkpoints/{point.id}",
            "evidence": [evidence_out(point.plan_id, e) for e in evidence]}


def checkpoint_with_evidence(db: Session, point: Checkpoint) -> dict[str, Any]:
    """One checkpoint read with its evidence."""
    return checkpoint_out(point, checkpoints.evidence_of(db, [point.id])[point.id])


def review_out(bundle: review.ReviewBundle | None) -> dict[str, Any] | None:
    """The period-end review with its rows and sign-off block."""
    if bundle is None:
        return None
    names = {i.id: i.indicator for i in bundle.indicators}
    return {
        **_fields(bundle.review, skip=("id", "plan_id")),
        "indicators": [{**_fields(r), "completion": rules.completion(r),
                        "behind": rules.behind_time_target(r)} for r in bundle.indicators],
        "measures": [_fields(r) for r in bundle.measures],
        "trainings": [_fields(r) for r in bundle.trainings],
        "problems": [{**_fields(r), "indicator": names.get(r.indicator_id, "")}
                     for r in bundle.problems],
        "targets": [_fields(r) for r in bundle.targets],
    }


def outcome_out(db: Session, plan: ImprovementPlan, instance: WorkflowInstance,
                viewer: Person, spec: Any, locale: str) -> dict[str, Any]:
    """The cycle's outcome with labels from the workflow's own choices."""
    found = outcomes.outcome_of(db, plan, instance)

    def label(field: str, value: str | None) -> str:
        spec_field = spec.fields.get(field)
        return pick_label(spec_field.choices.get(value), locale) if spec_field and value else ""

    return {**found.__dict__,
            "review_outcome_label": label("outcome", found.review_outcome),
            "hr_decision_label": label("hr_decision", found.hr_decision),
            "applies_to_label": label("decision_applies_to", found.applies_to),
            "may_comment": outcomes.may_comment(db, plan, instance, viewer)}


def version_out(plan_id: int, version: PlanVersion, *, with_content: bool) -> dict[str, Any]:
    """A frozen version (with its content when asked)."""
    out = {"number": version.number, "content_hash": version.content_hash,
           "reason": version.reason, "created_at": version.created_at,
           "url": f"{plan_url(plan_id)}/versions/{version.number}"}
    if with_content:
        out["content"] = version.content
    return out


def links(plan: ImprovementPlan, instance: WorkflowInstance,
          next_plan_id: int | None) -> dict[str, Any]:
    """Where the plan's neighbours live."""
    return {
        "self": plan_url(plan.id), "case": f"/api/instances/{instance.id}",
        "events": f"/api/instances/{instance.id}/events",
        "versions": f"{plan_url(plan.id)}/versions", "outcome": f"{plan_url(plan.id)}/outcome",
        "employee": f"/api/people/{plan.employee_id}",
        "supervisor": f"/api/people/{plan.supervisor_id}" if plan.supervisor_id else None,
        "previous_cycle": plan_url(plan.previous_plan_id) if plan.previous_plan_id else None,
        "next_cycle": plan_url(next_plan_id) if next_plan_id else None,
    }


def _problems(db: Session, plan: ImprovementPlan, instance: WorkflowInstance, viewer: Person,
              spec: Any, locale: str, bundle: review.ReviewBundle | None) -> dict[str, str]:
    gettext = gettext_for(locale)
    ctx = GuardContext(session=db, instance=instance, actor=viewer, payload={}, spec=spec)
    found = {k: m.render(gettext) for k, m in plan_problems(ctx, plan).items()}
    if instance.state in review.REVIEW_STATES:
        found.update({k: m.render(gettext) for k, m in review.problems_of(bundle).items()})
    return found


def plan_out(db: Session, plan: ImprovementPlan, instance: WorkflowInstance, viewer: Person,
             locale: str, registry: Registry) -> dict[str, Any]:
    """Everything an API client needs to show and work on a plan."""
    spec = registry.compiled(db, instance.definition_id).spec
    gaps, causes = content.gaps_with_causes(db, plan.id)
    points = checkpoints.of_plan(db, plan.id)
    evidence = checkpoints.evidence_of(db, [p.id for p in points])
    bundle = review.load(db, plan.id)
    may_edit = instance.state in service.PLANNING_STATES and runtime.acts_as(
        db, ActorResolver(db, instance), instance, service.AUTHORS, viewer, None) is not None
    signatures = db.exec(select(SignOff, Person).join(Person, Person.id == SignOff.signer_id)
                         .where(SignOff.instance_id == instance.id).order_by(SignOff.id)).all()
    view = case_presenters.instance_view(db, instance, viewer, locale, registry)
    outcome = outcome_out(db, plan, instance, viewer, spec, locale)
    warning_at = spec.parameters.get("cycle_warning")
    return {
        "id": plan.id, "instance_id": instance.id, "title": plan.title,
        "employee_id": plan.employee_id, "supervisor_id": plan.supervisor_id,
        "cycle": plan.cycle, "previous_plan_id": plan.previous_plan_id,
        "next_plan_id": outcome["next_plan_id"], "state": instance.state,
        "state_label": view.state_label, "version": instance.version,
        "content_version": plan.content_version,
        "cycle_warning": bool(warning_at is not None and plan.cycle >= int(warning_at)),
        "details": details_out(plan),
        "gaps": [gap_out(plan.id, g, causes[g.id], locale) for g in gaps],
        "methods": [method_out(m) for m in content.methods_of(db, plan.id)],
        "steps": [step_out(s) for s in content.steps_of(db, plan.id)],
        "checkpoints": [checkpoint_out(p, evidence[p.id]) for p in points],
        "review": review_out(bundle),
        "outcome": outcome,
        "problems": _problems(db, plan, instance, viewer, spec, locale, bundle),
        "may_edit": may_edit,
        "actions": case_presenters.api_actions(
            view.actions, f"{plan_url(plan.id)}/actions/{{trigger}}"),
        "signatures": [
            {"signer_id": s.signer_id, "signer_name": person_name(p, locale),
             "meaning": s.meaning, "disagreement": s.disagreement,
             "content_hash": s.content_hash, "at": s.at, "on_behalf_of_id": s.on_behalf_of_id,
             "voided": s.voided_at is not None}
            for s, p in signatures
        ],
        "links": links(plan, instance, outcome["next_plan_id"]),
    }
