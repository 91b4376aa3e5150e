"""JSON API: a person's notification preferences."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from app import clock
from app.notifications.outbox import set_digest, wants_digest
from app.web.conditional import ApiRoute, IfMatchDep, state_etag
from app.web.deps import CurrentUser, SessionDep
from app.web.schemas import problems

router = APIRouter(prefix="/api/preferences", tags=["preferences"], route_class=ApiRoute)


class PreferencesOut(BaseModel):
    """How the person hears from Stepwise."""

    daily_digest: bool


class PreferencesIn(BaseModel):
    """The choice to save."""

    model_config = ConfigDict(extra="forbid", strict=True)

    daily_digest: bool


def _answer(response: Response, daily_digest: bool) -> PreferencesOut:
    found = PreferencesOut(daily_digest=daily_digest)
    response.headers["ETag"] = state_etag(found.model_dump())
    return found


@router.get("", response_model=PreferencesOut, summary="My preferences")
def get_preferences(request: Request, response: Response, db: SessionDep,
                    user: CurrentUser) -> PreferencesOut:
    """My preferences (the organisation's default until I choose)."""
    default = request.app.state.settings.digest_default
    return _answer(response, wants_digest(db, user.id, default))


@router.put("", response_model=PreferencesOut, responses=problems(412),
            summary="Choose single messages or a daily digest")
def put_preferences(body: PreferencesIn, request: Request, response: Response, db: SessionDep,
                    user: CurrentUser, if_match: IfMatchDep) -> PreferencesOut:
    """Choose single messages (false) or one daily digest (true); If-Match is optional."""
    current = wants_digest(db, user.id, request.app.state.settings.digest_default)
    if_match.check_state(state_etag({"daily_digest": current}))
    set_digest(db, person=user, daily_digest=body.daily_digest, now=clock.now())
    return _answer(response, body.daily_digest)
