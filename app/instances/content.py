"""What a case is about, for the pages that offer to sign, agree or approve it: a plan's
version being signed, or a promotion application with its qualification facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from app.engine.models import WorkflowInstance
from app.engine.registry import Registry
from app.errors import NotFound
from app.plans import signing
from app.promotions.models import PromotionRequest
from app.promotions.presenters import case_view
from app.promotions.schemes import get_scheme


@dataclass
class CaseContent:
    """The content beside a decision, and the page where all of it can be read."""

    kind: str  # "plan" or "promotion"
    url: str
    plan: dict[str, Any] | None = None  # plans.signing.summary
    decides_review: bool = False  # the decision is on the plan's period-end review
    promotion: dict[str, Any] | None = None  # promotions.presenters.case_view


def case_content(db: Session, instance: WorkflowInstance, locale: str,
                 registry: Registry) -> CaseContent | None:
    """The plan or application a case carries, in the reader's language (None: neither)."""
    plan = signing.plan_for_instance(db, instance)
    if plan is not None:
        return CaseContent("plan", f"/plans/{plan.id}", plan=signing.summary(db, plan, locale),
                           decides_review=instance.state in signing.REVIEW_DECISIONS)
    request = db.exec(select(PromotionRequest).where(
        PromotionRequest.instance_id == instance.id)).first()
    if request is None:
        return None
    try:
        scheme = get_scheme(request.scheme, registry)
    except NotFound:
        return None
    view = case_view(db, request=request, instance=instance, scheme=scheme,
                     spec=registry.compiled(db, instance.definition_id).spec,
                     vocabulary=registry.vocabulary, locale=locale)
    return CaseContent("promotion", f"/promotions/cases/{request.id}", promotion=view)
