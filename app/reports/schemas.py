"""JSON shapes of the reports API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class UnitRef(BaseModel):
    """An org unit as the reader names it."""

    id: int
    name: str
    kind: str


class UnitLineOut(BaseModel):
    """Overdue tasks under one child unit (or the focus unit's own cases)."""

    unit: UnitRef
    own: bool
    drillable: bool
    total: int
    buckets: dict[str, int]


class WaitingOut(BaseModel):
    """Overdue tasks waiting on one person or group."""

    key: str
    label: str
    count: int
    oldest_due: datetime


class CountOut(BaseModel):
    """A labelled number."""

    key: str
    label: str
    count: int


class StepOut(BaseModel):
    """Promotion requests at one step."""

    workflow: str
    state: str
    label: str
    count: int


class RoundOut(BaseModel):
    """A promotion round's requests in scope, by step."""

    id: int
    scheme: str
    year: int
    steps: list[StepOut]


class TrendOut(BaseModel):
    """Overdue tasks on one snapshot day."""

    day: date
    overdue: int


class DashboardOut(BaseModel):
    """The HR dashboard's numbers."""

    unit: UnitRef | None
    breadcrumb: list[UnitRef]
    overdue_total: int
    by_unit: list[UnitLineOut]
    aging: list[CountOut]
    waiting: list[WaitingOut]
    waiting_truncated: bool
    plans_by_cycle: list[CountOut]
    cycle_warning: int
    cycle_limit: int
    outcomes: list[CountOut]
    promotion: RoundOut | None
    trend: list[TrendOut]


class PageOut(BaseModel):
    """A page of a list: rows as the export columns, and the neighbours' cursors."""

    columns: list[str]
    rows: list[list[Any]]
    ids: list[int]
    total: int
    next_cursor: str | None
    prev_cursor: str | None


class ReassignIn(BaseModel):
    """Hand an open step to a person, with the reason."""

    to_person_id: int
    reason: str = Field(max_length=2000)


class RemindOut(BaseModel):
    """How many reminders were queued."""

    queued: int


class TaskOut(BaseModel):
    """A task after an action."""

    id: int
    instance_id: int
    assignee_id: int | None
    status: str


class BulkIn(BaseModel):
    """A bulk remind or reassign; without `confirmation` it is only previewed."""

    action: Literal["remind", "reassign"]
    task_ids: list[int] = Field(max_length=500)
    to_person_id: int | None = None
    reason: str = Field(default="", max_length=2000)
    confirmation: str | None = None


class BulkLineOut(BaseModel):
    """One selected task and why it would be skipped (if it would)."""

    task_id: int
    ok: bool
    refusal: str | None


class BulkOut(BaseModel):
    """A bulk action's preview, or what it did."""

    action: str
    applied: bool
    confirmation: str
    lines: list[BulkLineOut]
    done: int
    messages: int


class FeedOut(BaseModel):
    """The caller's calendar feed; the URL only right after it is issued."""

    active: bool
    created_at: datetime | None
    last_used_at: datetime | None
    url: str | None = None
