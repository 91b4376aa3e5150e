"""JSON API for promotions: schemes, eligibility, applying, cases, the queue, rounds, filings.

Applying depends on the cases that already exist (one per person and round), so a new case is
based on the list of my cases (If-Match: its ETag, as for every write that can race).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session, select

from app.assessments.service import get_person
from app.engine.definitions import Vocabulary
from app.errors import NotAllowed, NotFound
from app.i18n import pick_label
from app.org.models import Person
from app.promotions import presenters, rounds, service
from app.promotions.eligibility import add_round_needs, application_kind, eligibility
from app.promotions.models import Appointment
from app.promotions.schemas import (
    ApplyIn,
    AppointmentOut,
    CaseOut,
    EligibilityOut,
    FilingOut,
    QueueItemOut,
    RoundOut,
    RoundSummaryOut,
    SchemeOut,
)
from app.promotions.schemes import get_scheme
from app.web.conditional import ApiRoute, IfMatchDep, state_etag, version_etag
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.ids import Id
from app.web.labels import person_name
from app.web.schemas import problems

router = APIRouter(prefix="/api/promotions", tags=["promotions"], route_class=ApiRoute)
API = "/api/promotions"


def _registry(request: Request):  # noqa: ANN202 - the app's Registry
    return request.app.state.registry


def _vocabulary(request: Request) -> Vocabulary:
    return _registry(request).vocabulary


def appointment_out(row: Appointment, scheme: Any, locale: str) -> dict[str, Any]:
    """An appointment with its request, as the API answers it."""
    return {
        "id": row.id, "request_id": row.request_id, "person_id": row.person_id,
        "title": row.title, "title_label": presenters.title_label(scheme, row.title, locale),
        "staff_grade": row.staff_grade, "outcome": row.outcome, "issued_on": row.issued_on,
        "effective_from": row.effective_from, "document_no": row.document_no,
        "url": f"{API}/appointments/{row.id}",
        "request_url": f"{API}/requests/{row.request_id}" if row.request_id else None,
    }


def case_out(request: Request, db: Session, user: Person, locale: str,
             request_id: int, response: Response | None = None) -> CaseOut:
    """A case as the API answers it, with its neighbours."""
    found, instance = service.get_case(db, request_id=request_id, viewer=user)
    registry = _registry(request)
    spec = registry.compiled(db, instance.definition_id).spec
    scheme = get_scheme(found.scheme, registry)
    data = presenters.case_view(db, request=found, instance=instance, scheme=scheme, spec=spec,
                                vocabulary=_vocabulary(request), locale=locale)
    appointment = db.exec(select(Appointment).where(Appointment.request_id == found.id)).first()
    data["appointment"] = (appointment_out(appointment, scheme, locale)
                           if appointment is not None else None)
    data["links"] = {
        "self": f"{API}/requests/{found.id}", "case": f"/api/instances/{instance.id}",
        "events": f"/api/instances/{instance.id}/events",
        "person": f"/api/people/{found.person_id}",
        "appointment": data["appointment"]["url"] if appointment is not None else None,
    }
    if response is not None:
        response.headers["ETag"] = version_etag(instance.version)
    return CaseOut(**data)


def _mine_etag(db: Session, user: Person) -> str:
    return state_etag([(r.id, i.version) for r, i in service.my_requests(db, person=user)])


@router.get("/schemes", response_model=list[SchemeOut], summary="Promotion schemes")
def list_schemes(request: Request, user: CurrentUser, locale: LocaleDep) -> list[SchemeOut]:
    """Every scheme: titles in order, staff grades, window, readings in use, routes per tier."""
    return [SchemeOut(**presenters.scheme_view(s, locale))
            for s in service.schemes_for_display(_registry(request))]


@router.get("/eligibility", response_model=EligibilityOut, responses=problems(404),
            summary="Which titles a person may enter, and why (not)")
def get_eligibility(
    request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
    scheme: Annotated[str, Query(max_length=60)],
    year: Annotated[int | None, Query(ge=2000, le=2100,
                                      description="Assessment year; default: the next round's")
                    ] = None,
    person_id: Annotated[Id | None, Query(description="Default: yourself")] = None,
) -> EligibilityOut:
    """Eligibility opens the evaluation, it is not the promotion; each verdict cites its rules.
    404: no such scheme, or a person you may not see."""
    person = user if person_id in (None, user.id) else get_person(
        db, person_id=person_id, viewer=user)
    found = get_scheme(scheme, _registry(request))
    window = rounds.next_window(found, session=db)
    result = eligibility(db, person=person, scheme=found,
                         year=year or window.assessment_year, registry=_registry(request))
    window = add_round_needs(db, result, person, application_kind(db, person, user))
    return EligibilityOut(person_id=person.id, window=presenters.window_view(window, locale),
                          **presenters.eligibility_view(result, locale))


@router.post("/requests", response_model=CaseOut, status_code=201,
             responses=problems(404, 409, 412, 428), summary="Apply or nominate")
def apply(body: ApplyIn, request: Request, response: Response, db: SessionDep,
          user: CurrentUser, locale: LocaleDep, if_match: IfMatchDep) -> CaseOut:
    """Apply (or nominate someone you supervise) in the open round, based on the list of your
    cases you read (If-Match: its ETag). 403: window closed, not eligible (the rules are
    cited), or not yours to nominate; 404: no such scheme or person; 409: already a case this
    round (`already_done`); 422: facts, qualifications or justification missing."""
    person = user if body.person_id in (None, user.id) else get_person(
        db, person_id=body.person_id, viewer=user)
    get_scheme(body.scheme, _registry(request))
    if_match.require()
    if_match.check_state(_mine_etag(db, user))
    created = service.apply(
        db, scheme=body.scheme, person=person, applicant=user, target_title=body.target_title,
        facts=body.facts, justifications=body.justifications,
        outstanding_contribution=body.outstanding_contribution,
        justification=body.justification, registry=_registry(request))
    response.headers["Location"] = f"{API}/requests/{created.id}"
    return case_out(request, db, user, locale, created.id, response)


@router.get("/requests", response_model=list[CaseOut], summary="My cases")
def my_cases(request: Request, response: Response, db: SessionDep, user: CurrentUser,
             locale: LocaleDep) -> list[CaseOut]:
    """Cases about you or started by you, newest first; the ETag is what applying is based on."""
    response.headers["ETag"] = _mine_etag(db, user)
    return [case_out(request, db, user, locale, found.id)
            for found, _ in service.my_requests(db, person=user)]


@router.get("/requests/{request_id}", response_model=CaseOut, summary="A case with its route")
def get_case(request_id: Id, request: Request, response: Response, db: SessionDep,
             user: CurrentUser, locale: LocaleDep) -> CaseOut:
    """The case, its route with the current step, screening, and its appointment if any."""
    return case_out(request, db, user, locale, request_id, response)


@router.get("/appointments/{appointment_id}", response_model=AppointmentOut,
            summary="An appointment and the request it came from")
def get_appointment(appointment_id: Id, request: Request, db: SessionDep, user: CurrentUser,
                    locale: LocaleDep) -> AppointmentOut:
    """An appointment document, to whoever may see the case it ended."""
    row = db.get(Appointment, appointment_id)
    if row is None or row.request_id is None:
        raise NotFound("No appointment {id}.", id=appointment_id)
    found, _instance = service.get_case(db, request_id=row.request_id, viewer=user)
    scheme = get_scheme(found.scheme, _registry(request))
    return AppointmentOut(**appointment_out(row, scheme, locale))


@router.get("/queue", response_model=list[QueueItemOut], summary="Cases waiting on me")
def queue(request: Request, db: SessionDep, user: CurrentUser,
          locale: LocaleDep) -> list[QueueItemOut]:
    """The approver's queue: promotion cases whose current step waits on you."""
    registry = _registry(request)
    items = []
    for item in service.queue(db, person=user):
        if item.request is None:
            continue  # exits: /api/promotions/exits
        scheme = get_scheme(item.request.scheme, registry)
        spec = registry.compiled(db, item.instance.definition_id).spec
        items.append(QueueItemOut(
            request_id=item.request.id, instance_id=item.instance.id,
            person_name=person_name(item.person, locale),
            scheme_label=pick_label(scheme.label, locale),
            target_label=presenters.title_label(scheme, item.request.target_title, locale),
            state_label=pick_label(spec.states[item.instance.state].label, locale),
            on_behalf_of_id=item.on_behalf_of_id, due_at=item.task.due_at))
    return items


@router.get("/rounds", response_model=list[RoundSummaryOut], responses=problems(403),
            summary="Rounds (HR)")
def list_rounds(db: SessionDep, user: CurrentUser) -> list[RoundSummaryOut]:
    """Rounds held so far, newest first (HR only: 403 for anyone else)."""
    if not service.may_view_rounds(db, user):
        raise NotAllowed("Only HR may see the promotion rounds.")
    return [RoundSummaryOut.model_validate(r, from_attributes=True)
            for r in rounds.rounds(db)]


@router.get("/rounds/{round_id}", response_model=RoundOut,
            summary="Who applied in a round, and where each case is (HR)")
def get_round(round_id: Id, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep) -> RoundOut:
    """The round's cases in HR's units, each with its step and whom it waits on."""
    round_, rows = service.round_cases(db, round_id=round_id, viewer=user)
    scheme = get_scheme(round_.scheme, _registry(request))
    return RoundOut(**presenters.round_view(db, round_, rows, scheme, _registry(request),
                                            _vocabulary(request), locale))


@router.get("/filings", response_model=list[FilingOut], summary="Filing notices for me")
def filings(db: SessionDep, user: CurrentUser) -> list[FilingOut]:
    """Filing notices addressed to you or a seat you hold, not yet acknowledged."""
    return [FilingOut.model_validate(n, from_attributes=True)
            for n in service.filing_notices_for(db, person=user)]


@router.post("/filings/{notice_id}/acknowledge", response_model=FilingOut,
             summary="Acknowledge a filing notice")
def acknowledge(notice_id: Id, db: SessionDep, user: CurrentUser) -> FilingOut:
    """Mark a filing notice as read (again: no change); it never held the case up."""
    notice = service.acknowledge_filing(db, notice_id=notice_id, person=user)
    return FilingOut.model_validate(notice, from_attributes=True)
