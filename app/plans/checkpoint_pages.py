"""Where a checkpoint's mail leads: the plan page, at the form that records or checks it."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from app.errors import NotFound
from app.plans import service
from app.plans.models import Checkpoint
from app.web.deps import CurrentUser, SessionDep

router = APIRouter(include_in_schema=False)

FORMS = {"record": "progress", "check": "check"}


@router.get("/plans/{plan_id}/checkpoints/{checkpoint_id}/{verb}")
def open_checkpoint(plan_id: int, checkpoint_id: int, verb: Literal["record", "check"],
                    db: SessionDep, user: CurrentUser) -> Response:
    """The checkpoint's own form on the plan page (after signing in: the address survives the
    sign-in, a #fragment would not)."""
    service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
    checkpoint = db.get(Checkpoint, checkpoint_id)
    if checkpoint is None or checkpoint.plan_id != plan_id:
        raise NotFound("No such checkpoint in this plan.")
    return RedirectResponse(f"/plans/{plan_id}#checkpoint-{checkpoint_id}-{FORMS[verb]}",
                            status_code=303)
