"""HR report pages: dashboard, lists with exports, actions with confirmation, calendar feed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from app import clock
from app.assessments.wording import localise
from app.errors import DomainError, NotAuthenticated, ValidationFailed
from app.i18n import Message
from app.org.models import Person
from app.promotions import reach
from app.promotions.presenters import round_label
from app.promotions.schemes import schemes_of
from app.promotions.service import may_view_rounds
from app.reports import actions, exports, ics, lists, presenters, quarterly, service
from app.reports.aging import BUCKETS
from app.reports.params import Cursor, PlanFiltersDep, TaskFiltersDep
from app.reports.routes import feed_url
from app.web.deps import CurrentUser, GettextDep, LocaleDep, ReportSessionDep, SessionDep
from app.web.forms import FieldView, FormState
from app.web.ids import form_ids
from app.web.labels import person_name, unit_name
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)


async def form_items(request: Request) -> list[tuple[str, str]]:
    """A posted form's text fields with repeats kept (checkbox lists)."""
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


FormItems = Annotated[list[tuple[str, str]], Depends(form_items)]


def _query(**params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "", False)}
    return ("?" + urlencode(clean)) if clean else ""


def _safe_back(target: str | None, default: str) -> str:
    """Only our own report pages are redirect targets."""
    if target and target.startswith("/reports/") and "//" not in target and "\\" not in target:
        return target
    return default


def _unit_choices(where: service.Area, locale: str) -> list[tuple[str, str]]:
    return [(str(u.id), "　" * max(0, u.path.count("/") - 2) + unit_name(u, locale))
            for u in where.units]


# --- Dashboard -------------------------------------------------------------------------------

@router.get("/reports", include_in_schema=False)
def reports_home() -> RedirectResponse:
    """Reports start at the dashboard."""
    return RedirectResponse("/reports/dashboard", status_code=303)


@router.get("/reports/dashboard")
def dashboard(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
              unit: Annotated[int | None, Query(ge=1)] = None,
              round: Annotated[int | None, Query(ge=1)] = None) -> Response:  # noqa: A002
    """The HR dashboard with a chart and a table for every number."""
    board = service.dashboard(db, viewer=user, unit_id=unit, round_id=round)
    focus = board.area.focus.id if board.area.focus else None
    schemes = schemes_of(request.app.state.registry)

    def link(**params: Any) -> str:
        return "/reports/dashboard" + _query(**params)

    def overdue_link(**params: Any) -> str:
        return "/reports/overdue" + _query(unit=focus, **params)

    def plans_link(**params: Any) -> str:
        return "/reports/plans" + _query(unit=focus, **params)

    panels = presenters.dashboard_panels(db, board, request.app.state.registry, locale, link,
                                         overdue_link, plans_link)
    return render(request, "reports/dashboard.html", {
        "unrouted": _unrouted(db, user, request.app.state.registry, locale),
        "board": board, "panels": panels, "focus": board.area.focus,
        "trail": [(unit_name(u, locale), link(unit=u.id)) for u in board.area.trail],
        "rounds": [(r.id, round_label(schemes.get(r.scheme), r.year, locale))
                   for r in board.rounds],
        "round_id": board.promotion.round.id if board.promotion else None,
        "unit_label": unit_name(board.area.focus, locale) if board.area.focus else "",
        "overdue_url": overdue_link(), "plans_url": plans_link(),
    })


def _unrouted(db: Session, user: Person, registry: Any, locale: str) -> list[str]:
    """Steps that would wait on nobody for people in the reader's HR area (DOMAIN: no case
    may stall silently)."""
    if not may_view_rounds(db, user):
        return []
    gaps = reach.in_area(db, reach.check_remembered(db, registry), user)
    return [localise(reach.describe(g, registry.vocabulary, locale), locale) for g in gaps]


# --- Lists and their exports -----------------------------------------------------------------

def _page_links(path: str, params: dict[str, Any], page: Any) -> dict[str, str | None]:
    return {
        "next": path + _query(**params, cursor=page.next_cursor) if page.next_cursor else None,
        "prev": path + _query(**params, cursor=page.prev_cursor) if page.prev_cursor else None,
        "first": path + _query(**params),
    }


def _plan_params(filters: lists.PlanFilters) -> dict[str, Any]:
    return {"unit": filters.unit_id, "state": filters.state, "cycle": filters.cycle,
            "status": "" if filters.status == "all" else filters.status,
            "overdue": "1" if filters.overdue_only else "", "q": filters.search,
            "sort": "" if filters.sort == "newest" else filters.sort}


@router.get("/reports/plans")
def plan_list(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
              filters: PlanFiltersDep, cursor: Cursor = None) -> Response:
    """Every improvement plan in my HR units, filtered, sorted and paged."""
    where, page = lists.plan_page(db, viewer=user, filters=filters, cursor=cursor)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    spec = labels.current_spec(service.PLAN_WORKFLOW)
    params = _plan_params(filters)
    return render(request, "reports/plans.html", {
        "header": [labels.gettext(h) for h in presenters.PLAN_HEADER],
        "rows": [(r, presenters.plan_cells(labels, r)) for r in page.rows],
        "page": page, "links": _page_links("/reports/plans", params, page),
        "filters": filters, "units": _unit_choices(where, locale),
        "states": [(k, labels.state(spec, k)) for k in (spec.states if spec else {})],
        "export_query": _query(**params),
    })


def _download(data: bytes, media_type: str, name: str) -> Response:
    stamp = clock.today().strftime("%Y%m%d")
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.'
                               f'{"csv" if media_type == exports.CSV_TYPE else "xlsx"}"'})


def _export(kind: str, header: list[str], rows: Any, name: str, title: str) -> Response:
    if kind == "csv":
        return _download(exports.csv_bytes(header, rows), exports.CSV_TYPE, name)
    return _download(exports.xlsx_bytes(title, header, rows), exports.XLSX_TYPE, name)


@router.get("/reports/plans.{kind}")
def export_plans(kind: str, request: Request, db: ReportSessionDep, user: CurrentUser,
                 locale: LocaleDep, gettext: GettextDep, filters: PlanFiltersDep) -> Response:
    """The plan list as filtered, every matching row, as CSV or XLSX."""
    if kind not in ("csv", "xlsx"):
        return Response(status_code=404)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    rows = (presenters.plan_cells(labels, r)
            for r in lists.iter_plans(db, viewer=user, filters=filters))
    return _export(kind, [gettext(h) for h in presenters.PLAN_HEADER], rows, "plans",
                   gettext("Improvement plans"))


def _task_params(filters: lists.TaskFilters) -> dict[str, Any]:
    return {"unit": filters.unit_id, "waiting": filters.waiting, "bucket": filters.bucket,
            "workflow": filters.workflow, "sort": "" if filters.sort == "oldest" else filters.sort}


@router.get("/reports/overdue")
def overdue_list(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep,
                 filters: TaskFiltersDep, cursor: Cursor = None) -> Response:
    """Overdue tasks in my HR units, with remind and reassign, one by one or in bulk."""
    where, page = lists.task_page(db, viewer=user, filters=filters, cursor=cursor)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    params = _task_params(filters)
    here = "/reports/overdue" + _query(**params, cursor=cursor)
    return render(request, "reports/overdue.html", {
        "header": [labels.gettext(h) for h in presenters.TASK_HEADER],
        "rows": [(r, presenters.task_cells(labels, r)) for r in page.rows],
        "page": page, "links": _page_links("/reports/overdue", params, page),
        "filters": filters, "units": _unit_choices(where, locale),
        "buckets": [(key, labels.gettext(label)) for key, label, *_r in BUCKETS],
        "workflows": sorted((name, labels.workflow(f.spec, name))
                            for name, f in request.app.state.registry.files.items()),
        "export_query": _query(**params), "here": here,
        "bulk_fields": _bulk_fields(labels.gettext, FormState()),
    })


@router.get("/reports/overdue.{kind}")
def export_overdue(kind: str, request: Request, db: ReportSessionDep, user: CurrentUser,
                   locale: LocaleDep, gettext: GettextDep, filters: TaskFiltersDep) -> Response:
    """The overdue list as filtered, every matching row, as CSV or XLSX."""
    if kind not in ("csv", "xlsx"):
        return Response(status_code=404)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    rows = (presenters.task_cells(labels, r)
            for r in lists.iter_tasks(db, viewer=user, filters=filters))
    return _export(kind, [gettext(h) for h in presenters.TASK_HEADER], rows, "overdue",
                   gettext("Overdue tasks"))


# --- Actions ---------------------------------------------------------------------------------

@router.post("/reports/tasks/{task_id}/remind")
def remind(task_id: int, request: Request, db: SessionDep, user: CurrentUser,
           items: FormItems) -> Response:
    """Remind now, then back to the list."""
    back = _safe_back(dict(items).get("back"), "/reports/overdue")
    queued = actions.remind_now(db, actor=user, task_id=task_id,
                                digest_default=request.app.state.settings.digest_default)
    if queued:
        flash(request, Message("People reminded: {n}.", {"n": queued}))
    else:
        flash(request, Message("Nobody was reminded: a reminder already went out within the "
                               "hour, or nobody holds the step."), "warning")
    return RedirectResponse(back, status_code=303)


def _reassign_fields(gettext: Callable[[str], str], state: FormState) -> list[FieldView]:
    return [
        FieldView("to", gettext("Employee no. of the new person"), required=True,
                  value=state.values.get("to", ""), error=state.errors.get("to", ""),
                  max_length=40),
        FieldView("reason", gettext("Reason"), "textarea", required=True,
                  value=state.values.get("reason", ""), error=state.errors.get("reason", ""),
                  max_length=actions.REASON_MAX),
    ]


def _reassign_page(request: Request, db: Session, user: Person, locale: str, task_id: int,
                   gettext: Callable[[str], str], state: FormState, status_code: int = 200
                   ) -> Response:
    scope = actions.scopes.hr_scope(db, user)
    item = actions.task_in_scope(db, scope, task_id)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    spec = labels.spec(item.instance.definition_id)
    subject = db.get(Person, item.instance.subject_id)
    nearby = list(db.exec(select(Person).where(
        Person.org_unit_id == item.instance.org_unit_id, col(Person.active).is_(True))
        .order_by(Person.employee_no).limit(100)))
    return render(request, "reports/reassign.html", {
        "task": item.task, "instance": item.instance,
        "case": item.instance.title or labels.workflow(spec, item.instance.workflow),
        "step": labels.state(spec, item.task.state),
        "subject": person_name(subject, locale),
        "fields": _reassign_fields(gettext, state), "message": state.message,
        "nearby": [(p.employee_no, person_name(p, locale)) for p in nearby],
        "back": _safe_back(request.query_params.get("back") or state.values.get("back"),
                           "/reports/overdue"),
    }, status_code=status_code)


@router.get("/reports/tasks/{task_id}/reassign")
def reassign_form(task_id: int, request: Request, db: SessionDep, user: CurrentUser,
                  locale: LocaleDep, gettext: GettextDep) -> Response:
    """The form that hands a step to someone else."""
    return _reassign_page(request, db, user, locale, task_id, gettext, FormState())


def _person_id(db: Session, employee_no: str) -> int | None:
    person = actions.person_by_number(db, employee_no)
    if person is None:
        raise ValidationFailed("Please correct the marked fields.", field_errors={
            "to": Message("Choose an active person in your units.")})
    return person.id


@router.post("/reports/tasks/{task_id}/reassign")
def reassign(task_id: int, request: Request, db: SessionDep, user: CurrentUser,
             locale: LocaleDep, gettext: GettextDep, items: FormItems) -> Response:
    """Reassign the step; the form comes back with the errors when something is wrong."""
    values = {k: v for k, v in items if k != "csrf_token"}
    try:
        actions.reassign(db, actor=user, task_id=task_id,
                         to_person_id=_person_id(db, values.get("to", "")),
                         reason=values.get("reason", ""))
    except ValidationFailed as exc:
        db.rollback()
        return _reassign_page(request, db, user, locale, task_id, gettext,
                              FormState.from_error(exc, values, gettext), exc.status_code)
    flash(request, Message("The step is reassigned."))
    return RedirectResponse(_safe_back(values.get("back"), "/reports/overdue"), status_code=303)


def _bulk_fields(gettext: Callable[[str], str], state: FormState) -> list[FieldView]:
    return [
        FieldView("action", gettext("Action"), "choice", required=True,
                  value=state.values.get("action", "remind"),
                  error=state.errors.get("action", ""),
                  choices=[("remind", gettext("Remind now")),
                           ("reassign", gettext("Reassign"))]),
        # Needed only to reassign: not `required` in the browser, or "remind" could not be sent
        # (the bulk action checks them when the action is reassign).
        *(replace(f, required=False) for f in _reassign_fields(gettext, state)),
    ]


@router.post("/reports/tasks/bulk")
def bulk(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
         gettext: GettextDep, items: FormItems) -> Response:
    """First post: the confirmation page. Second post (with its code): carried out."""
    values = {k: v for k, v in items if k not in ("csrf_token", "task_ids")}
    action = values.get("action", "")
    back = _safe_back(values.get("back"), "/reports/overdue")
    task_ids: list[int] = []
    try:
        task_ids = form_ids(list(items), "task_ids")
        to_id = _person_id(db, values.get("to", "")) if action == "reassign" else None
        if values.get("confirmation"):
            plan = actions.bulk_apply(db, actor=user, action=action, task_ids=task_ids,
                                      confirmation=values["confirmation"], to_person_id=to_id,
                                      reason=values.get("reason", ""),
                                      digest_default=request.app.state.settings.digest_default)
            flash(request, Message("Done for {done} of {selected} tasks.",
                                   {"done": plan.done, "selected": len(plan.lines)}))
            return RedirectResponse(back, status_code=303)
        plan = actions.bulk_preview(db, actor=user, action=action, task_ids=task_ids,
                                    to_person_id=to_id, reason=values.get("reason", ""))
    except DomainError as exc:
        if isinstance(exc, NotAuthenticated):
            raise
        db.rollback()
        state = FormState.from_error(exc, values, gettext)
        return render(request, "reports/bulk_confirm.html", {
            "plan": None, "task_ids": task_ids, "fields": _bulk_fields(gettext, state),
            "message": state.message, "back": back, "values": values,
        }, status_code=exc.status_code)
    labels = presenters.Labels(db, request.app.state.registry, locale)
    lines = []
    for line in plan.lines:
        if line.item is None:
            lines.append({"task_id": line.task_id, "case": "", "step": "",
                          "refusal": line.refusal.render(gettext) if line.refusal else ""})
            continue
        spec = labels.spec(line.item.instance.definition_id)
        lines.append({"task_id": line.task_id,
                      "case": line.item.instance.title or labels.workflow(
                          spec, line.item.instance.workflow),
                      "step": labels.state(spec, line.item.task.state),
                      "refusal": line.refusal.render(gettext) if line.refusal else ""})
    return render(request, "reports/bulk_confirm.html", {
        "plan": plan, "lines": lines, "task_ids": task_ids, "values": values,
        "to_name": person_name(plan.to, locale) if plan.to else "",
        "fields": _bulk_fields(gettext, FormState(values=values)), "message": "",
        "back": back,
    })


# --- Quarterly report ------------------------------------------------------------------------

@router.get("/reports/quarterly")
def quarterly_form(request: Request, db: ReportSessionDep, user: CurrentUser, locale: LocaleDep
                   ) -> Response:
    """Choose the quarter and the unit of the indicator report."""
    where = service.area(db, viewer=user)
    today = clock.today()
    return render(request, "reports/quarterly.html", {
        "units": _unit_choices(where, locale), "year": today.year,
        "quarter": (today.month - 1) // 3 + 1,
    })


@router.get("/reports/quarterly.xlsx")
def quarterly_xlsx(db: ReportSessionDep, user: CurrentUser, locale: LocaleDep, gettext: GettextDep,
                   year: Annotated[int, Query(ge=2000, le=2100)],
                   quarter: Annotated[int, Query(ge=1, le=4)],
                   unit: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """The indicator table of the quarter's reviews per unit, as an Excel workbook."""
    where = service.area(db, viewer=user, unit_id=unit)
    rows = quarterly.indicator_rows(db, where, year, quarter)
    data = quarterly.quarterly_xlsx(rows, locale, gettext)
    return Response(data, media_type=exports.XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="indicators-{year}-Q{quarter}.xlsx"'})


# --- Personal calendar feed ------------------------------------------------------------------

def _feed_page(request: Request, db: Session, user: Person, url: str | None = None
               ) -> Response:
    return render(request, "reports/calendar_feed.html", {
        "feed": ics.active_feed(db, user), "url": url,
    })


@router.get("/reports/my-calendar")
def my_calendar(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """My calendar feed: issue, regenerate or revoke its secret URL."""
    return _feed_page(request, db, user)


@router.post("/reports/my-calendar/issue")
def issue_feed(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """A new secret URL, shown once on this page; the old one stops working."""
    token = ics.issue_feed(db, user)
    return _feed_page(request, db, user, feed_url(request, token))


@router.post("/reports/my-calendar/revoke")
def revoke_feed(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Switch the feed off."""
    ics.revoke_feed(db, user)
    flash(request, Message("Your calendar feed is switched off."))
    return RedirectResponse("/reports/my-calendar", status_code=303)


@router.get("/reports/feed/{token}.ics")
def feed(token: str, request: Request, db: SessionDep) -> Response:
    """The feed itself: no sign-in, the secret URL is the key; revoked or unknown is 404."""
    person = ics.feed_owner(db, token)
    data = ics.feed_ics(db, person, request.app.state.registry,
                        request.app.state.settings.base_url)
    return Response(data, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})
