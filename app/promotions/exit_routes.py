"""JSON API for exits from a scheme's titles: propose, list mine, read one."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from app.assessments.service import get_person
from app.org.models import Person
from app.promotions import exits, presenters
from app.promotions.exit_schemas import ExitIn, ExitOut
from app.promotions.schemes import get_scheme
from app.web.conditional import ApiRoute
from app.web.deps import CurrentUser, LocaleDep, SessionDep
from app.web.ids import Id
from app.web.schemas import problems

router = APIRouter(prefix="/api/promotions/exits", tags=["promotions"],
                   route_class=ApiRoute, responses=problems(401))


def exit_out(request: Request, db: Session, user: Person, locale: str, exit_id: int) -> ExitOut:
    """An exit as the API answers it."""
    registry = request.app.state.registry
    found, instance = exits.get_exit(db, exit_id=exit_id, viewer=user)
    return ExitOut(**presenters.exit_view(
        db, exit_=found, instance=instance, scheme=get_scheme(found.scheme, registry),
        spec=registry.compiled(db, instance.definition_id).spec,
        vocabulary=registry.vocabulary, locale=locale))


@router.post("", response_model=ExitOut, status_code=201,
             responses=problems(403, 404, 409, 422), summary="Propose an exit")
def propose(body: ExitIn, request: Request, response: Response, db: SessionDep,
            user: CurrentUser, locale: LocaleDep) -> ExitOut:
    """Propose that someone you supervise leave the scheme's titles (same chain as entering).
    403: not theirs to propose, or they hold no title; 409: an exit already under way; 422:
    reason, explanation or date missing (`errors` per field)."""
    person = get_person(db, person_id=body.person_id, viewer=user)
    created = exits.propose_exit(
        db, scheme=body.scheme, route=body.route, person=person, applicant=user,
        reason=body.reason, explanation=body.explanation, proposed_date=body.proposed_date,
        registry=request.app.state.registry)
    response.headers["Location"] = f"/api/promotions/exits/{created.id}"
    return exit_out(request, db, user, locale, created.id)


@router.get("", response_model=list[ExitOut], summary="My exits")
def mine(request: Request, db: SessionDep, user: CurrentUser,
         locale: LocaleDep) -> list[ExitOut]:
    """Exits about you or proposed by you, newest first."""
    return [exit_out(request, db, user, locale, e.id) for e, _ in exits.my_exits(db, person=user)]


@router.get("/{exit_id}", response_model=ExitOut, responses=problems(404),
            summary="An exit with its route")
def get_one(exit_id: Id, request: Request, db: SessionDep, user: CurrentUser,
            locale: LocaleDep) -> ExitOut:
    """The exit, its route with the current step, and the day the title ended once approved."""
    return exit_out(request, db, user, locale, exit_id)
