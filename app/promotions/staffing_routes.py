"""JSON API for the staffing quota: per branch and rolled up; HR keeps each branch's figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from app.promotions import staffing_service
from app.promotions.staffing_presenters import branch_view, report_view
from app.promotions.staffing_schemas import BranchQuotaOut, FiguresIn, StaffingOut
from app.web.conditional import ApiRoute
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.schemas import problems

router = APIRouter(prefix="/api/promotions/staffing", tags=["promotions"],
                   route_class=ApiRoute, responses=problems(401))
Year = Annotated[int | None, Query(ge=2000, le=2100,
                                   description="The year of the quota; default: this year")]


@router.get("", response_model=StaffingOut, responses=problems(403, 404),
            summary="Staffing quota per branch and rolled up (HR)")
def get_staffing(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
                 scheme: Annotated[str, Query(max_length=60)],
                 year: Year = None,
                 branch: Annotated[str | None, Query(max_length=40,
                                                     description="A branch's code")] = None,
                 ) -> StaffingOut:
    """Every branch in your area (or the one named), each headcount explained line by line:
    base from the second-level units, volume from corporate assets and liabilities, the larger
    of the two, the uplift conditions; then the roll-up and the total."""
    found = staffing_service.report(db, scheme=scheme, viewer=user, year=year,
                                    branch_code=branch, registry=request.app.state.registry)
    return StaffingOut(**report_view(db, found, locale))


@router.put("/{branch_code}", response_model=BranchQuotaOut,
            responses=problems(403, 404, 422),
            summary="Keep a branch's figures for a year (HR)")
def put_figures(branch_code: Annotated[str, Path(max_length=40)], body: FiguresIn,
                request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
                scheme: Annotated[str, Query(max_length=60)], year: Year = None) -> BranchQuotaOut:
    """Save the figures the quota is computed from (fields left out keep their value) and
    answer with the branch's quota."""
    from app import clock

    values = body.model_dump(exclude_unset=True)
    quota = staffing_service.save_figures(
        db, scheme=scheme, branch_code=branch_code, year=year or clock.today().year,
        values=values, actor=user, registry=request.app.state.registry)
    return BranchQuotaOut(**branch_view(quota, locale))
