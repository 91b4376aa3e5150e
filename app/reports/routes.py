"""JSON API of the HR reports, under /api/reports: the dashboard, lists, actions, feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.i18n import gettext_for
from app.reports import actions, ics, lists, presenters, service
from app.reports.aging import BUCKETS
from app.reports.params import Cursor, PlanFiltersDep, TaskFiltersDep
from app.reports.schemas import (
    BulkIn,
    BulkLineOut,
    BulkOut,
    CountOut,
    DashboardOut,
    FeedOut,
    PageOut,
    ReassignIn,
    RemindOut,
    RoundOut,
    StepOut,
    TaskOut,
    TrendOut,
    UnitLineOut,
    UnitRef,
    WaitingOut,
)
from app.web.deps import CurrentUser, LocaleDep, ReportSessionDep, SessionDep
from app.web.labels import unit_name

router = APIRouter(prefix="/api/reports", tags=["reports"])


def _unit(unit, locale: str) -> UnitRef:  # noqa: ANN001 - an OrgUnit
    return UnitRef(id=unit.id, name=unit_name(unit, locale), kind=unit.kind)


@router.get("/dashboard", response_model=DashboardOut, summary="HR dashboard numbers")
def dashboard(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
              unit: Annotated[int | None, Query(ge=1)] = None,
              round: Annotated[int | None, Query(ge=1)] = None) -> DashboardOut:  # noqa: A002
    """Overdue work by unit, whom it waits on and age; plans by cycle and outcome; promotions."""
    board = service.dashboard(db, viewer=user, unit_id=unit, round_id=round)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    _ = labels.gettext
    warning, limit = presenters.cycle_rule(labels)
    names = presenters.waiting_labels(db, labels, board.waiting)
    promotion = None
    if board.promotion is not None:
        steps = []
        for workflow, state, n in board.promotion.steps:
            spec = labels.current_spec(workflow)
            steps.append(StepOut(workflow=workflow, state=state, count=n,
                                 label=f"{labels.workflow(spec, workflow)} · "
                                       f"{labels.state(spec, state)}"))
        promotion = RoundOut(id=board.promotion.round.id, scheme=board.promotion.round.scheme,
                             year=board.promotion.round.year, steps=steps)
    return DashboardOut(
        unit=_unit(board.area.focus, locale) if board.area.focus else None,
        breadcrumb=[_unit(u, locale) for u in board.area.trail],
        overdue_total=board.overdue_total,
        by_unit=[UnitLineOut(unit=_unit(line.unit, locale), own=line.own,
                             drillable=line.drillable, total=line.total, buckets=line.buckets)
                 for line in board.by_unit],
        aging=[CountOut(key=key, label=_(label), count=board.aging[key])
               for key, label, *_rest in BUCKETS],
        waiting=[WaitingOut(key=lists.waiting_key(w.assignee_id, w.group_kind, w.group_name,
                                                  w.group_unit_id),
                            label=name, count=w.count, oldest_due=w.oldest_due)
                 for name, w in zip(names, board.waiting, strict=True)],
        waiting_truncated=board.waiting_truncated,
        plans_by_cycle=[CountOut(key=str(cycle), label=_("Cycle {n}").format(n=cycle), count=n)
                        for cycle, n in board.plans_by_cycle],
        cycle_warning=warning,
        cycle_limit=limit,
        outcomes=[CountOut(key=key, label=_(presenters.OUTCOME_LABELS.get(key, key)), count=n)
                  for key, n in board.outcomes],
        promotion=promotion,
        trend=[TrendOut(day=day, overdue=n) for day, n in board.trend],
    )


def _jsonable(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


@router.get("/plans", response_model=PageOut, summary="Improvement plans in your HR scope")
def plans(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
          filters: PlanFiltersDep, cursor: Cursor = None,
          limit: Annotated[int, Query(ge=1, le=500)] = lists.PAGE_SIZE) -> PageOut:
    """Filtered, sorted, one keyset page at a time (`cursor` from next/prev)."""
    _area, page = lists.plan_page(db, viewer=user, filters=filters, cursor=cursor, limit=limit)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    return PageOut(columns=[labels.gettext(h) for h in presenters.PLAN_HEADER],
                   rows=[[_jsonable(v) for v in presenters.plan_cells(labels, r)]
                         for r in page.rows],
                   ids=[r.plan_id for r in page.rows], total=page.total,
                   next_cursor=page.next_cursor, prev_cursor=page.prev_cursor)


@router.get("/overdue", response_model=PageOut, summary="Overdue tasks in your HR scope")
def overdue(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
            filters: TaskFiltersDep, cursor: Cursor = None,
            limit: Annotated[int, Query(ge=1, le=500)] = lists.PAGE_SIZE) -> PageOut:
    """Filtered by unit, whom they wait on, age and workflow; oldest due first by default."""
    _area, page = lists.task_page(db, viewer=user, filters=filters, cursor=cursor, limit=limit)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    return PageOut(columns=[labels.gettext(h) for h in presenters.TASK_HEADER],
                   rows=[[_jsonable(v) for v in presenters.task_cells(labels, r)]
                         for r in page.rows],
                   ids=[r.task_id for r in page.rows], total=page.total,
                   next_cursor=page.next_cursor, prev_cursor=page.prev_cursor)


@router.post("/tasks/{task_id}/remind", response_model=RemindOut, summary="Remind now")
def remind(task_id: int, request: Request, db: SessionDep, user: CurrentUser) -> RemindOut:
    """Queue a reminder to whoever the task waits on (once per hour per person)."""
    queued = actions.remind_now(db, actor=user, task_id=task_id,
                                digest_default=request.app.state.settings.digest_default)
    return RemindOut(queued=queued)


@router.post("/tasks/{task_id}/reassign", response_model=TaskOut, summary="Reassign a step")
def reassign(task_id: int, body: ReassignIn, db: SessionDep, user: CurrentUser) -> TaskOut:
    """Hand an open action step to a person in your units, with the reason (audited)."""
    task = actions.reassign(db, actor=user, task_id=task_id, to_person_id=body.to_person_id,
                            reason=body.reason)
    return TaskOut(id=task.id, instance_id=task.instance_id, assignee_id=task.assignee_id,
                   status=task.status)


def bulk_out(plan: actions.BulkPlan, applied: bool, locale: str) -> BulkOut:
    """A bulk plan as JSON."""
    gettext = gettext_for(locale)
    return BulkOut(action=plan.action, applied=applied, confirmation=plan.confirmation,
                   lines=[BulkLineOut(task_id=line.task_id, ok=line.refusal is None,
                                      refusal=line.refusal.render(gettext)
                                      if line.refusal else None)
                          for line in plan.lines],
                   done=plan.done, messages=plan.messages)


@router.post("/tasks/bulk", response_model=BulkOut, summary="Bulk remind or reassign")
def bulk(body: BulkIn, request: Request, db: SessionDep, user: CurrentUser,
         locale: LocaleDep) -> BulkOut:
    """Without `confirmation`: a preview and its confirmation code; with it: done."""
    if not body.confirmation:
        plan = actions.bulk_preview(db, actor=user, action=body.action, task_ids=body.task_ids,
                                    to_person_id=body.to_person_id, reason=body.reason)
        return bulk_out(plan, False, locale)
    plan = actions.bulk_apply(db, actor=user, action=body.action, task_ids=body.task_ids,
                              confirmation=body.confirmation, to_person_id=body.to_person_id,
                              reason=body.reason,
                              digest_default=request.app.state.settings.digest_default)
    return bulk_out(plan, True, locale)


def feed_url(request: Request, token: str) -> str:
    """The secret URL of a feed token."""
    return f"{request.app.state.settings.base_url.rstrip('/')}/reports/feed/{token}.ics"


def _feed(db: SessionDep, user: CurrentUser, url: str | None = None) -> FeedOut:
    feed = ics.active_feed(db, user)
    return FeedOut(active=feed is not None, created_at=feed.created_at if feed else None,
                   last_used_at=feed.last_used_at if feed else None, url=url)


@router.get("/calendar-feed", response_model=FeedOut, summary="My calendar feed")
def get_feed(db: SessionDep, user: CurrentUser) -> FeedOut:
    """Whether I have a working feed (its URL is shown only when issued)."""
    return _feed(db, user)


@router.post("/calendar-feed", response_model=FeedOut, status_code=201,
             summary="Issue a new calendar feed URL")
def issue_feed(request: Request, db: SessionDep, user: CurrentUser) -> FeedOut:
    """A new secret URL; the previous one stops working."""
    token = ics.issue_feed(db, user)
    return _feed(db, user, feed_url(request, token))


@router.delete("/calendar-feed", response_model=FeedOut, summary="Revoke my calendar feed")
def revoke_feed(db: SessionDep, user: CurrentUser) -> FeedOut:
    """Switch the feed URL off."""
    ics.revoke_feed(db, user)
    return _feed(db, user)
