"""JSON API of the HR reports, under /api/reports: the dashboard, lists and their exports,
actions on stuck work, and the caller's calendar (ICS) with a token instead of a secret URL.

Reminding and reassigning act on a case, so they are based on the case read (If-Match: its
ETag). A bulk action answers a preview whose ETag is its confirmation: sending it back as
If-Match carries the previewed action out, and nothing else.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from app import clock
from app.engine import runtime
from app.engine.models import Task, WorkflowInstance
from app.errors import AlreadyDone, InvalidTransition, NotFound, ValidationFailed
from app.i18n import N_, gettext_for
from app.org.models import OrgUnit, Person
from app.reports import actions, exports, ics, lists, presenters, service
from app.reports import scope as scopes
from app.reports.aging import BUCKETS
from app.reports.params import Cursor, PlanFiltersDep, TaskFiltersDep
from app.reports.schemas import (
    BulkLineOut,
    BulkOut,
    BulkReassignIn,
    BulkRemindIn,
    CountOut,
    DashboardOut,
    DashboardRoundOut,
    FeedOut,
    PageOut,
    ReassignedTaskOut,
    ReassignIn,
    RemindOut,
    RoundStepOut,
    TrendOut,
    UnitLineOut,
    UnitRef,
    WaitingOut,
)
from app.web.conditional import ApiRoute, IfMatch, IfMatchDep
from app.web.deps import CurrentUser, LocaleDep, ReportSessionDep, SessionDep
from app.web.ids import Id
from app.web.labels import unit_name
from app.web.schemas import problems

router = APIRouter(prefix="/api/reports", tags=["reports"], route_class=ApiRoute)
# HR only (403); a unit or page outside the caller's scope names nothing (404).
HR_ONLY = problems(403, 404)
Format = Annotated[Literal["csv", "xlsx"], Query(description="csv (UTF-8 with BOM) or xlsx")]
EXPORT_CONTENT = {200: {"description": "The list as a file", "content": {
    "text/csv": {"schema": {"type": "string"}},
    exports.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}
ICS_CONTENT = {200: {"description": "An iCalendar file",
                     "content": {"text/calendar": {"schema": {"type": "string"}}}}}


def _unit(unit, locale: str) -> UnitRef:  # noqa: ANN001 - an OrgUnit
    return UnitRef(id=unit.id, name=unit_name(unit, locale), kind=unit.kind)


@router.get("/dashboard", response_model=DashboardOut, responses=HR_ONLY,
            summary="HR dashboard numbers")
def dashboard(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
              unit: Annotated[Id | None, Query()] = None,
              round: Annotated[Id | None, Query()] = None) -> DashboardOut:  # noqa: A002
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
            steps.append(RoundStepOut(workflow=workflow, state=state, count=n,
                                      label=f"{labels.workflow(spec, workflow)} · "
                                            f"{labels.state(spec, state)}"))
        promotion = DashboardRoundOut(
            id=board.promotion.round.id, scheme=board.promotion.round.scheme,
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


def _paged(lister: Any, db: Session, user: Person, filters: Any, cursor: str | None,
           limit: int) -> Any:
    """One page of a list; a cursor that names no page is not found (as a wrong id is)."""
    try:
        return lister(db, viewer=user, filters=filters, cursor=cursor, limit=limit)
    except ValidationFailed as exc:
        raise NotFound("This page link is broken; start from the first page.") from exc


def _jsonable(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


@router.get("/plans", response_model=PageOut, responses=HR_ONLY,
            summary="Improvement plans in your HR scope")
def plans(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
          filters: PlanFiltersDep, cursor: Cursor = None,
          limit: Annotated[int, Query(ge=1, le=500)] = lists.PAGE_SIZE) -> PageOut:
    """Filtered, sorted, one keyset page at a time (`cursor` from next/prev)."""
    _area, page = _paged(lists.plan_page, db, user, filters, cursor, limit)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    return PageOut(columns=[labels.gettext(h) for h in presenters.PLAN_HEADER],
                   rows=[[_jsonable(v) for v in presenters.plan_cells(labels, r)]
                         for r in page.rows],
                   ids=[r.plan_id for r in page.rows], total=page.total,
                   next_cursor=page.next_cursor, prev_cursor=page.prev_cursor)


@router.get("/overdue", response_model=PageOut, responses=HR_ONLY,
            summary="Overdue tasks in your HR scope")
def overdue(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
            filters: TaskFiltersDep, cursor: Cursor = None,
            limit: Annotated[int, Query(ge=1, le=500)] = lists.PAGE_SIZE) -> PageOut:
    """Filtered by unit, whom they wait on, age and workflow; oldest due first by default."""
    _area, page = _paged(lists.task_page, db, user, filters, cursor, limit)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    return PageOut(columns=[labels.gettext(h) for h in presenters.TASK_HEADER],
                   rows=[[_jsonable(v) for v in presenters.task_cells(labels, r)]
                         for r in page.rows],
                   ids=[r.task_id for r in page.rows], total=page.total,
                   next_cursor=page.next_cursor, prev_cursor=page.prev_cursor)


def export_response(request: Request, db: Session, user: Person, locale: str, fmt: str, *,
                    rows: Any, cells: Any, header: list[str], name: str,
                    title: str) -> Response:
    """A filtered list as a CSV or XLSX download named after the day (the pages' file)."""
    gettext = gettext_for(locale)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    table = [cells(labels, r) for r in rows]  # read first: a refusal comes before the file
    heads = [gettext(h) for h in header]
    stamp = clock.today().strftime("%Y%m%d")
    if fmt == "csv":
        data, media_type = exports.csv_bytes(heads, table), exports.CSV_TYPE
    else:
        data, media_type = exports.xlsx_bytes(gettext(title), heads, table), exports.XLSX_TYPE
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.{fmt}"'})


@router.get("/plans/export", response_class=Response, responses={**HR_ONLY, **EXPORT_CONTENT},
            summary="The plan report as CSV or XLSX")
def export_plans(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
                 filters: PlanFiltersDep, format: Format = "csv") -> Response:  # noqa: A002
    """The plan list as filtered, every matching row (the same file as the page's export)."""
    return export_response(request, db, user, locale, format,
                           rows=lists.iter_plans(db, viewer=user, filters=filters),
                           cells=presenters.plan_cells, header=presenters.PLAN_HEADER,
                           name="plans", title=N_("Improvement plans"))


@router.get("/overdue/export", response_class=Response,
            responses={**HR_ONLY, **EXPORT_CONTENT}, summary="The overdue list as CSV or XLSX")
def export_overdue(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
                   filters: TaskFiltersDep, format: Format = "csv") -> Response:  # noqa: A002
    """The overdue list as filtered, every matching row (the same file as the page's export)."""
    return export_response(request, db, user, locale, format,
                           rows=lists.iter_tasks(db, viewer=user, filters=filters),
                           cells=presenters.task_cells, header=presenters.TASK_HEADER,
                           name="overdue", title=N_("Overdue tasks"))


def _task_case(db: Session, user: Person, task_id: int,
               if_match: IfMatch) -> tuple[Task, WorkflowInstance]:
    """A task in the caller's HR scope with its case, if the caller read the case as it is."""
    scope = scopes.hr_scope(db, user)
    task = db.get(Task, task_id)
    instance = db.get(WorkflowInstance, task.instance_id) if task else None
    unit = db.get(OrgUnit, instance.org_unit_id) if instance else None
    if task is None or instance is None or not scope.covers(unit):
        raise NotFound("No task {id} in your scope.", id=task_id)
    runtime.check_version(instance, if_match.expected_version(instance.version))
    if task.status != "open":
        raise InvalidTransition("This step is already closed.")
    return task, instance


@router.post("/tasks/{task_id}/remind", response_model=RemindOut,
             responses=problems(409, 412, 428), summary="Remind now")
def remind(task_id: Id, request: Request, db: SessionDep, user: CurrentUser,
           if_match: IfMatchDep) -> RemindOut:
    """Queue a reminder to whoever the task waits on (once per hour per person), based on the
    task's case as read (If-Match: the case's ETag)."""
    task, _instance = _task_case(db, user, task_id, if_match)
    if task.due_at is None:
        raise InvalidTransition("This step has no due date to remind of.")
    queued = actions.remind_now(db, actor=user, task_id=task_id,
                                digest_default=request.app.state.settings.digest_default)
    return RemindOut(queued=queued)


def _reassignee(db: Session, user: Person, person_id: int) -> Person:
    person = db.get(Person, person_id)
    unit = db.get(OrgUnit, person.org_unit_id) if person else None
    if person is None or not person.active or not scopes.hr_scope(db, user).covers(unit):
        raise NotFound("Choose an active person in your units.")
    return person


@router.post("/tasks/{task_id}/reassign", response_model=ReassignedTaskOut,
             responses=problems(409, 412, 428), summary="Reassign a step")
def reassign(task_id: Id, body: ReassignIn, db: SessionDep, user: CurrentUser,
             if_match: IfMatchDep) -> ReassignedTaskOut:
    """Hand an open action step to a person in your units, with the reason (audited), based on
    the case as read. 404: no such task or person in your units; 409: a signature or a
    checkpoint entry (personal), or it already waits on that person."""
    task, _instance = _task_case(db, user, task_id, if_match)
    to = _reassignee(db, user, body.to_person_id)
    if task.kind != "act":
        raise InvalidTransition("Signatures and checkpoint entries are personal; only action "
                                "steps can be reassigned.")
    if task.assignee_id == to.id:
        raise AlreadyDone("The step already waits on this person.")
    task = actions.reassign(db, actor=user, task_id=task_id, to_person_id=to.id,
                            reason=body.reason)
    return ReassignedTaskOut(id=task.id, instance_id=task.instance_id,
                             assignee_id=task.assignee_id, status=task.status,
                             case=f"/api/instances/{task.instance_id}")


def bulk_out(plan: actions.BulkPlan, applied: bool, locale: str,
             response: Response) -> BulkOut:
    """A bulk plan as JSON; its ETag is the confirmation that carries it out."""
    gettext = gettext_for(locale)
    response.headers["ETag"] = f'"{plan.confirmation}"'
    return BulkOut(action=plan.action, applied=applied, confirmation=plan.confirmation,
                   lines=[BulkLineOut(task_id=line.task_id, ok=line.refusal is None,
                                      refusal=line.refusal.render(gettext)
                                      if line.refusal else None)
                          for line in plan.lines],
                   done=plan.done, messages=plan.messages)


def _bulk(request: Request, db: Session, user: Person, locale: str, response: Response,
          if_match: IfMatch, action: str, task_ids: list[int], to_person_id: int | None = None,
          reason: str = "") -> BulkOut:
    plan = actions.bulk_preview(db, actor=user, action=action, task_ids=task_ids,
                                to_person_id=to_person_id, reason=reason)
    if not if_match.present:
        return bulk_out(plan, False, locale, response)
    if_match.check_state(f'"{plan.confirmation}"')
    plan = actions.bulk_apply(db, actor=user, action=action, task_ids=task_ids,
                              confirmation=plan.confirmation, to_person_id=to_person_id,
                              reason=reason,
                              digest_default=request.app.state.settings.digest_default)
    return bulk_out(plan, True, locale, response)


@router.post("/bulk/remind", response_model=BulkOut, responses=problems(412),
             summary="Remind on many tasks")
def bulk_remind(body: BulkRemindIn, request: Request, response: Response, db: SessionDep,
                user: CurrentUser, locale: LocaleDep, if_match: IfMatchDep) -> BulkOut:
    """Without If-Match: a preview of what would happen to each task (its ETag confirms it).
    With the preview's ETag as If-Match: done (412 when the preview no longer holds)."""
    return _bulk(request, db, user, locale, response, if_match, "remind", body.task_ids)


@router.post("/bulk/reassign", response_model=BulkOut, responses=problems(404, 412),
             summary="Reassign many steps")
def bulk_reassign(body: BulkReassignIn, request: Request, response: Response, db: SessionDep,
                  user: CurrentUser, locale: LocaleDep, if_match: IfMatchDep) -> BulkOut:
    """As bulk remind: a preview first, then done with the preview's ETag as If-Match. 404: no
    active person with that id in your units."""
    _reassignee(db, user, body.to_person_id)
    return _bulk(request, db, user, locale, response, if_match, "reassign", body.task_ids,
                 body.to_person_id, body.reason)


def feed_url(request: Request, token: str) -> str:
    """The secret URL of a feed token."""
    return f"{request.app.state.settings.base_url.rstrip('/')}/reports/feed/{token}.ics"


def _feed(db: Session, user: Person, url: str | None = None) -> FeedOut:
    feed = ics.active_feed(db, user)
    return FeedOut(active=feed is not None, created_at=feed.created_at if feed else None,
                   last_used_at=feed.last_used_at if feed else None, url=url)


@router.get("/calendar.ics", response_class=Response, responses=ICS_CONTENT,
            summary="My due dates as an iCalendar file")
def my_calendar(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Every due date and checkpoint of my open tasks (the calendar feed, with a token)."""
    data = ics.feed_ics(db, user, request.app.state.registry,
                        request.app.state.settings.base_url)
    return Response(data, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})


@router.get("/calendar-feed", response_model=FeedOut, summary="My calendar feed's secret URL")
def get_feed(db: SessionDep, user: CurrentUser) -> FeedOut:
    """Whether I have a working secret feed URL (shown only when issued)."""
    return _feed(db, user)


@router.post("/calendar-feed", response_model=FeedOut, status_code=201,
             summary="Issue a new secret calendar feed URL")
def issue_feed(request: Request, response: Response, db: SessionDep,
               user: CurrentUser) -> FeedOut:
    """A new secret URL for calendar apps that cannot send a token; the previous one stops
    working. The URL is shown this once."""
    token = ics.issue_feed(db, user)
    response.headers["Location"] = "/api/reports/calendar-feed"
    return _feed(db, user, feed_url(request, token))


@router.post("/calendar-feed/revoke", response_model=FeedOut,
             summary="Switch my calendar feed URL off")
def revoke_feed(db: SessionDep, user: CurrentUser) -> FeedOut:
    """Switch the secret feed URL off (the token-authenticated calendar keeps working)."""
    ics.revoke_feed(db, user)
    return _feed(db, user)
