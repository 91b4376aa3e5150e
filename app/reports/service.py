"""The HR dashboard: overdue work by unit and by whom it waits on, aging, plans, promotions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, true
from sqlmodel import Session, col, select

from app import clock
from app.engine import calendar
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.org.models import OrgUnit, Person
from app.plans.models import ImprovementPlan
from app.promotions.models import PromotionRequest, PromotionRound
from app.reports import scope as scopes
from app.reports.aging import Aging, empty_buckets
from app.reports.models import OverdueSnapshot, OverdueSnapshotDay

PLAN_WORKFLOW = "improvement_plan"
WAITING_LIMIT = 15
TREND_DAYS = 60


def overdue_conditions(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """An open task whose due time has passed."""
    return (Task.status == TaskStatus.open, col(Task.due_at).is_not(None), Task.due_at < now)


def in_units(column: object, where: Area) -> ColumnElement[bool]:
    """The row's unit lies in the area (a subtree resolved in Python: few units, many rows);
    no condition at all when the area is the whole organisation (head-office HR)."""
    if where.whole_tree:
        return true()
    return col(column).in_(where.unit_ids)  # type: ignore[arg-type]


@dataclass
class Area:
    """Where a report looks: the HR scope, the unit drilled into, its subtree and children."""

    scope: scopes.Scope
    focus: OrgUnit | None
    units: list[scopes.Unit]
    kids: list[scopes.Unit | OrgUnit]
    trail: list[OrgUnit]
    whole_tree: bool = False

    @property
    def unit_ids(self) -> list[int]:
        """Ids of every unit in the area."""
        return [u.id for u in self.units if u.id is not None]


def area(session: Session, *, viewer: Person, unit_id: int | None = None) -> Area:
    """The viewer's HR area, drilled down to `unit_id` (which must be inside it)."""
    scope = scopes.hr_scope(session, viewer)
    focus = scopes.focus_unit(session, scope, unit_id)
    units = scopes.units_below(session, scope, focus)
    return Area(scope, focus, units, scopes.children(scope, focus, units),
                scopes.breadcrumb(session, scope, focus),
                whole_tree=len(units) == scopes.unit_count(session))


@dataclass
class UnitLine:
    """Overdue tasks of one child unit's subtree (or of the focus unit's own cases)."""

    unit: scopes.Unit | OrgUnit
    own: bool  # the focus unit's own cases, not a child's subtree
    drillable: bool
    total: int = 0
    buckets: dict[str, int] = field(default_factory=empty_buckets)


@dataclass
class WaitingLine:
    """Overdue tasks waiting on one person, or on one role/committee at one unit."""

    assignee_id: int | None
    group_kind: str | None
    group_name: str | None
    group_unit_id: int | None
    count: int
    oldest_due: datetime


@dataclass
class RoundSteps:
    """One promotion round's requests (in scope) by workflow step."""

    round: PromotionRound
    steps: list[tuple[str, str, int]]  # workflow, state, requests


@dataclass
class Dashboard:
    """Everything the HR dashboard shows, as numbers (labels are the presenter's job)."""

    area: Area
    now: datetime
    overdue_total: int
    by_unit: list[UnitLine]
    aging: dict[str, int]
    waiting: list[WaitingLine]
    waiting_truncated: bool
    plans_by_cycle: list[tuple[int, int]]
    outcomes: list[tuple[str, int]]
    rounds: list[PromotionRound]
    promotion: RoundSteps | None
    trend: list[tuple[date, int]]


def overdue_by_unit(session: Session, where: Area, now: datetime, aging: Aging
                    ) -> tuple[list[UnitLine], dict[str, int]]:
    """Overdue tasks rolled up into the focus's children (plus its own line), and by age."""
    units = {u.id: u for u in where.units}
    has_kids = {u.parent_id for u in where.units}
    lines = {kid.id: UnitLine(kid, False, kid.id in has_kids) for kid in where.kids}
    own = UnitLine(where.focus, True, False) if where.focus is not None else None
    totals = empty_buckets()
    rows = session.exec(
        select(WorkflowInstance.org_unit_id, Task.due_at, func.count())
        .join(WorkflowInstance, WorkflowInstance.id == Task.instance_id)
        .where(*overdue_conditions(now), in_units(WorkflowInstance.org_unit_id, where))
        .group_by(WorkflowInstance.org_unit_id, Task.due_at)
    )
    line_of: dict[int, UnitLine | None] = {}  # rows are per unit and due time: few units
    for unit_id, due_at, count in rows:
        if unit_id not in line_of:
            key = scopes.rollup_key(units[unit_id].path, where.focus, where.kids)
            line_of[unit_id] = lines.get(key) if key is not None else own
        line = line_of[unit_id]
        if line is None:
            continue
        bucket = aging.bucket(due_at)
        line.total += count
        line.buckets[bucket] += count
        totals[bucket] += count
    result = [lines[k.id] for k in where.kids]
    if own is not None and own.total:
        result.append(own)
    return result, totals


def waiting_on(session: Session, where: Area, now: datetime, limit: int = WAITING_LIMIT
               ) -> tuple[list[WaitingLine], bool]:
    """Who the overdue work is stuck with, most tasks first; and whether more lines exist."""
    count = func.count().label("n")
    oldest = func.min(Task.due_at).label("oldest")
    rows = list(session.exec(
        select(Task.assignee_id, Task.group_kind, Task.group_name, Task.org_unit_id, count,
               oldest)
        .join(WorkflowInstance, WorkflowInstance.id == Task.instance_id)
        .where(*overdue_conditions(now), in_units(WorkflowInstance.org_unit_id, where))
        .group_by(Task.assignee_id, Task.group_kind, Task.group_name, Task.org_unit_id)
        .order_by(count.desc(), oldest, Task.assignee_id, Task.group_name)
        .limit(limit + 1)
    ))
    lines = [WaitingLine(*row) for row in rows[:limit]]
    return lines, len(rows) > limit


def plans_by_cycle(session: Session, where: Area) -> list[tuple[int, int]]:
    """Open improvement plans per cycle number (cycle 2 warns, the configured limit decides)."""
    rows = session.exec(
        select(ImprovementPlan.cycle, func.count())
        .join(WorkflowInstance, WorkflowInstance.id == ImprovementPlan.instance_id)
        .where(col(WorkflowInstance.closed_at).is_(None),
               in_units(ImprovementPlan.org_unit_id, where))
        .group_by(ImprovementPlan.cycle)
        .order_by(ImprovementPlan.cycle)
    )
    return [(int(cycle), int(n)) for cycle, n in rows]


def plan_outcomes(session: Session, where: Area, since: datetime | None = None
                  ) -> list[tuple[str, int]]:
    """Closed plans by outcome: the terminal state, HR closures split by HR's decision."""
    decision = col(WorkflowInstance.context)["last_hr_decision"].as_string()
    query = (
        select(WorkflowInstance.state, decision, func.count())
        .where(WorkflowInstance.workflow == PLAN_WORKFLOW,
               col(WorkflowInstance.closed_at).is_not(None),
               in_units(WorkflowInstance.org_unit_id, where))
        .group_by(WorkflowInstance.state, decision)
    )
    if since is not None:
        query = query.where(WorkflowInstance.closed_at >= since)
    counts: dict[str, int] = {}
    for state, hr_decision, n in session.exec(query):
        key = f"{state}:{hr_decision}" if state == "closed_by_hr" and hr_decision else state
        counts[key] = counts.get(key, 0) + int(n)
    return sorted(counts.items())


def promotion_rounds(session: Session, limit: int = 20) -> list[PromotionRound]:
    """The latest promotion rounds, newest window first."""
    return list(session.exec(
        select(PromotionRound)
        .order_by(col(PromotionRound.opens_on).desc(), col(PromotionRound.id).desc())
        .limit(limit)
    ))


def round_by_step(session: Session, where: Area, chosen: PromotionRound) -> RoundSteps:
    """A round's requests from the area by workflow and current step."""
    rows = session.exec(
        select(WorkflowInstance.workflow, WorkflowInstance.state, func.count())
        .join(PromotionRequest, PromotionRequest.instance_id == WorkflowInstance.id)
        .where(PromotionRequest.round_id == chosen.id,
               in_units(WorkflowInstance.org_unit_id, where))
        .group_by(WorkflowInstance.workflow, WorkflowInstance.state)
        .order_by(WorkflowInstance.workflow, WorkflowInstance.state)
    )
    return RoundSteps(chosen, [(wf, state, int(n)) for wf, state, n in rows])


def overdue_trend(session: Session, where: Area, today: date, days: int = TREND_DAYS
                  ) -> list[tuple[date, int]]:
    """Overdue tasks in the area on each snapshot day of the last `days` days."""
    since = today - timedelta(days=days)
    taken = list(session.exec(
        select(OverdueSnapshotDay.day).where(OverdueSnapshotDay.day >= since)
        .order_by(OverdueSnapshotDay.day)
    ))
    sums = dict(session.exec(
        select(OverdueSnapshot.day, func.sum(OverdueSnapshot.total))
        .where(OverdueSnapshot.day >= since,
               in_units(OverdueSnapshot.org_unit_id, where))
        .group_by(OverdueSnapshot.day)
    ).all())
    return [(day, int(sums.get(day) or 0)) for day in taken]


def dashboard(session: Session, *, viewer: Person, unit_id: int | None = None,
              round_id: int | None = None, now: datetime | None = None) -> Dashboard:
    """The dashboard of the viewer's HR scope, drilled down to a unit."""
    now = now or clock.now()
    where = area(session, viewer=viewer, unit_id=unit_id)
    aging = Aging(calendar.load(session), calendar.local_date(now))
    by_unit, buckets = overdue_by_unit(session, where, now, aging)
    waiting, truncated = waiting_on(session, where, now)
    rounds = promotion_rounds(session)
    chosen = next((r for r in rounds if r.id == round_id), None) if round_id else None
    if round_id and chosen is None:
        chosen = session.get(PromotionRound, round_id)
    chosen = chosen or (rounds[0] if rounds else None)
    return Dashboard(
        area=where,
        now=now,
        overdue_total=sum(buckets.values()),
        by_unit=by_unit,
        aging=buckets,
        waiting=waiting,
        waiting_truncated=truncated,
        plans_by_cycle=plans_by_cycle(session, where),
        outcomes=plan_outcomes(session, where),
        rounds=rounds,
        promotion=round_by_step(session, where, chosen) if chosen else None,
        trend=overdue_trend(session, where, calendar.local_date(now)),
    )
