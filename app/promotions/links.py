"""Where a promotion case or an exit is decided: its own page, at the decision."""

from __future__ import annotations

from sqlmodel import Session, select

from app.engine.models import WorkflowInstance
from app.promotions.models import ExitRequest, PromotionRequest


def case_url(session: Session, instance: WorkflowInstance, form: str = "") -> str | None:
    """The page where the instance's next step is taken, if it is a promotion case or an exit
    (for My work and emailed links; None for any other workflow); `form` (an action form's id,
    "action-approve") puts that action first on the page."""
    query = f"?do={form}" if form else ""
    if "promotion_request_id" in (instance.context or {}):
        found = session.exec(select(PromotionRequest.id).where(
            PromotionRequest.instance_id == instance.id)).first()
        return f"/promotions/cases/{found}{query}#decide" if found else None
    if "exit_request_id" in (instance.context or {}):
        found = session.exec(select(ExitRequest.id).where(
            ExitRequest.instance_id == instance.id)).first()
        return f"/promotions/exits/{found}{query}#decide" if found else None
    return None
