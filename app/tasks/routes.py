"""JSON API: the caller's own profile and work."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import select

from app.instances.presenters import case_links
from app.org.models import OrgUnit, RoleAssignment
from app.tasks.presenters import task_rows
from app.tasks.service import my_tasks
from app.web.conditional import ApiRoute
from app.web.csrf import csrf_token
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.labels import person_name, seat_label, unit_name

router = APIRouter(prefix="/api", tags=["me"], route_class=ApiRoute)


class SeatOut(BaseModel):
    """A role or committee seat."""

    kind: str
    name: str
    label: str
    org_unit_id: int
    unit_name: str


class MeOut(BaseModel):
    """The signed-in person, and the token their session's API writes must carry."""

    id: int
    employee_no: str
    name: str
    locale: str
    is_admin: bool
    post: str
    org_unit_id: int
    unit_name: str
    supervisor_id: int | None
    seats: list[SeatOut]
    csrf_token: str = Field(description="Send as X-CSRF-Token on writes made with a session "
                                        "(empty with a bearer token: none is needed)")
    url: str


class TaskLinksOut(BaseModel):
    """Where a task's case and the record it is about live in the API."""

    case: str
    plan: str | None
    promotion_request: str | None
    page: str = Field(description="The page a person acts on")


class TaskRowOut(BaseModel):
    """One task waiting on the caller, with the case and record it belongs to."""

    task_id: int
    instance_id: int
    plan_id: int | None
    promotion_request_id: int | None
    title: str
    workflow: str
    workflow_label: str
    state: str
    state_label: str
    kind: str
    subject_name: str
    due_at: datetime | None
    overdue: bool
    on_behalf_of_id: int | None
    url: str = Field(description="The page a person acts on")
    links: TaskLinksOut


@router.get("/me", response_model=MeOut, summary="Who I am")
def me(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> MeOut:
    """Who I am, my unit and seats; with a session, `csrf_token` goes with every write."""
    vocabulary = request.app.state.registry.vocabulary
    rows = list(db.exec(select(RoleAssignment).where(RoleAssignment.person_id == user.id)))
    unit_ids = {user.org_unit_id} | {r.org_unit_id for r in rows}
    units = {u.id: u for u in db.exec(select(OrgUnit).where(OrgUnit.id.in_(unit_ids)))}
    return MeOut(
        id=user.id, employee_no=user.employee_no, name=person_name(user, locale), locale=locale,
        is_admin=user.is_admin, post=user.post, org_unit_id=user.org_unit_id,
        unit_name=unit_name(units.get(user.org_unit_id), locale), supervisor_id=user.supervisor_id,
        seats=[
            SeatOut(kind=r.kind, name=r.name,
                    label=seat_label(r.kind, r.name, vocabulary, locale),
                    org_unit_id=r.org_unit_id,
                    unit_name=unit_name(units.get(r.org_unit_id), locale))
            for r in rows
        ],
        csrf_token="" if getattr(request.state, "api_token_id", None) else csrf_token(request),
        url=f"/api/people/{user.id}",
    )


@router.get("/tasks", response_model=list[TaskRowOut], summary="My work")
def tasks(
    request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep
) -> list[TaskRowOut]:
    """My work: open tasks for me, my seats and those who delegated to me; overdue first."""
    mine = my_tasks(db_session=db, person=user)
    linked = {t.task.id: case_links(t.instance) for t in mine}
    rows = task_rows(db, mine, locale, request.app.state.registry)
    out = []
    for row in rows:
        ids = linked[row.task_id]
        out.append(TaskRowOut(
            **{k: v for k, v in row.__dict__.items() if k in TaskRowOut.model_fields},
            plan_id=ids["plan_id"], promotion_request_id=ids["promotion_request_id"],
            links=TaskLinksOut(
                case=f"/api/instances/{row.instance_id}",
                plan=f"/api/plans/{ids['plan_id']}" if ids["plan_id"] else None,
                promotion_request=(f"/api/promotions/requests/{ids['promotion_request_id']}"
                                   if ids["promotion_request_id"] else None),
                page=row.url)))
    return out
