"""JSON shapes of the instance API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """Read models are built from the presenters' dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class FieldOut(Out):
    """An input an action collects."""

    name: str
    label: str
    type: str
    required: bool
    help: str = ""
    choices: list[tuple[str, str]] = []
    max_length: int | None = None
    min: float | None = None
    max: float | None = None


class ActionOut(Out):
    """An action the caller may take now."""

    trigger: str
    label: str
    style: str
    on_behalf_of_id: int | None
    sign_off: bool
    fields: list[FieldOut]


class EventOut(Out):
    """One audit event."""

    seq: int
    at: datetime
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


class TaskOut(Out):
    """Who the instance waits on."""

    id: int
    state: str
    state_label: str
    kind: str
    who: str
    due_at: datetime | None
    overdue: bool


class InstanceOut(Out):
    """An instance: where it stands and what the caller may do."""

    id: int
    title: str
    workflow: str
    workflow_label: str
    definition_version: int
    state: str
    state_label: str
    terminal: bool
    version: int = Field(description="Send back as expected_version to detect concurrent edits")
    subject_id: int
    subject_name: str
    unit_name: str
    created_at: datetime
    closed_at: datetime | None
    tasks: list[TaskOut]
    actions: list[ActionOut]


class ActionIn(BaseModel):
    """Take an action: its form values, the version you saw, and for whom (delegation)."""

    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] = Field(default_factory=dict)
    expected_version: int | None = None
    on_behalf_of_id: int | None = None


class ActionResultOut(BaseModel):
    """What an action did, and the instance afterwards."""

    from_state: str
    to_state: str
    completed: bool
    event_id: int
    instance: InstanceOut
