"""What a signer signs: the frozen plan version as a short summary — gaps, goal, methods, steps,
version number and content hash — for every page that offers to sign, agree or approve."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from app.engine.models import SignOff, WorkflowInstance
from app.i18n import gettext_for
from app.org.models import Person
from app.plans import content, forms, review
from app.plans.models import ImprovementPlan
from app.plans.presenters import review_view
from app.web.labels import person_name

SHORT_HASH = 12  # hex digits shown beside the version; the written plan prints all 64
REVIEW_DECISIONS = ("under_review", "hr_decision")  # states that decide on the review


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def plan_for_instance(db: Session, instance: WorkflowInstance) -> ImprovementPlan | None:
    """The plan a workflow instance carries, if it is one."""
    return db.exec(select(ImprovementPlan).where(ImprovementPlan.instance_id == instance.id)
                   ).first()


def summary(db: Session, plan: ImprovementPlan, locale: str) -> dict[str, Any]:
    """The newest frozen version (else the live content) in the reader's language."""
    gettext = gettext_for(locale)
    version = content.latest_version(db, plan.id)
    document = version.content if version else content.snapshot(db, plan)
    digest = version.content_hash if version else content.content_hash(document)
    people = {p.id: p for p in db.exec(select(Person).where(
        Person.id.in_([plan.employee_id, plan.supervisor_id or 0])))}
    signed = db.exec(select(SignOff, Person).join(Person, Person.id == SignOff.signer_id)
                     .where(SignOff.instance_id == plan.instance_id,
                            SignOff.content_hash == digest, SignOff.voided_at.is_(None))
                     .order_by(SignOff.id)).all()
    gaps = document.get("gaps", [])
    return {
        "plan_id": plan.id,
        "title": document.get("title") or plan.title,
        "cycle": document.get("cycle", plan.cycle),
        "number": version.number if version else plan.content_version,
        "content_hash": digest,
        "short_hash": digest[:SHORT_HASH],
        "frozen_at": version.created_at if version else None,
        "employee": person_name(people.get(plan.employee_id), locale),
        "supervisor": person_name(people.get(plan.supervisor_id), locale),
        "gaps": [g for g in gaps if g.get("included")],
        "left_out": len([g for g in gaps if g.get("included") is False]),
        "goal": document.get("goal") or "",
        "goal_target": document.get("goal_target"),
        "goal_metric": document.get("goal_metric") or "",
        "goal_unit": document.get("goal_unit") or "",
        "goal_unquantified_reason": document.get("goal_unquantified_reason") or "",
        "resources": document.get("resources") or "",
        "period_start": _day(document.get("period_start")),
        "period_end": _day(document.get("period_end")),
        "cadence": gettext(forms.CADENCES[document["cadence"]])
        if document.get("cadence") in forms.CADENCES else "",
        "methods": list(document.get("methods", [])),
        "steps": [{**s, "due_on": _day(s.get("due_on"))} for s in document.get("steps", [])],
        "signed_by": [{"name": person_name(p, locale), "meaning": s.meaning, "at": s.at,
                       "disagreement": s.disagreement} for s, p in signed],
        "review": review_view(review.load(db, plan.id)),
        "print_url": f"/plans/{plan.id}/print",
        "plan_url": f"/plans/{plan.id}",
    }
