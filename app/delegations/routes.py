"""JSON API: my out-of-office delegations."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app import clock
from app.delegations import service
from app.org.models import Delegation, Person
from app.org.service import get_person_by_number
from app.web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/delegations", tags=["delegations"])


class DelegationIn(BaseModel):
    """An out-of-office period: the delegate by employee number (or id)."""

    delegate_employee_no: str | None = None
    delegate_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    workflow: str | None = None
    reason: str = ""


class DelegationOut(BaseModel):
    """A delegation as stored."""

    id: int
    principal_id: int
    delegate_id: int
    starts_on: date
    ends_on: date
    workflow: str | None
    reason: str
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: Delegation) -> DelegationOut:
        """From the table row."""
        return cls.model_validate(row, from_attributes=True)


class MyDelegationsOut(BaseModel):
    """Mine, and those naming me as the delegate."""

    mine: list[DelegationOut]
    acting_for: list[DelegationOut]


@router.get("", response_model=MyDelegationsOut)
def list_delegations(db: SessionDep, user: CurrentUser) -> MyDelegationsOut:
    """Current and future delegations, mine and those naming me."""
    today = clock.today()
    return MyDelegationsOut(
        mine=[DelegationOut.of(d) for d in service.mine(db, user, today)],
        acting_for=[DelegationOut.of(d) for d in service.acting_for(db, user, today)],
    )


@router.post("", response_model=DelegationOut, status_code=201)
def create_delegation(body: DelegationIn, request: Request, db: SessionDep,
                      user: CurrentUser) -> DelegationOut:
    """Set an out-of-office period. 422 names each wrong field."""
    delegate = None
    if body.delegate_employee_no:
        delegate = get_person_by_number(db, body.delegate_employee_no)
    elif body.delegate_id is not None:
        delegate = db.get(Person, body.delegate_id)
    row = service.set_out_of_office(
        db, principal=user, delegate=delegate, starts_on=body.starts_on, ends_on=body.ends_on,
        workflow=body.workflow, reason=body.reason, today=clock.today(), now=clock.now(),
        known_workflows=set(request.app.state.registry.files),
    )
    return DelegationOut.of(row)


@router.post("/{delegation_id}/revoke", response_model=DelegationOut)
def revoke_delegation(delegation_id: int, db: SessionDep, user: CurrentUser) -> DelegationOut:
    """End one of my delegations now."""
    service.revoke(db, principal=user, delegation_id=delegation_id, now=clock.now())
    row = db.get(Delegation, delegation_id)
    assert row is not None
    return DelegationOut.of(row)
