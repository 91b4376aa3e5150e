"""Query parameters of the report pages and API, read once into filter objects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from app.reports.lists import PlanFilters, TaskFilters


def plan_filters(
    unit: Annotated[int | None, Query(ge=1)] = None,
    state: Annotated[str | None, Query(max_length=60)] = None,
    cycle: Annotated[int | None, Query(ge=1, le=99)] = None,
    status: Annotated[str, Query(pattern="^(all|open|closed)$")] = "all",
    overdue: bool = False,
    q: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[str, Query(pattern="^(newest|oldest|cycle|updated|employee)$")] = "newest",
) -> PlanFilters:
    """The plan list's filters from the query string."""
    return PlanFilters(unit_id=unit, state=state or None, cycle=cycle, status=status,
                       overdue_only=overdue, search=q, sort=sort)


def task_filters(
    unit: Annotated[int | None, Query(ge=1)] = None,
    waiting: Annotated[str, Query(max_length=200)] = "",
    bucket: Annotated[str, Query(max_length=20)] = "",
    workflow: Annotated[str, Query(max_length=60)] = "",
    sort: Annotated[str, Query(pattern="^(oldest|newest)$")] = "oldest",
) -> TaskFilters:
    """The overdue list's filters from the query string."""
    return TaskFilters(unit_id=unit, waiting=waiting, bucket=bucket, workflow=workflow,
                       sort=sort)


PlanFiltersDep = Annotated[PlanFilters, Depends(plan_filters)]
TaskFiltersDep = Annotated[TaskFilters, Depends(task_filters)]
Cursor = Annotated[str | None, Query(max_length=400)]
