"""JSON API for promotions: schemes, eligibility, applying, cases, the queue, rounds, filings."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlmodel import Session

from app.assessments.service import get_person
from app.engine.definitions import Vocabulary
from app.errors import NotAllowed
from app.i18n import pick_label
from app.org.models import Person
from app.promotions import presenters, rounds, service
from app.promotions.eligibility import add_round_needs, application_kind, eligibility
from app.promotions.schemas import (
    ApplyIn,
    CaseOut,
    EligibilityOut,
    FilingOut,
    QueueItemOut,
    RoundOut,
    RoundSummaryOut,
    SchemeOut,
)
from app.promotions.schemes import get_scheme
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.labels import person_name
from app.web.schemas import error_responses

router = APIRouter(prefix="/api/promotions", tags=["promotions"],
                   responses=error_responses(401))


def _registry(request: Request):  # noqa: ANN202 - the app's Registry
    return request.app.state.registry


def _vocabulary(request: Request) -> Vocabulary:
    return _registry(request).vocabulary


def case_out(request: Request, db: Session, user: Person, locale: str,
             request_id: int) -> CaseOut:
    """A case as the API answers it."""
    found, instance = service.get_case(db, request_id=request_id, viewer=user)
    registry = _registry(request)
    spec = registry.compiled(db, instance.definition_id).spec
    scheme = get_scheme(found.scheme, registry)
    return CaseOut(**presenters.case_view(db, request=found, instance=instance, scheme=scheme,
                                          spec=spec, vocabulary=_vocabulary(request),
                                          locale=locale))


@router.get("/schemes", response_model=list[SchemeOut], summary="Promotion schemes")
def list_schemes(request: Request, user: CurrentUser, locale: LocaleDep) -> list[SchemeOut]:
    """Every scheme: titles in order, staff grades, window, readings in use, routes per tier."""
    return [SchemeOut(**presenters.scheme_view(s, locale))
            for s in service.schemes_for_display(_registry(request))]


@router.get("/eligibility", response_model=EligibilityOut, responses=error_responses(404),
            summary="Which titles a person may enter, and why (not)")
def get_eligibility(
    request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
    scheme: str = Query(max_length=60),
    year: int | None = Query(default=None, ge=2000, le=2100,
                             description="Assessment year; default: the next round's"),
    person_id: int | None = Query(default=None, description="Default: yourself"),
) -> EligibilityOut:
    """Eligibility opens the evaluation, it is not the promotion; each verdict cites its rules."""
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
             responses=error_responses(403, 404, 409, 422), summary="Apply or nominate")
def apply(body: ApplyIn, request: Request, db: SessionDep, user: CurrentUser,
          locale: LocaleDep) -> CaseOut:
    """Apply (or nominate someone you supervise) in the open round. 403: window closed, not
    eligible (the rules are cited), or not yours to nominate; 409: already a case this round;
    422: facts, qualifications or skip-level justification missing (`errors` per field)."""
    person = user if body.person_id in (None, user.id) else get_person(
        db, person_id=body.person_id, viewer=user)
    created = service.apply(
        db, scheme=body.scheme, person=person, applicant=user, target_title=body.target_title,
        facts=body.facts, justifications=body.justifications,
        outstanding_contribution=body.outstanding_contribution,
        justification=body.justification, registry=_registry(request))
    return case_out(request, db, user, locale, created.id)


@router.get("/requests", response_model=list[CaseOut], summary="My cases")
def my_cases(request: Request, db: SessionDep, user: CurrentUser,
             locale: LocaleDep) -> list[CaseOut]:
    """Cases about you or started by you, newest first."""
    return [case_out(request, db, user, locale, found.id)
            for found, _ in service.my_requests(db, person=user)]


@router.get("/requests/{request_id}", response_model=CaseOut, responses=error_responses(404),
            summary="A case with its route")
def get_case(request_id: int, request: Request, db: SessionDep, user: CurrentUser,
             locale: LocaleDep) -> CaseOut:
    """The case, its route with the current step, screening, and its appointment if any."""
    return case_out(request, db, user, locale, request_id)


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


@router.get("/rounds", response_model=list[RoundSummaryOut], responses=error_responses(403),
            summary="Rounds (HR)")
def list_rounds(db: SessionDep, user: CurrentUser) -> list[RoundSummaryOut]:
    """Rounds held so far, newest first (HR only)."""
    if not service.may_view_rounds(db, user):
        raise NotAllowed("Only HR may see the promotion rounds.")
    return [RoundSummaryOut.model_validate(r, from_attributes=True)
            for r in rounds.rounds(db)]


@router.get("/rounds/{round_id}", response_model=RoundOut, responses=error_responses(404),
            summary="Who applied in a round, and where each case is (HR)")
def get_round(round_id: int, request: Request, db: SessionDep, user: CurrentUser,
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
             responses=error_responses(403, 404), summary="Acknowledge a filing notice")
def acknowledge(notice_id: int, db: SessionDep, user: CurrentUser) -> FilingOut:
    """Mark a filing notice as read; it never held the case up."""
    notice = service.acknowledge_filing(db, notice_id=notice_id, person=user)
    return FilingOut.model_validate(notice, from_attributes=True)
