"""Link to improvement: a poor assessment result opens a draft plan with the gap filled in."""

from __future__ import annotations

from typing import Any, Literal

from sqlmodel import Session, select

from app.assessments.models import AssessmentPlanLink
from app.assessments.rules import ImprovementTrigger, rule_book
from app.engine import runtime
from app.engine.models import WorkflowInstance
from app.i18n import pick_label
from app.org.models import Person

PLAN_SOURCE = "periodic_assessment"


def _fill(template: dict[str, str], locale: str, values: dict[str, Any]) -> str:
    text = pick_label(template, locale)
    shown = {k: ("" if v is None else v) for k, v in values.items()}
    try:
        return text.format(**shown)
    except (KeyError, IndexError, ValueError):
        return text


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def gap_for(trigger: ImprovementTrigger, locale: str, values: dict[str, Any]) -> Any:
    """The gap an assessment result states, in the employee's language."""
    from app.plans.schemas import GapDraft

    gap = trigger.gap
    base = values.get(gap.baseline_field) if gap.baseline_field else None
    return GapDraft(
        requirement=_fill(gap.requirement, locale, values)[:2000],
        actual=_fill(gap.actual, locale, values)[:2000],
        metric=_fill(gap.metric, locale, values)[:120] if gap.metric else "",
        unit=gap.unit[:20],
        baseline=_number(base),
        target=gap.target,
        source=PLAN_SOURCE,
    )


def open_plans(
    db_session: Session, *, person: Person, on: Literal["quarter", "year"],
    values: dict[str, Any], actor: Person | None, registry: Any = None,
) -> list[int]:
    """Open one draft plan per trigger that this result meets (never twice for one period)."""
    from app.plans.service import start_plan

    opened = []
    year, quarter = int(values["year"]), int(values.get("quarter") or 0) if on == "quarter" else 0
    for trigger in rule_book(registry).assessment.improvement_triggers:
        if trigger.period != on or not all(t.holds(values.get(t.field)) for t in trigger.when):
            continue
        exists = db_session.exec(select(AssessmentPlanLink.id).where(
            AssessmentPlanLink.person_id == person.id, AssessmentPlanLink.year == year,
            AssessmentPlanLink.quarter == quarter, AssessmentPlanLink.trigger == trigger.name,
        )).first()
        if exists is not None:
            continue
        locale = person.locale or "zh_CN"
        plan = start_plan(db_session, employee=person, initiator=actor,
                          title=_fill(trigger.title, locale, values)[:200],
                          gaps=[gap_for(trigger, locale, values)], source=PLAN_SOURCE)
        db_session.add(AssessmentPlanLink(person_id=person.id, year=year, quarter=quarter,
                                          trigger=trigger.name, plan_id=plan.id,
                                          instance_id=plan.instance_id))
        instance = db_session.get(WorkflowInstance, plan.instance_id)
        assert instance is not None
        # The draft state opens tasks for the employee and the supervisor; this event tells
        # the supervisor (and the audit trail) why the plan exists.
        runtime.record_event(
            db_session, instance, trigger="opened_from_assessment", actor=actor,
            comment=_fill(trigger.gap.actual, locale, values),
            payload={"trigger": trigger.name, "year": year, "quarter": quarter,
                     "supervisor_id": person.supervisor_id},
        )
        db_session.flush()
        opened.append(plan.id)
    return opened
