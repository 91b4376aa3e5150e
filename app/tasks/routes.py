"""JSON API: the caller's own profile and work."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from sqlmodel import select

from app.org.models import OrgUnit, RoleAssignment
from app.tasks.presenters import task_rows
from app.tasks.service import my_tasks
from app.web.csrf import csrf_token
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.labels import person_name, seat_label, unit_name
from app.web.schemas import error_responses

router = APIRouter(prefix="/api", tags=["me"], responses=error_responses(401))


class SeatOut(BaseModel):
    """A role or committee seat."""

    kind: str
    name: str
    label: str
    org_unit_id: int
    unit_name: str


class MeOut(BaseModel):
    """The signed-in person, and the token their API writes must carry."""

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
    csrf_token: str


class TaskRowOut(BaseModel):
    """One task waiting on the caller."""

    model_config = ConfigDict(from_attributes=True)

    task_id: int
    instance_id: int
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
    url: str


@router.get("/me", response_model=MeOut)
def me(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> MeOut:
    """Who I am; send `csrf_token` as the X-CSRF-Token header on every write."""
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
        csrf_token=csrf_token(request),
    )


@router.get("/tasks", response_model=list[TaskRowOut])
def tasks(
    request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep
) -> list[TaskRowOut]:
    """My work: open tasks for me, my seats and those who delegated to me; overdue first."""
    rows = task_rows(db, my_tasks(db_session=db, person=user), locale, request.app.state.registry)
    return [TaskRowOut.model_validate(r) for r in rows]
