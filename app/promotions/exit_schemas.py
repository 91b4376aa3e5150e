"""JSON shapes of exits from a scheme's titles (leaving the customer-manager team)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.promotions.schemas import RouteStepOut
from app.web.strict import BodyId


class ExitIn(BaseModel):
    """A proposal that someone you supervise leave a scheme's titles."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scheme: str = Field(max_length=60)
    route: str = Field(default="team", max_length=60, description="The scheme's exit route")
    person_id: BodyId
    reason: str = Field(max_length=60, description="One of the exit route's reasons")
    explanation: str = Field(max_length=5000)
    proposed_date: date = Field(description="When the person should leave the titles")


class ExitOut(BaseModel):
    """An exit: who, from which title, why, its route with the current step, and the outcome.

    Act on it through /api/instances/{instance_id}/actions/{trigger}.
    """

    id: int
    instance_id: int
    version: int
    scheme: str
    scheme_label: str
    route_label: str
    person_id: int
    person_name: str
    applicant_name: str
    kind: str
    kind_label: str
    current_title: str
    current_label: str
    reason: str
    reason_label: str
    explanation: str
    proposed_date: date
    left_on: date | None = Field(description="The day the title ended (set on approval)")
    state: str
    state_label: str
    closed: bool
    created_at: datetime
    route: list[RouteStepOut]
    waiting_on: list[str]
