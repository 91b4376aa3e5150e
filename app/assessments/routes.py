"""JSON API for assessments: results per person, entry, outcome, flags, stars, CSV import."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from app.assessments import importer, service
from app.assessments.schemas import (
    AnnualEntry,
    AnnualOut,
    CheckOut,
    FlagEntry,
    FlagOut,
    ImportOut,
    OutcomeEntry,
    PersonAssessmentsOut,
    QuarterlyEntry,
    QuarterOut,
    StarRatingOut,
)
from app.assessments.stars import champions, star_rating
from app.assessments.wording import localise
from app.errors import ImportFailed, NotFound
from app.i18n import gettext_for, pick_label
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.schemas import error_responses

router = APIRouter(prefix="/api/assessments", tags=["assessments"],
                   responses=error_responses(401, 404))


class RecordedOut(BaseModel):
    """What recording a result did, and the improvement plans it opened."""

    status: Literal["created", "updated", "unchanged"]
    plans_opened: list[int]


class ChampionOut(BaseModel):
    """The winners of a champion award in one competing unit."""

    award: str
    label: str
    unit_id: int
    person_ids: list[int]
    value: float | None


class RejectedRowOut(BaseModel):
    """A CSV line that was refused, and why."""

    line: int
    problem: str


class ImportRefusedOut(BaseModel):
    """Nothing was imported: every refused line with its problem."""

    detail: str
    code: str
    rejected: list[RejectedRowOut]


def person_out(db: SessionDep, person_id: int) -> PersonAssessmentsOut:
    """Everything recorded about a person's assessments."""
    found = service.results_of(db, person_id=person_id)
    return PersonAssessmentsOut(
        person_id=person_id,
        quarters=[QuarterOut.model_validate(q, from_attributes=True) for q in found.quarters],
        annual=[AnnualOut.model_validate(a, from_attributes=True) for a in found.annual],
        flags=[FlagOut.model_validate(f, from_attributes=True) for f in found.flags],
        plans_opened=[link.plan_id for link in found.plan_links if link.plan_id],
    )


@router.get("/people/{person_id}", response_model=PersonAssessmentsOut,
            summary="A person's assessment results")
def get_results(person_id: int, db: SessionDep, user: CurrentUser) -> PersonAssessmentsOut:
    """Quarterly levels, annual results, flags and the improvement plans they opened."""
    service.get_person(db, person_id=person_id, viewer=user)
    return person_out(db, person_id)


@router.put("/people/{person_id}/quarters", response_model=RecordedOut,
            responses=error_responses(403, 422), summary="Record a quarter's level (HR)")
def put_quarter(person_id: int, body: QuarterlyEntry, request: Request, db: SessionDep,
                user: CurrentUser) -> RecordedOut:
    """Create or update one quarter's level; a trigger result opens a draft improvement plan."""
    person = service.get_person(db, person_id=person_id, viewer=user)
    done = service.record_quarter(db, person=person, entry=body, actor=user,
                                  registry=request.app.state.registry)
    return RecordedOut(status=done.status, plans_opened=done.plans)


@router.put("/people/{person_id}/annual", response_model=RecordedOut,
            responses=error_responses(403, 422), summary="Record an annual result (HR)")
def put_annual(person_id: int, body: AnnualEntry, request: Request, db: SessionDep,
               user: CurrentUser) -> RecordedOut:
    """Create or update the annual result; fields left out keep their stored values."""
    person = service.get_person(db, person_id=person_id, viewer=user)
    done = service.record_annual(db, person=person, entry=body, actor=user,
                                 registry=request.app.state.registry)
    return RecordedOut(status=done.status, plans_opened=done.plans)


@router.put("/people/{person_id}/flags", response_model=FlagOut,
            responses=error_responses(403, 422), summary="Set a reviewer flag")
def put_flag(person_id: int, body: FlagEntry, request: Request, db: SessionDep,
             user: CurrentUser) -> FlagOut:
    """Set a flag (outstanding contribution, major marketing achievement) with justification."""
    person = service.get_person(db, person_id=person_id, viewer=user)
    row = service.set_flag(db, person=person, entry=body, actor=user,
                           registry=request.app.state.registry)
    return FlagOut.model_validate(row, from_attributes=True)


@router.get("/people/{person_id}/outcomes/{year}", response_model=list[str],
            summary="Outcomes the rules allow")
def get_allowed_outcomes(person_id: int, year: int, request: Request, db: SessionDep,
                         user: CurrentUser) -> list[str]:
    """Missed targets allow only appoint lower or dismiss; skip-level needs its flag."""
    service.get_person(db, person_id=person_id, viewer=user)
    return service.allowed_outcomes(db, person_id=person_id, year=year,
                                    registry=request.app.state.registry)


@router.post("/people/{person_id}/outcome", response_model=AnnualOut,
             responses=error_responses(403, 422), summary="Record the outcome (HR)")
def post_outcome(person_id: int, body: OutcomeEntry, request: Request, db: SessionDep,
                 user: CurrentUser) -> AnnualOut:
    """Renew, appoint higher, skip-level, appoint lower or dismiss, as the rules allow."""
    person = service.get_person(db, person_id=person_id, viewer=user)
    row = service.record_outcome(db, person=person, entry=body, actor=user,
                                 registry=request.app.state.registry)
    return AnnualOut.model_validate(row, from_attributes=True)


@router.get("/people/{person_id}/stars/{year}", response_model=StarRatingOut,
            summary="Star rating with the deciding condition")
def get_stars(person_id: int, year: int, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep) -> StarRatingOut:
    """The stars of a year, the condition that decided them, and the explanation."""
    service.get_person(db, person_id=person_id, viewer=user)
    rating = star_rating(db, person_id=person_id, year=year,
                         registry=request.app.state.registry)
    if rating is None:
        raise NotFound("No annual result of {year} is recorded.", year=year)
    return StarRatingOut(
        person_id=person_id, year=year, stars=rating.stars, reward=rating.reward,
        admitted=rating.admitted,
        deciding=[CheckOut(metric=c.metric, label=pick_label(c.label, locale), op=c.op,
                           threshold=c.threshold, value=c.value, holds=c.holds)
                  for c in rating.deciding],
        explanation=[localise(m, locale) for m in rating.explanation()])


@router.get("/champions/{year}", response_model=list[ChampionOut],
            summary="Champion awards of a year")
def get_champions(year: int, request: Request, db: SessionDep, user: CurrentUser,
                  locale: LocaleDep) -> list[ChampionOut]:
    """Per award and competing unit, the winners (the star entry filter applies)."""
    return [ChampionOut(award=c.award, label=pick_label(c.label, locale), unit_id=c.unit_id,
                        person_ids=c.person_ids, value=c.value)
            for c in champions(db, year=year, registry=request.app.state.registry)]


@router.post("/import/{kind}", response_model=ImportOut,
             responses={**error_responses(403), 400: {"model": ImportRefusedOut,
                                                       "description": "Nothing imported"}},
             summary="Import quarterly levels or annual results from CSV (HR)")
async def import_csv(kind: Literal["quarterly", "annual"], request: Request, db: SessionDep,
                     user: CurrentUser, locale: LocaleDep,
                     file: Annotated[UploadFile, File()]) -> ImportOut | Response:
    """All or nothing: any refused row imports nothing; importing the same file again changes
    nothing. quarterly: employee_no, year, quarter, level[, note]. annual: employee_no, year,
    level, targets_met, effective_client_target_met, liability_loans, violating_loans and the
    star metrics of star_rating.yaml."""
    data = io.BytesIO(await file.read())
    run = importer.import_quarterly if kind == "quarterly" else importer.import_annual
    try:
        report = run(db, data, actor=user, registry=request.app.state.registry)
    except ImportFailed as exc:
        db.rollback()
        body = ImportRefusedOut(detail=exc.text(gettext_for(locale)), code=exc.code,
                                rejected=[RejectedRowOut(line=line, problem=str(problem))
                                          for line, problem in exc.rejected])
        return JSONResponse(body.model_dump(), status_code=exc.status_code)
    return ImportOut(total=report.total, created=report.created, updated=report.updated,
                     unchanged=report.unchanged, plans_opened=report.plans_opened)
