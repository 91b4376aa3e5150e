"""JSON API for assessments: results per person, entry, outcome, flags, stars, CSV import.

A person's record has an ETag; every write to it is based on the record read (If-Match), since
what may be recorded depends on what is recorded (an outcome on the year's targets, a flag on
the year's result, an annual update on the stored fields it keeps).
"""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, File, Path, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.assessments import importer, service
from app.assessments.schemas import (
    AnnualIn,
    AnnualOut,
    CheckOut,
    FlagIn,
    FlagOut,
    OutcomeIn,
    PersonAssessmentsOut,
    QuarterlyIn,
    QuarterOut,
    StarRatingOut,
)
from app.assessments.stars import champions, star_rating
from app.assessments.wording import localise
from app.errors import ImportFailed, NotAllowed, NotFound
from app.i18n import gettext_for, pick_label
from app.org.models import Person
from app.web.conditional import ApiRoute, IfMatch, IfMatchDep, state_etag
from app.web.deps import CurrentUser, LocaleDep, SessionDep, holds_scope_role
from app.web.ids import Id
from app.web.schemas import RejectedLine, problems
from app.web.strict import FileUpload

router = APIRouter(prefix="/api/assessments", tags=["assessments"], route_class=ApiRoute)
Year = Annotated[int, Path(ge=2000, le=2100)]
# A write to a person's record: not theirs to record (403), a rule refuses it (422), stale.
RECORD = problems(412, 428)


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


class ImportReportOut(BaseModel):
    """What an import did: all or nothing, so a refused line means nothing was imported."""

    imported: bool
    detail: str = Field(description="What happened, in your language")
    total: int
    created: int
    updated: int
    unchanged: int
    plans_opened: int
    rejected: list[RejectedLine] = Field(description="Every refused line and why")


def person_out(db: Session, person_id: int) -> PersonAssessmentsOut:
    """Everything recorded about a person's assessments."""
    found = service.results_of(db, person_id=person_id)
    return PersonAssessmentsOut(
        person_id=person_id,
        quarters=[QuarterOut.model_validate(q, from_attributes=True) for q in found.quarters],
        annual=[AnnualOut.model_validate(a, from_attributes=True) for a in found.annual],
        flags=[FlagOut.model_validate(f, from_attributes=True) for f in found.flags],
        plans_opened=[link.plan_id for link in found.plan_links if link.plan_id],
    )


def _etag(db: Session, person_id: int) -> str:
    return state_etag(person_out(db, person_id).model_dump(mode="json"))


def _based_on_record(db: Session, person: Person, if_match: IfMatch) -> None:
    """Refuse a write not based on the person's current record (428 without, 412 stale)."""
    if_match.require()
    if_match.check_state(_etag(db, person.id))


def _tagged(db: Session, person: Person, response: Response) -> None:
    db.flush()
    response.headers["ETag"] = _etag(db, person.id)


@router.get("/people/{person_id}", response_model=PersonAssessmentsOut,
            summary="A person's assessment results")
def get_results(person_id: Id, response: Response, db: SessionDep,
                user: CurrentUser) -> PersonAssessmentsOut:
    """Quarterly levels, annual results, flags and the improvement plans they opened."""
    service.get_person(db, person_id=person_id, viewer=user)
    found = person_out(db, person_id)
    response.headers["ETag"] = state_etag(found.model_dump(mode="json"))
    return found


@router.put("/people/{person_id}/quarters", response_model=RecordedOut, responses=RECORD,
            summary="Record a quarter's level (HR)")
def put_quarter(person_id: Id, body: QuarterlyIn, request: Request, response: Response,
                db: SessionDep, user: CurrentUser, if_match: IfMatchDep) -> RecordedOut:
    """Create or update one quarter's level; a trigger result opens a draft improvement plan."""
    person = service.get_person(db, person_id=person_id, viewer=user)
    _require_recorder(db, user, person)
    _based_on_record(db, person, if_match)
    done = service.record_quarter(db, person=person, entry=body, actor=user,
                                  registry=request.app.state.registry)
    _tagged(db, person, response)
    return RecordedOut(status=done.status, plans_opened=done.plans)


@router.put("/people/{person_id}/annual", response_model=RecordedOut, responses=RECORD,
            summary="Record an annual result (HR)")
def put_annual(person_id: Id, body: AnnualIn, request: Request, response: Response,
               db: SessionDep, user: CurrentUser, if_match: IfMatchDep) -> RecordedOut:
    """Create or update the annual result; fields left out keep their stored values."""
    person = service.get_person(db, person_id=person_id, viewer=user)
    _require_recorder(db, user, person)
    _based_on_record(db, person, if_match)
    done = service.record_annual(db, person=person, entry=body, actor=user,
                                 registry=request.app.state.registry)
    _tagged(db, person, response)
    return RecordedOut(status=done.status, plans_opened=done.plans)


@router.put("/people/{person_id}/flags", response_model=FlagOut, responses=RECORD,
            summary="Set a reviewer flag")
def put_flag(person_id: Id, body: FlagIn, request: Request, response: Response,
             db: SessionDep, user: CurrentUser, if_match: IfMatchDep) -> FlagOut:
    """Set a flag (outstanding contribution, major marketing achievement) with justification."""
    person = service.get_person(db, person_id=person_id, viewer=user)
    if not (service.may_record(db, user, person) or service.is_supervisor_of(db, user, person)):
        raise NotAllowed("Only HR or the person's supervisors may set this flag.")
    _based_on_record(db, person, if_match)
    row = service.set_flag(db, person=person, entry=body, actor=user,
                           registry=request.app.state.registry)
    _tagged(db, person, response)
    return FlagOut.model_validate(row, from_attributes=True)


@router.get("/people/{person_id}/outcomes/{year}", response_model=list[str],
            summary="Outcomes the rules allow")
def get_allowed_outcomes(person_id: Id, year: Year, request: Request, db: SessionDep,
                         user: CurrentUser) -> list[str]:
    """Missed targets allow only appoint lower or dismiss; skip-level needs its flag."""
    service.get_person(db, person_id=person_id, viewer=user)
    return service.allowed_outcomes(db, person_id=person_id, year=year,
                                    registry=request.app.state.registry)


@router.post("/people/{person_id}/outcome", response_model=AnnualOut, responses=RECORD,
             summary="Record the outcome (HR)")
def post_outcome(person_id: Id, body: OutcomeIn, request: Request, response: Response,
                 db: SessionDep, user: CurrentUser, if_match: IfMatchDep) -> AnnualOut:
    """Renew, appoint higher, skip-level, appoint lower or dismiss, as the rules allow for the
    record you read (422 names the rule that refuses)."""
    person = service.get_person(db, person_id=person_id, viewer=user)
    _require_recorder(db, user, person)
    _based_on_record(db, person, if_match)
    row = service.record_outcome(db, person=person, entry=body, actor=user,
                                 registry=request.app.state.registry)
    _tagged(db, person, response)
    return AnnualOut.model_validate(row, from_attributes=True)


def _require_recorder(db: Session, user: Person, person: Person) -> None:
    if not service.may_record(db, user, person):
        raise NotAllowed("Only HR responsible for this person may record assessment results.")


@router.get("/people/{person_id}/stars/{year}", response_model=StarRatingOut,
            summary="Star rating with the deciding condition")
def get_stars(person_id: Id, year: Year, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep) -> StarRatingOut:
    """The stars of a year, the condition that decided them, and the explanation (404 until
    the year's annual result is recorded)."""
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
def get_champions(year: Year, request: Request, db: SessionDep, user: CurrentUser,
                  locale: LocaleDep) -> list[ChampionOut]:
    """Per award and competing unit, the winners (the star entry filter applies)."""
    return [ChampionOut(award=c.award, label=pick_label(c.label, locale), unit_id=c.unit_id,
                        person_ids=c.person_ids, value=c.value)
            for c in champions(db, year=year, registry=request.app.state.registry)]


@router.post("/import/{kind}", response_model=ImportReportOut, responses=problems(413),
             summary="Import quarterly levels or annual results from CSV (HR)")
async def import_csv(kind: Literal["quarterly", "annual"], request: Request, db: SessionDep,
                     user: CurrentUser, locale: LocaleDep,
                     upload: Annotated[FileUpload, File()]) -> ImportReportOut:
    """All or nothing: any refused line imports nothing (`imported` is false and `rejected`
    says why); importing the same file again changes nothing. quarterly: employee_no, year,
    quarter, level[, note]. annual: employee_no, year, level, targets_met,
    effective_client_target_met, liability_loans, violating_loans and the star metrics of
    star_rating.yaml. 403 for anyone without an HR seat."""
    if not holds_scope_role(db, user.id):
        raise NotAllowed("Only HR may import assessment results.")
    gettext = gettext_for(locale)
    data = io.BytesIO(await upload.file.read())
    run = importer.import_quarterly if kind == "quarterly" else importer.import_annual
    try:
        report = run(db, data, actor=user, registry=request.app.state.registry)
    except ImportFailed as exc:
        db.rollback()
        return ImportReportOut(imported=False, detail=exc.text(gettext), total=0, created=0,
                               updated=0, unchanged=0, plans_opened=0,
                               rejected=[RejectedLine(line=line, problem=str(problem))
                                         for line, problem in exc.rejected])
    return ImportReportOut(
        imported=True, detail=gettext("Imported {n} lines.").format(n=report.total),
        total=report.total, created=report.created, updated=report.updated,
        unchanged=report.unchanged, plans_opened=report.plans_opened, rejected=[])
