"""JSON API: my out-of-office delegations.

A new delegation must not overlap the ones I have, so creating one depends on my current list:
the POST sends the list's ETag as If-Match (412 when it changed meanwhile, 428 without).
"""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app import clock
from app.delegations import service
from app.errors import NotFound
from app.org.models import Delegation, Person
from app.org.service import get_person_by_number
from app.web.conditional import ApiRoute, IfMatchDep, state_etag
from app.web.deps import CurrentUser, SessionDep
from app.web.ids import Id
from app.web.schemas import problems
from app.web.strict import BodyId, IsoDate
from app.web.text import Text

router = APIRouter(prefix="/api/delegations", tags=["delegations"], route_class=ApiRoute)
API = "/api/delegations"


class DelegationIn(BaseModel):
    """An out-of-office period: the delegate by id or by employee number."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    delegate_id: BodyId | None = Field(default=None, description="From /api/people")
    delegate_employee_no: Text | None = Field(default=None, max_length=40)
    starts_on: IsoDate
    ends_on: IsoDate
    workflow: Text | None = Field(default=None, max_length=60,
                                  description="Only this workflow; leave out for every one")
    reason: Text = Field(default="", max_length=500)


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
    url: str

    @classmethod
    def of(cls, row: Delegation) -> DelegationOut:
        """From the table row."""
        return cls.model_validate({**row.model_dump(), "url": f"{API}/{row.id}"})


class MyDelegationsOut(BaseModel):
    """Mine, and those naming me as the delegate."""

    mine: list[DelegationOut]
    acting_for: list[DelegationOut]


def _mine(db: Session, user: Person) -> MyDelegationsOut:
    today = clock.today()
    return MyDelegationsOut(
        mine=[DelegationOut.of(d) for d in service.mine(db, user, today)],
        acting_for=[DelegationOut.of(d) for d in service.acting_for(db, user, today)],
    )


def _list_etag(found: MyDelegationsOut) -> str:
    return state_etag([(d.id, d.revoked_at is not None) for d in found.mine])


def _visible(db: Session, user: Person, delegation_id: int) -> Delegation:
    row = db.get(Delegation, delegation_id)
    if row is None or user.id not in (row.principal_id, row.delegate_id):
        raise NotFound("No such delegation.")
    return row


def _row_etag(row: Delegation) -> str:
    return state_etag([row.id, row.revoked_at is not None])


@router.get("", response_model=MyDelegationsOut, summary="My delegations")
def list_delegations(response: Response, db: SessionDep, user: CurrentUser) -> MyDelegationsOut:
    """Current and future delegations, mine and those naming me; the ETag is what a new
    delegation is based on."""
    found = _mine(db, user)
    response.headers["ETag"] = _list_etag(found)
    return found


@router.get("/{delegation_id}", response_model=DelegationOut, summary="A delegation")
def get_delegation(delegation_id: Id, response: Response, db: SessionDep,
                   user: CurrentUser) -> DelegationOut:
    """One of my delegations, or one naming me."""
    row = _visible(db, user, delegation_id)
    response.headers["ETag"] = _row_etag(row)
    return DelegationOut.of(row)


@router.post("", response_model=DelegationOut, status_code=201,
             responses=problems(404, 412, 428), summary="Set an out-of-office period")
def create_delegation(body: DelegationIn, request: Request, response: Response, db: SessionDep,
                      user: CurrentUser, if_match: IfMatchDep) -> DelegationOut:
    """Name a delegate for a period, based on the list you read (If-Match: its ETag). 404: no
    active colleague with that id or number; 422: `errors` names each wrong field."""
    delegate = None
    if body.delegate_employee_no:
        delegate = get_person_by_number(db, body.delegate_employee_no)
    elif body.delegate_id is not None:
        delegate = db.get(Person, body.delegate_id)
    if delegate is None or not delegate.active:
        raise NotFound("No active colleague has that employee number.")
    if not if_match.present:
        if_match.require()
    if_match.check_state(_list_etag(_mine(db, user)))
    row = service.set_out_of_office(
        db, principal=user, delegate=delegate, starts_on=body.starts_on, ends_on=body.ends_on,
        workflow=body.workflow, reason=body.reason, today=clock.today(), now=clock.now(),
        known_workflows=set(request.app.state.registry.files),
    )
    response.headers["Location"] = f"{API}/{row.id}"
    response.headers["ETag"] = _row_etag(row)
    return DelegationOut.of(row)


@router.post("/{delegation_id}/revoke", response_model=DelegationOut, responses=problems(412),
             summary="End one of my delegations now")
def revoke_delegation(delegation_id: Id, response: Response, db: SessionDep,
                      user: CurrentUser, if_match: IfMatchDep) -> DelegationOut:
    """End one of my delegations now (If-Match is optional)."""
    row = _visible(db, user, delegation_id)
    if row.principal_id != user.id:
        raise NotFound("No such delegation.")
    if_match.check_state(_row_etag(row))
    service.revoke(db, principal=user, delegation_id=delegation_id, now=clock.now())
    response.headers["ETag"] = _row_etag(row)
    return DelegationOut.of(row)
