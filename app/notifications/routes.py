"""JSON API: a person's notification preferences."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from app import clock
from app.notifications.outbox import set_digest, wants_digest
from app.web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/preferences", tags=["preferences"])


class PreferencesOut(BaseModel):
    """How the person hears from Stepwise."""

    daily_digest: bool


class PreferencesIn(BaseModel):
    """The choice to save."""

    daily_digest: bool


@router.get("", response_model=PreferencesOut)
def get_preferences(request: Request, db: SessionDep, user: CurrentUser) -> PreferencesOut:
    """My preferences (the organisation's default until I choose)."""
    default = request.app.state.settings.digest_default
    return PreferencesOut(daily_digest=wants_digest(db, user.id, default))


@router.put("", response_model=PreferencesOut)
def put_preferences(body: PreferencesIn, db: SessionDep, user: CurrentUser) -> PreferencesOut:
    """Choose single messages (false) or one daily digest (true)."""
    set_digest(db, person=user, daily_digest=body.daily_digest, now=clock.now())
    return PreferencesOut(daily_digest=body.daily_digest)
