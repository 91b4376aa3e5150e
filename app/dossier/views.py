"""The HR download of a plan's dossier."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.dossier.builder import build_dossier, plan_for_export
from app.web.deps import CurrentUser, SessionDep

router = APIRouter(include_in_schema=False)


@router.get("/plans/{plan_id}/dossier")
def download_dossier(plan_id: int, db: SessionDep, user: CurrentUser) -> Response:
    """The dossier zip, for HR in scope (anyone else is told the plan does not exist)."""
    plan = plan_for_export(db, plan_id=plan_id, viewer=user)
    return Response(build_dossier(db, plan), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="plan-{plan.id}-dossier.zip"',
        "Cache-Control": "no-store",
    })
