"""JSON API: looking people and org units up, within need-to-know (app/org/visibility.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.org.models import OrgUnit, Person
from app.org.visibility import may_see_person, people_filter, units_filter
from app.web.conditional import ApiRoute
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.ids import Id
from app.web.labels import person_name, unit_name
from app.web.text import Text

router = APIRouter(prefix="/api", tags=["people and units"], route_class=ApiRoute)


class PersonLinksOut(BaseModel):
    """Where a person's neighbours live in the API."""

    self: str
    unit: str
    supervisor: str | None
    plans: str = Field(description="Their improvement plans you may see")
    assessments: str


class PersonOut(BaseModel):
    """A person as a colleague may look them up."""

    id: int
    employee_no: str
    name: str = Field(description="In your language")
    post: str
    org_unit_id: int
    unit_name: str
    supervisor_id: int | None
    active: bool
    links: PersonLinksOut


class PeopleOut(BaseModel):
    """A page of people."""

    total: int
    page: int
    per_page: int
    items: list[PersonOut]


class UnitLinksOut(BaseModel):
    """Where a unit's neighbours live in the API."""

    self: str
    parent: str | None
    children: str
    people: str


class UnitOut(BaseModel):
    """An org unit."""

    id: int
    code: str
    name: str = Field(description="In your language")
    kind: str
    parent_id: int | None
    links: UnitLinksOut


def person_out(db: Session, person: Person, locale: str) -> PersonOut:
    """A person with their unit's name and links."""
    unit = db.get(OrgUnit, person.org_unit_id)
    return PersonOut(
        id=person.id, employee_no=person.employee_no, name=person_name(person, locale),
        post=person.post, org_unit_id=person.org_unit_id, unit_name=unit_name(unit, locale),
        supervisor_id=person.supervisor_id, active=person.active,
        links=PersonLinksOut(
            self=f"/api/people/{person.id}", unit=f"/api/units/{person.org_unit_id}",
            supervisor=f"/api/people/{person.supervisor_id}" if person.supervisor_id else None,
            plans=f"/api/plans?employee_id={person.id}",
            assessments=f"/api/assessments/people/{person.id}"))


def unit_out(unit: OrgUnit, locale: str) -> UnitOut:
    """A unit with its links."""
    return UnitOut(id=unit.id, code=unit.code, name=unit_name(unit, locale), kind=unit.kind,
                   parent_id=unit.parent_id, links=UnitLinksOut(
                       self=f"/api/units/{unit.id}",
                       parent=f"/api/units/{unit.parent_id}" if unit.parent_id else None,
                       children=f"/api/units?parent={unit.id}",
                       people=f"/api/people?unit={unit.id}"))


@router.get("/people", response_model=PeopleOut, summary="Look people up")
def list_people(
    db: SessionDep, user: CurrentUser, locale: LocaleDep,
    employee_no: Annotated[Text | None, Query(max_length=40, description="Exact")] = None,
    unit: Annotated[Id | None, Query(description="People of this unit (id)")] = None,
    q: Annotated[Text | None, Query(max_length=100, description="Part of a name or number")
                 ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PeopleOut:
    """People you may see (yourself, your unit, up and down your supervisor chain, HR's
    units), by employee number, unit or name; ordered by employee number."""
    query = select(Person).where(people_filter(db, user))
    if employee_no:
        query = query.where(Person.employee_no == employee_no.strip())
    if unit:
        query = query.where(Person.org_unit_id == unit)
    if q and q.strip():
        like = f"%{q.strip()}%"
        query = query.where(col(Person.name).ilike(like) | col(Person.name_en).ilike(like)
                            | col(Person.employee_no).ilike(like))
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    rows = db.exec(query.order_by(Person.employee_no).offset((page - 1) * per_page)
                   .limit(per_page)).all()
    return PeopleOut(total=total, page=page, per_page=per_page,
                     items=[person_out(db, p, locale) for p in rows])


@router.get("/people/{person_id}", response_model=PersonOut, summary="A person")
def get_person(person_id: Id, db: SessionDep, user: CurrentUser,
               locale: LocaleDep) -> PersonOut:
    """A person you may see; anyone else does not exist for you."""
    person = db.get(Person, person_id)
    if person is None or not may_see_person(db, user, person_id):
        raise NotFound("No person {id}.", id=person_id)
    return person_out(db, person, locale)


@router.get("/units", response_model=list[UnitOut], summary="Look org units up")
def list_units(
    db: SessionDep, user: CurrentUser, locale: LocaleDep,
    parent: Annotated[Id | None, Query(description="Children of this unit")] = None,
    code: Annotated[Text | None, Query(max_length=40, description="Exact")] = None,
) -> list[UnitOut]:
    """Units you may see (yours and those above it, those of the people you may see, HR's
    subtrees), in tree order."""
    query = select(OrgUnit).where(units_filter(db, user))
    if parent:
        query = query.where(OrgUnit.parent_id == parent)
    if code:
        query = query.where(OrgUnit.code == code.strip())
    return [unit_out(u, locale) for u in db.exec(query.order_by(OrgUnit.path))]


@router.get("/units/{unit_id}", response_model=UnitOut, summary="An org unit")
def get_unit(unit_id: Id, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> UnitOut:
    """A unit you may see."""
    unit = db.exec(select(OrgUnit).where(OrgUnit.id == unit_id, units_filter(db, user))).first()
    if unit is None:
        raise NotFound("No org unit {id}.", id=unit_id)
    return unit_out(unit, locale)
