"""What a case is about, for the pages that offer to sign, agree or approve it: a plan's
version being signed, a promotion application with its qualification facts, or the grounds of
a proposal that someone leave a team."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from app.engine.models import WorkflowInstance
from app.engine.registry import Registry
from app.errors import NotFound
from app.i18n import gettext_for
from app.plans import signing
from app.promotions.models import ExitRequest, PromotionRequest
from app.promotions.presenters import case_view, exit_view
from app.promotions.schemes import get_scheme


@dataclass
class CaseContent:
    """The content beside a decision, and the page where all of it can be read."""

    kind: str  # "plan", "promotion" or "exit"
    url: str
    plan: dict[str, Any] | None = None  # plans.signing.summary
    decides_review: bool = False  # the decision is on the plan's period-end review
    promotion: dict[str, Any] | None = None  # promotions.presenters.case_view
    exit: dict[str, Any] | None = None  # promotions.presenters.exit_view


def case_content(db: Session, instance: WorkflowInstance, locale: str,
                 registry: Registry) -> CaseContent | None:
    """The plan, application or exit a case carries, in the reader's language (None: none)."""
    plan = signing.plan_for_instance(db, instance)
    if plan is not None:
        return CaseContent("plan", f"/plans/{plan.id}", plan=signing.summary(db, plan, locale),
                           decides_review=instance.state in signing.REVIEW_DECISIONS)
    request = db.exec(select(PromotionRequest).where(
        PromotionRequest.instance_id == instance.id)).first()
    if request is None:
        return _exit_content(db, instance, locale, registry)
    try:
        scheme = get_scheme(request.scheme, registry)
    except NotFound:
        return None
    view = case_view(db, request=request, instance=instance, scheme=scheme,
                     spec=registry.compiled(db, instance.definition_id).spec,
                     vocabulary=registry.vocabulary, locale=locale)
    return CaseContent("promotion", f"/promotions/cases/{request.id}", promotion=view)


def content_title(content: CaseContent | None, fallback: str, locale: str) -> str:
    """A promotion or exit case named in the reader's language (its stored title is in the
    subject's); any other case keeps the title it was given."""
    gettext = gettext_for(locale)
    if content is not None and content.promotion is not None:
        case = content.promotion
        return gettext("{name}: promotion to {title}").format(name=case["person_name"],
                                                              title=case["target_label"])
    if content is not None and content.exit is not None:
        case = content.exit
        return gettext("{name}: {what}").format(name=case["person_name"],
                                                what=case["route_label"])
    return fallback


def _exit_content(db: Session, instance: WorkflowInstance, locale: str,
                  registry: Registry) -> CaseContent | None:
    """The grounds of a proposal that someone leave a team, if the case is one."""
    found = db.exec(select(ExitRequest).where(ExitRequest.instance_id == instance.id)).first()
    if found is None:
        return None
    try:
        scheme = get_scheme(found.scheme, registry)
    except NotFound:
        return None
    view = exit_view(db, exit_=found, instance=instance, scheme=scheme,
                     spec=registry.compiled(db, instance.definition_id).spec,
                     vocabulary=registry.vocabulary, locale=locale)
    return CaseContent("exit", f"/promotions/exits/{found.id}", exit=view)
