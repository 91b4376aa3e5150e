"""Query parameters of the report pages and API, read once into filter objects."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from app.reports.lists import PlanFilters, TaskFilters
from app.web.ids import Id

# The buckets of app/reports/aging.py (checked there too), and a "waiting on" key of
# lists.waiting_key: a person (p:id) or a group at a unit (g:kind:name:unit).
Bucket = Literal["", "days_0_2", "days_3_5", "days_6_10", "days_over_10"]
WAITING = r"^(|p:[1-9][0-9]{0,8}|g:[a-z0-9_]{1,20}:[a-z0-9_]{1,60}:[1-9][0-9]{0,8})$"


def plan_filters(
    unit: Annotated[Id | None, Query()] = None,
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
    unit: Annotated[Id | None, Query()] = None,
    waiting: Annotated[str, Query(max_length=200, pattern=WAITING)] = "",
    bucket: Annotated[Bucket, Query()] = "",
    workflow: Annotated[str, Query(max_length=60)] = "",
    sort: Annotated[str, Query(pattern="^(oldest|newest)$")] = "oldest",
) -> TaskFilters:
    """The overdue list's filters from the query string."""
    return TaskFilters(unit_id=unit, waiting=waiting, bucket=bucket, workflow=workflow,
                       sort=sort)


PlanFiltersDep = Annotated[PlanFilters, Depends(plan_filters)]
TaskFiltersDep = Annotated[TaskFilters, Depends(task_filters)]
Cursor = Annotated[str | None, Query(max_length=400)]
