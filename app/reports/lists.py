"""HR's lists: improvement plans and overdue tasks, filtered, sorted, paged by keyset.

The same filter object drives a page, the JSON, and the CSV/XLSX export of every match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app import clock
from app.engine import calendar
from app.engine.calendar import WorkingCalendar
from app.engine.models import Task, WorkflowInstance
from app.errors import ValidationFailed
from app.org.models import OrgUnit, Person
from app.plans.models import ImprovementPlan
from app.reports import service
from app.reports.aging import BUCKET_KEYS, Aging, bucket_bounds
from app.reports.paging import Cursor, Page, SortKey, decode_cursor, keyset, page_of

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
R = TypeVar("R")

PLAN_SORTS = {
    "newest": SortKey(ImprovementPlan.id, ImprovementPlan.id, True),
    "oldest": SortKey(ImprovementPlan.id, ImprovementPlan.id, False),
    "cycle": SortKey(ImprovementPlan.cycle, ImprovementPlan.id, True),
    "updated": SortKey(WorkflowInstance.updated_at, ImprovementPlan.id, True, "datetime"),
    "employee": SortKey(Person.name, ImprovementPlan.id, False, "str"),
}
TASK_SORTS = {
    "oldest": SortKey(Task.due_at, Task.id, False, "datetime"),
    "newest": SortKey(Task.due_at, Task.id, True, "datetime"),
}


@dataclass(frozen=True)
class PlanFilters:
    """What the plan list is narrowed to."""

    unit_id: int | None = None
    state: str | None = None
    cycle: int | None = None
    status: str = "all"  # all | open | closed
    overdue_only: bool = False
    search: str = ""
    sort: str = "newest"


@dataclass
class PlanRow:
    """One improvement plan in a list."""

    plan_id: int
    instance_id: int
    title: str
    cycle: int
    employee_no: str
    employee_name: str
    employee_name_en: str
    unit_name: str
    unit_name_en: str
    workflow: str
    state: str
    definition_id: int
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


def _plan_conditions(where: service.Area, filters: PlanFilters, now: datetime
                     ) -> tuple[list[Any], bool, bool]:
    """The filter as WHERE conditions, and whether they need the instance / the employee."""
    conditions: list[Any] = [service.in_units(ImprovementPlan.org_unit_id, where)]
    needs_instance = needs_person = False
    if filters.state:
        conditions.append(WorkflowInstance.state == filters.state)
        needs_instance = True
    if filters.cycle:
        conditions.append(ImprovementPlan.cycle == filters.cycle)
    if filters.status == "open":
        conditions.append(col(WorkflowInstance.closed_at).is_(None))
        needs_instance = True
    elif filters.status == "closed":
        conditions.append(col(WorkflowInstance.closed_at).is_not(None))
        needs_instance = True
    if filters.overdue_only:
        conditions.append(exists().where(Task.instance_id == ImprovementPlan.instance_id,
                                         *service.overdue_conditions(now)))
    if filters.search.strip():
        like = f"%{filters.search.strip()}%"
        conditions.append(or_(col(Person.name).ilike(like), col(Person.name_en).ilike(like),
                              col(Person.employee_no).ilike(like),
                              col(ImprovementPlan.title).ilike(like)))
        needs_person = True
    return conditions, needs_instance, needs_person


def _plan_query(where: service.Area, filters: PlanFilters, now: datetime) -> tuple[Any, Any]:
    """The page query, and a count query joining only what the filter needs."""
    conditions, needs_instance, needs_person = _plan_conditions(where, filters, now)
    query = (
        select(ImprovementPlan.id, ImprovementPlan.instance_id, ImprovementPlan.title,
               ImprovementPlan.cycle, Person.employee_no, Person.name, Person.name_en,
               OrgUnit.name, OrgUnit.name_en, WorkflowInstance.workflow, WorkflowInstance.state,
               WorkflowInstance.definition_id, ImprovementPlan.created_at,
               WorkflowInstance.updated_at, WorkflowInstance.closed_at)
        .join(WorkflowInstance, WorkflowInstance.id == ImprovementPlan.instance_id)
        .join(Person, Person.id == ImprovementPlan.employee_id)
        .join(OrgUnit, OrgUnit.id == ImprovementPlan.org_unit_id)
        .where(*conditions)
    )
    count = select(func.count()).select_from(ImprovementPlan)
    if needs_instance:
        count = count.join(WorkflowInstance, WorkflowInstance.id == ImprovementPlan.instance_id)
    if needs_person:
        count = count.join(Person, Person.id == ImprovementPlan.employee_id)
    return query, count.where(*conditions)


def _sort(sorts: dict[str, SortKey], name: str) -> SortKey:
    if name not in sorts:
        raise ValidationFailed("Choose one of the offered options.")
    return sorts[name]


def _count(session: Session, count: Any) -> int:
    return int(session.exec(count).one())


def plan_page(session: Session, *, viewer: Person, filters: PlanFilters,
              cursor: str | None = None, limit: int = PAGE_SIZE) -> tuple[service.Area,
                                                                           Page[PlanRow]]:
    """One page of the plans in the viewer's HR scope, as filtered and sorted."""
    where = service.area(session, viewer=viewer, unit_id=filters.unit_id)
    key = _sort(PLAN_SORTS, filters.sort)
    position = decode_cursor(cursor, key)
    query, count = _plan_query(where, filters, clock.now())
    total = _count(session, count)
    rows = [PlanRow(*row) for row in session.exec(keyset(query, key, position, limit))]
    return where, page_of(rows, total, key, position, limit, _plan_value(filters.sort),
                          lambda r: r.plan_id)


def _plan_value(sort: str) -> Any:
    return {
        "cycle": lambda r: r.cycle,
        "updated": lambda r: r.updated_at,
        "employee": lambda r: r.employee_name,
    }.get(sort, lambda r: r.plan_id)


def _every_row(session: Session, query: Any, key: SortKey, convert: Callable[[Any], R],
               value_of: Callable[[R], Any], id_of: Callable[[R], int]) -> Iterator[R]:
    """Every row of the query in the key's order, fetched EXPORT_CHUNK at a time (an export
    never holds one huge result); the area, filter and query are worked out once by the
    caller, and no chunk counts the rows or encodes a link."""
    position: Cursor | None = None
    while True:
        rows = [convert(row) for row in session.exec(keyset(query, key, position,
                                                            EXPORT_CHUNK))]
        yield from rows[:EXPORT_CHUNK]
        if len(rows) <= EXPORT_CHUNK:
            return
        last = rows[EXPORT_CHUNK - 1]
        position = Cursor(None if key.by_id_only else value_of(last), id_of(last))


def iter_plans(session: Session, *, viewer: Person, filters: PlanFilters) -> Iterator[PlanRow]:
    """Every plan matching the filters, in order, fetched in keyset chunks (for exports)."""
    where = service.area(session, viewer=viewer, unit_id=filters.unit_id)
    key = _sort(PLAN_SORTS, filters.sort)
    query, _count_query = _plan_query(where, filters, clock.now())
    yield from _every_row(session, query, key, lambda row: PlanRow(*row),
                          _plan_value(filters.sort), lambda r: r.plan_id)


@dataclass(frozen=True)
class TaskFilters:
    """What the overdue-task list is narrowed to."""

    unit_id: int | None = None
    waiting: str = ""  # "p:<person id>" or "g:<kind>:<name>:<unit id>"
    bucket: str = ""
    workflow: str = ""
    sort: str = "oldest"


@dataclass
class TaskRow:
    """One overdue task in a list, with its case and whom it waits on."""

    task_id: int
    kind: str
    state: str
    due_at: datetime
    assignee_id: int | None
    assignee_name: str | None
    assignee_name_en: str | None
    group_kind: str | None
    group_name: str | None
    group_unit_id: int | None
    group_unit_name: str | None
    group_unit_name_en: str | None
    instance_id: int
    title: str
    workflow: str
    definition_id: int
    subject_name: str
    subject_name_en: str
    unit_name: str
    unit_name_en: str
    overdue_days: int = 0

    @property
    def waiting_key(self) -> str:
        """The key of whom it waits on, as the `waiting` filter takes it."""
        return waiting_key(self.assignee_id, self.group_kind, self.group_name,
                           self.group_unit_id)


def waiting_key(assignee_id: int | None, kind: str | None, name: str | None,
                unit_id: int | None) -> str:
    """"p:<id>" for a person, "g:<kind>:<name>:<unit>" for a group, "" for nobody."""
    if assignee_id is not None:
        return f"p:{assignee_id}"
    if kind and name and unit_id is not None:
        return f"g:{kind}:{name}:{unit_id}"
    return ""


def _waiting_condition(key: str) -> Any:
    parts = key.split(":")
    try:
        if parts[0] == "p" and len(parts) == 2:
            return Task.assignee_id == int(parts[1])
        if parts[0] == "g" and len(parts) == 4:
            return (col(Task.assignee_id).is_(None) & (Task.group_kind == parts[1])
                    & (Task.group_name == parts[2]) & (Task.org_unit_id == int(parts[3])))
    except ValueError:
        pass
    raise ValidationFailed("Choose one of the offered options.")


def due_days_for(cal: WorkingCalendar, today: date, first: int, last: int | None
                 ) -> tuple[date | None, date]:
    """The due dates whose working days overdue lie in [first, last] (earliest None: open)."""
    day, count = today, 0
    latest: date | None = None
    earliest: date | None = None
    for _ in range(3660):
        if latest is None and count >= first:
            latest = day
        if last is not None and count > last:
            earliest = day + timedelta(days=1)
            break
        count += cal.is_working_day(day)
        day -= timedelta(days=1)
    assert latest is not None
    return earliest, latest


def _task_conditions(session: Session, where: service.Area, filters: TaskFilters,
                     now: datetime) -> list[Any]:
    """The overdue list's filter as WHERE conditions (on task and instance)."""
    conditions: list[Any] = [*service.overdue_conditions(now),
                             service.in_units(WorkflowInstance.org_unit_id, where)]
    if filters.waiting:
        conditions.append(_waiting_condition(filters.waiting))
    if filters.workflow:
        conditions.append(WorkflowInstance.workflow == filters.workflow)
    if filters.bucket:
        if filters.bucket not in BUCKET_KEYS:
            raise ValidationFailed("Choose one of the offered options.")
        first, last = bucket_bounds(filters.bucket)
        earliest, latest = due_days_for(calendar.load(session), calendar.local_date(now),
                                        first, last)
        conditions.append(Task.due_at < calendar.start_of_day(latest + timedelta(days=1)))
        if earliest is not None:
            conditions.append(Task.due_at >= calendar.start_of_day(earliest))
    return conditions


def _task_query(session: Session, where: service.Area, filters: TaskFilters, now: datetime
                ) -> tuple[Any, Any]:
    """The page query with every name it shows, and a count query with only the filter."""
    conditions = _task_conditions(session, where, filters, now)
    assignee = aliased(Person)
    subject = aliased(Person)
    group_unit = aliased(OrgUnit)
    case_unit = aliased(OrgUnit)
    query = (
        select(Task.id, Task.kind, Task.state, Task.due_at, Task.assignee_id, assignee.name,
               assignee.name_en, Task.group_kind, Task.group_name, Task.org_unit_id,
               group_unit.name, group_unit.name_en, WorkflowInstance.id, WorkflowInstance.title,
               WorkflowInstance.workflow, WorkflowInstance.definition_id, subject.name,
               subject.name_en, case_unit.name, case_unit.name_en)
        .join(WorkflowInstance, WorkflowInstance.id == Task.instance_id)
        .join(subject, subject.id == WorkflowInstance.subject_id)
        .join(case_unit, case_unit.id == WorkflowInstance.org_unit_id)
        .outerjoin(assignee, assignee.id == Task.assignee_id)
        .outerjoin(group_unit, group_unit.id == Task.org_unit_id)
        .where(*conditions)
    )
    count = (select(func.count()).select_from(Task)
             .join(WorkflowInstance, WorkflowInstance.id == Task.instance_id).where(*conditions))
    return query, count


def _task_row(row: Any, aging: Aging) -> TaskRow:
    item = TaskRow(*row)
    item.overdue_days = aging.days(item.due_at)
    return item


def task_page(session: Session, *, viewer: Person, filters: TaskFilters,
              cursor: str | None = None, limit: int = PAGE_SIZE,
              now: datetime | None = None) -> tuple[service.Area, Page[TaskRow]]:
    """One page of the overdue tasks in the viewer's HR scope, as filtered and sorted."""
    now = now or clock.now()
    where = service.area(session, viewer=viewer, unit_id=filters.unit_id)
    key = _sort(TASK_SORTS, filters.sort)
    position = decode_cursor(cursor, key)
    query, count = _task_query(session, where, filters, now)
    total = _count(session, count)
    aging = Aging(calendar.load(session), calendar.local_date(now))
    rows = [_task_row(row, aging) for row in session.exec(keyset(query, key, position, limit))]
    return where, page_of(rows, total, key, position, limit, lambda r: r.due_at,
                          lambda r: r.task_id)


def iter_tasks(session: Session, *, viewer: Person, filters: TaskFilters) -> Iterator[TaskRow]:
    """Every overdue task matching the filters, in order, in keyset chunks (for exports)."""
    now = clock.now()
    where = service.area(session, viewer=viewer, unit_id=filters.unit_id)
    key = _sort(TASK_SORTS, filters.sort)
    query, _count_query = _task_query(session, where, filters, now)
    aging = Aging(calendar.load(session), calendar.local_date(now))
    yield from _every_row(session, query, key, lambda row: _task_row(row, aging),
                          lambda r: r.due_at, lambda r: r.task_id)
