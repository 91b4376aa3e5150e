"""JSON shapes of the reports API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.web.strict import BodyId
from app.web.text import FilledText


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


class RoundStepOut(BaseModel):
    """Promotion requests at one step."""

    workflow: str
    state: str
    label: str
    count: int


class DashboardRoundOut(BaseModel):
    """A promotion round's requests in scope, by step."""

    id: int
    scheme: str
    year: int
    steps: list[RoundStepOut]


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
    promotion: DashboardRoundOut | None
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
    """Hand an open step to a person in your units, with the reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    to_person_id: BodyId
    reason: FilledText = Field(min_length=1, max_length=500)


class RemindOut(BaseModel):
    """How many reminders were queued (0: one went out within the hour, or nobody holds it)."""

    queued: int


class ReassignedTaskOut(BaseModel):
    """A task after it was handed over."""

    id: int
    instance_id: int
    assignee_id: int | None
    status: str
    case: str


class BulkRemindIn(BaseModel):
    """Remind whoever each selected task waits on."""

    model_config = ConfigDict(extra="forbid", strict=True)

    task_ids: list[BodyId] = Field(min_length=1, max_length=500)


class BulkReassignIn(BulkRemindIn):
    """Hand each selected step to one person in your units, with the reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    to_person_id: BodyId
    reason: FilledText = Field(min_length=1, max_length=500)


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
