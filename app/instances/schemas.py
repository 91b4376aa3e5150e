"""JSON shapes of the case (workflow instance) API, and the one way an action is described."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.web.strict import BodyId
from app.web.text import FormValue


class Out(BaseModel):
    """Read models are built from the presenters' dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class ChoiceOut(BaseModel):
    """One value a choice field accepts, with its label."""

    value: str
    label: str


class FieldOut(BaseModel):
    """An input an action collects: its type, whether it is required, and its choices."""

    name: str
    label: str
    type: Literal["text", "textarea", "choice", "date", "number", "bool"]
    required: bool
    help: str = ""
    choices: list[ChoiceOut] = Field(
        default_factory=list, description="For choice fields: exactly the values you may send")
    max_length: int | None = None
    min: float | None = None
    max: float | None = None


class ActionOut(BaseModel):
    """An action the caller may take now: POST its `payload` to `url` with If-Match."""

    trigger: str
    label: str
    style: str
    on_behalf_of_id: int | None = Field(description="Whose turn you take (a delegation)")
    sign_off: bool = Field(description="Taking it signs the content shown (its hash)")
    fields: list[FieldOut]
    url: str


class EventOut(BaseModel):
    """One audit event with what is needed to recompute its hash and the chain."""

    seq: int
    at: datetime
    sealed_at: str = Field(description="`at` exactly as it was hashed")
    actor_id: int | None
    actor_name: str
    on_behalf_of_id: int | None
    on_behalf_of_name: str
    trigger: str
    action_label: str
    from_state: str | None
    from_label: str
    to_state: str
    to_label: str
    comment: str
    payload: dict[str, Any]
    payload_hash: str = Field(description="SHA-256 of the payload as canonical JSON")
    prev_hash: str = Field(description="The hash of the event before (empty for the first)")
    hash: str = Field(description="SHA-256 of this event's sealed fields as canonical JSON")


class WaitingTaskOut(Out):
    """Who the case waits on."""

    id: int
    state: str
    state_label: str
    kind: str
    who: str
    due_at: datetime | None
    overdue: bool


class InstanceLinksOut(BaseModel):
    """Where the case's neighbours live in the API."""

    self: str
    events: str
    subject: str
    plan: str | None = None
    promotion_request: str | None = None


class InstanceOut(BaseModel):
    """A case: where it stands, who it waits on and what the caller may do now."""

    id: int
    title: str
    workflow: str
    workflow_label: str
    definition_version: int
    state: str
    state_label: str
    terminal: bool
    version: int = Field(description="The case's version: its ETag; send it as If-Match")
    subject_id: int
    subject_name: str
    unit_name: str
    created_at: datetime
    closed_at: datetime | None
    plan_id: int | None = Field(description="The improvement plan this case carries, if any")
    promotion_request_id: int | None = Field(
        description="The promotion request this case carries, if any")
    tasks: list[WaitingTaskOut]
    actions: list[ActionOut]
    links: InstanceLinksOut


class ActionIn(BaseModel):
    """Take an action: its form values and, when acting for someone, for whom."""

    model_config = ConfigDict(extra="forbid", strict=True)

    payload: dict[str, FormValue] = Field(
        default_factory=dict, description="The action's fields (see `actions[].fields`)")
    on_behalf_of_id: BodyId | None = None


class ActionResultOut(BaseModel):
    """What an action did, and the case afterwards."""

    from_state: str
    to_state: str
    completed: bool = Field(description="False when a signature was recorded and others wait")
    event_id: int
    instance: InstanceOut
