"""Plan pages: list, new plan, the plan page with every form, and the printable written plan."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session, select
from starlette.datastructures import UploadFile  # what request.form() gives

from app import clock
from app.dossier.builder import may_export
from app.engine import runtime
from app.engine.actors import ActorResolver
from app.errors import DomainError, NotAuthenticated, NotFound
from app.i18n import Message, gettext_for, pick_label
from app.instances import presenters as instance_presenters
from app.instances import service as instance_service
from app.org.models import Person
from app.plans import (
    checkpoints,
    content,
    difference,
    forms,
    guide,
    outcomes,
    presenters,
    review,
    service,
    signing,
)
from app.plans.api_presenters import outcome_out
from app.plans.schemas import (
    CauseDraft,
    CheckEntry,
    GapDecision,
    GapDraft,
    MethodDraft,
    PlanDetails,
    ProgressEntry,
    ReviewDraft,
    StepDraft,
)
from app.web import ids
from app.web.deps import CurrentUser, FormDep, GettextDep, LocaleDep, SessionDep
from app.web.forms import FormState
from app.web.input import blank_to_none, parse_input
from app.web.labels import person_name
from app.web.sessions import flash
from app.web.templating import render
from app.workflows_web.diagrams import case_diagram

router = APIRouter(include_in_schema=False)
# ASCII digits, at most three: a row index is small, and \d would also match ² or ٣.
ROW_RE = re.compile(r"^(indicators|problems|targets|trainings|measures)-([0-9]{1,3})-([a-z_]+)$")
OPTIONAL = ("baseline", "target", "goal_target", "period_start", "period_end", "due_on",
            "owner_id", "gap_id", "cut_off_on", "actual", "change_since_year_start",
            "plan_value", "time_proportional_target", "value", "deadline", "days", "step_id")


def _subordinates(db: Session, user: Person) -> list[Person]:
    """People the user may open a plan for: themselves and everyone below them."""
    found, frontier = [user], [user.id]
    while frontier:
        below = list(db.exec(select(Person).where(Person.supervisor_id.in_(frontier),
                                                  Person.active)))
        below = [p for p in below if p not in found]
        found += below
        frontier = [p.id for p in below]
    return found


@router.get("/plans")
def plan_list(
    request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
    state: str | None = None, cycle: Annotated[int | None, Query(ge=1, le=99)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The plans I may see, with filters and pages."""
    result = service.list_plans(db, viewer=user, state=state or None, cycle=cycle,
                                search=q or None, page=page, per_page=25)
    compiled = request.app.state.registry.compiled_current(db, service.WORKFLOW)
    rows = [{
        "plan": plan, "employee": person_name(person, locale),
        "state": pick_label(compiled.spec.states.get(instance.state).label, locale)
        if instance.state in compiled.spec.states else instance.state,
        "updated_at": instance.updated_at,
    } for plan, instance, person in result.rows]
    states = [(name, pick_label(s.label, locale)) for name, s in compiled.spec.states.items()]
    pages = max(1, -(-result.total // result.per_page))
    return render(request, "plans/list.html", {
        "rows": rows, "total": result.total, "page": result.page, "pages": pages,
        "states": states, "filters": {"state": state or "", "cycle": cycle or "", "q": q or ""},
    })


@router.get("/plans/new")
def new_plan(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> Response:
    """The form that opens a plan."""
    return _new_page(request, db, user, locale, FormState())


def _new_page(request: Request, db: Session, user: Person, locale: str, state: FormState,
              status_code: int = 200) -> Response:
    builder = forms.FormBuilder(locale, state, {"source": "requirement_comparison",
                                                "employee_id": user.id})
    employee = builder.field("employee_id", "Employee", "choice", required=True)
    employee.choices = [(str(p.id), person_name(p, locale)) for p in _subordinates(db, user)]
    title = builder.field("title", "Plan title", required=True, max_length=200)
    return render(request, "plans/new.html", {
        "fields": [employee, title, *forms.gap_fields(builder)], "message": state.message,
    }, status_code=status_code)


@router.post("/plans")
def create_plan(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
                gettext: GettextDep, form: FormDep) -> Response:
    """Open the plan with its first gap."""
    values = {k: v for k, v in form.items() if k != "csrf_token"}
    try:
        gap = parse_input(GapDraft, blank_to_none(
            {k: values.get(k, "") for k in ("requirement", "actual", "metric", "unit",
                                             "baseline", "target", "source")}, OPTIONAL))
        plan = service.open_plan(db, actor=user, employee_id=ids.form_id(values, "employee_id"),
                                 title=values.get("title", ""), gaps=[gap])
    except DomainError as exc:
        if isinstance(exc, NotAuthenticated):
            raise
        db.rollback()
        return _new_page(request, db, user, locale, FormState.from_error(exc, values, gettext),
                         status_code=exc.status_code)
    flash(request, Message("The plan is opened as a draft."))
    return RedirectResponse(f"/plans/{plan.id}", status_code=303)


def plan_page(request: Request, db: Session, user: Person, locale: str, plan_id: int, *,
              form_id: str | None = None, state: FormState | None = None,
              status_code: int = 200, log_view: bool = False, requested: str | None = None,
              edit: bool = False) -> Response:
    """The plan page, led by the viewer's next action (`requested`: a form named by My work or
    a link); `state` refills the form `form_id` after an error."""
    plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user,
                                                   log_view=log_view)
    registry = request.app.state.registry
    compiled = registry.compiled(db, instance.definition_id)
    # the viewer's actions, asked of the engine once: the document, the case view and the guide
    # share them and the resolver's look-ups (who holds which seat, delegations, hand-overs)
    resolver = ActorResolver(db, instance)
    actions = runtime.available_actions(db, instance, user, registry, resolver=resolver)
    points = checkpoints.of_plan(db, plan.id)
    tasks = instance_service.open_tasks(db_session=db, instance=instance)
    doc = presenters.plan_document(db, plan, user, locale, compiled, actions=actions,
                                   resolver=resolver, points=points)
    trigger = form_id.removeprefix("action-") if form_id and form_id.startswith("action-") \
        else None
    view = instance_presenters.instance_view(db, instance, user, locale, registry,
                                             form_trigger=trigger, form_state=state,
                                             actions=actions, tasks=tasks)

    def builder(fid: str, initial: dict[str, Any] | None = None) -> forms.FormBuilder:
        return forms.FormBuilder(locale, state if fid == form_id else None, initial)

    people = {p.id: p for p in db.exec(select(Person).where(
        Person.id.in_([plan.employee_id, plan.supervisor_id or 0])))}
    owners = {str(pid): person_name(p, locale) for pid, p in people.items()}
    versions = service.versions(db, plan=plan)
    diff = difference.diff(versions[-2], versions[-1], locale) if len(versions) > 1 else []
    steer = guide.guide(db, plan=plan, instance=instance, view=view, spec=compiled.spec,
                        viewer=user, doc=doc, points=points,
                        tasks=tasks,
                        today=clock.today(), locale=locale, requested=form_id or requested,
                        edit=edit, resolver=resolver)
    return render(request, "plans/detail.html", {
        "doc": doc, "view": view, "plan": plan, "form_id": form_id, "guide": steer,
        "summary": signing.summary(db, plan, locale) if steer.shows_content else None,
        "next_plan_id": (instance.context or {}).get("next_plan_id"),
        "message": state.message if state else "",
        "diagram": case_diagram(db, compiled, instance, locale),
        "owners": owners, "versions": versions, "diff": diff,
        "may_export_dossier": may_export(db, viewer=user, plan=plan),
        "catalogue": content.cause_catalogue(),
        "labels": {"sources": forms.SOURCES, "sides": forms.SIDES, "natures": forms.NATURES,
                   "origins": forms.ORIGINS, "cadences": forms.CADENCES,
                   "results": forms.CHECK_RESULTS, "balance": forms.BALANCE_KINDS},
        "f": {
            "gap_new": forms.gap_fields(builder("gap-new", {"source": "requirement_comparison"})),
            "gap_edit": {g["id"]: forms.gap_fields(builder(f"gap-{g['id']}-edit", g))
                         for g in doc["gaps"]},
            "decision": {g["id"]: forms.decision_fields(builder(
                f"gap-{g['id']}-decision", {"included": g["included"],
                                            "exclusion_reason": g["exclusion_reason"]}))
                for g in doc["gaps"]},
            "cause": {g["id"]: forms.cause_fields(builder(f"gap-{g['id']}-cause",
                                                          {"nature": "subjective"}))
                      for g in doc["gaps"]},
            "method_new": forms.method_fields(builder("method-new", {"origin": "discussion"})),
            "details": forms.details_fields(builder("details", doc["details"])),
            "step_new": forms.step_fields(builder("step-new"), owners),
            "progress": {c["id"]: forms.progress_fields(builder(f"checkpoint-{c['id']}-progress",
                                                                c))
                         for c in doc["checkpoints"]},
            "check": {c["id"]: forms.check_fields(builder(f"checkpoint-{c['id']}-check"))
                      for c in doc["checkpoints"]},
            "review": forms.review_header_fields(builder("review", doc["review"] or {})),
        },
        "outcome": outcome_out(db, plan, instance, user, compiled.spec, locale),
        "outcome_values": state.values if state and form_id == "outcome" else {},
        "review_prefill": review_prefill(doc),
        "form_errors": state.errors if state else {},
        "review_errors": state.errors if state and form_id == "review" else {},
        "review_values": state.values if state and form_id == "review" else {},
    }, status_code=status_code)


@router.get("/plans/{plan_id}")
def show_plan(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep,
              do: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9_-]+$")] = None,
              edit: bool = False) -> Response:
    """The plan page (the view is logged); `do` opens it at one action's form, `edit` shows
    the edit forms while the plan awaits signatures (editing voids the signatures)."""
    return plan_page(request, db, user, locale, plan_id, log_view=True, requested=do, edit=edit)


@router.get("/plans/{plan_id}/print")
def print_plan(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
               locale: LocaleDep) -> Response:
    """The written plan (书面计划) as a clean printable page with signatures and hashes."""
    plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user,
                                                   log_view=True)
    compiled = request.app.state.registry.compiled(db, instance.definition_id)
    doc = presenters.plan_document(db, plan, user, locale, compiled)
    people = {p.id: p for p in db.exec(select(Person).where(
        Person.id.in_([plan.employee_id, plan.supervisor_id or 0])))}
    version = content.latest_version(db, plan.id)
    gettext = gettext_for(locale)
    signed = [s for s in doc["signatures"] if not s["voided"] and version is not None
              and s["content_hash"] == version.content_hash]
    return render(request, "plans/print.html", {
        "doc": doc, "version": version, "catalogue": content.cause_catalogue(),
        "employee": person_name(people.get(plan.employee_id), locale),
        "supervisor": person_name(people.get(plan.supervisor_id), locale),
        "signed": signed,
        "labels": {"sources": forms.SOURCES, "sides": forms.SIDES, "natures": forms.NATURES,
                   "cadences": forms.CADENCES},
        # running header and page numbers of the printed sheets (CSS @page margin boxes)
        "page_css": Markup(print_page_css(  # noqa: S704 - every text part is a CSS-escaped string
            title=f"{gettext('Performance improvement plan')} · {plan.title}",
            version=gettext("Plan version {number}").format(
                number=version.number if version else plan.content_version),
            pages=gettext("Page {page} of {pages}"))),
    })


def _css_string(text: str) -> str:
    """Text as a CSS string literal that cannot end the string, the rule or the style element."""
    escaped = "".join(ch if ch.isalnum() or ch in " ·-_.,:()（）" or ord(ch) > 127
                      else f"\\{ord(ch):x} " for ch in text.replace("\n", " "))
    return f'"{escaped}"'


def print_page_css(*, title: str, version: str, pages: str) -> str:
    """@page rules: the plan's title and version on every sheet, "Page n of m" at its foot."""
    before, _, rest = pages.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    counter = " ".join(part for part in (
        _css_string(before) if before else "", "counter(page)",
        _css_string(middle) if middle else "", "counter(pages)",
        _css_string(after) if after else "") if part)
    return ("@page { size: A4; margin: 18mm 16mm 20mm;"
            f" @top-left {{ content: {_css_string(title)}; font-size: 9pt; color: #555; }}"
            f" @top-right {{ content: {_css_string(version)}; font-size: 9pt; color: #555; }}"
            f" @bottom-center {{ content: {counter}; font-size: 9pt; color: #555; }} }}")


def _handle(request: Request, db: Session, user: Person, locale: str,
            gettext: Callable[[str], str], plan_id: int, form_id: str, values: dict[str, str],
            work: Callable[[], Any], done: Message | Callable[[Any], Message]) -> Response:
    """Run one edit; on a domain error show the same page with the input and the errors.

    After an action or a checkpoint the page opens at the top, where the next action now
    stands; after an edit of the content it returns to the form, ready for the next entry.
    """
    try:
        result = work()
    except DomainError as exc:
        if isinstance(exc, NotAuthenticated | NotFound):
            raise
        db.rollback()
        return plan_page(request, db, user, locale, plan_id, form_id=form_id,
                         state=FormState.from_error(exc, values, gettext),
                         status_code=exc.status_code)
    flash(request, done if isinstance(done, Message) else done(result))
    moved_on = form_id.startswith(("action-", "checkpoint-"))
    return RedirectResponse(f"/plans/{plan_id}" if moved_on else f"/plans/{plan_id}#{form_id}",
                            status_code=303)


def _fields(form: dict[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    return blank_to_none({k: form.get(k, "") for k in names}, OPTIONAL)


def _version(form: dict[str, str]) -> int | None:
    return ids.parse_id(form.get("expected_version", "").strip())


GAP = ("requirement", "actual", "metric", "unit", "baseline", "target", "source")


@router.post("/plans/{plan_id}/gaps")
def add_gap(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
            locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Record a gap."""
    return _handle(request, db, user, locale, gettext, plan_id, "gap-new", form, lambda: (
        service.add_gap(db, plan_id=plan_id, actor=user, expected_version=_version(form),
                        gap=parse_input(GapDraft, _fields(form, GAP)))),
        Message("Gap recorded."))


@router.post("/plans/{plan_id}/gaps/{gap_id}/update")
def update_gap(plan_id: int, gap_id: int, request: Request, db: SessionDep, user: CurrentUser,
               locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Change a gap."""
    return _handle(request, db, user, locale, gettext, plan_id, f"gap-{gap_id}-edit", form,
                   lambda: service.update_gap(db, plan_id=plan_id, actor=user, gap_id=gap_id,
                                              expected_version=_version(form),
                                              gap=parse_input(GapDraft, _fields(form, GAP))),
                   Message("Gap changed."))


@router.post("/plans/{plan_id}/gaps/{gap_id}/remove")
def remove_gap(plan_id: int, gap_id: int, request: Request, db: SessionDep, user: CurrentUser,
               locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Remove a gap."""
    return _handle(request, db, user, locale, gettext, plan_id, "gaps", form,
                   lambda: service.remove_gap(db, plan_id=plan_id, actor=user, gap_id=gap_id,
                                              expected_version=_version(form)),
                   Message("Gap removed."))


@router.post("/plans/{plan_id}/gaps/{gap_id}/decision")
def decide_gap(plan_id: int, gap_id: int, request: Request, db: SessionDep, user: CurrentUser,
               locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Include or leave out a gap."""
    return _handle(request, db, user, locale, gettext, plan_id, f"gap-{gap_id}-decision", form,
                   lambda: service.decide_gap(
                       db, plan_id=plan_id, actor=user, gap_id=gap_id,
                       expected_version=_version(form),
                       decision=parse_input(GapDecision, _fields(
                           form, ("included", "exclusion_reason")))),
                   Message("Decision saved."))


@router.post("/plans/{plan_id}/gaps/{gap_id}/causes")
def add_cause(plan_id: int, gap_id: int, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Record a cause."""
    return _handle(request, db, user, locale, gettext, plan_id, f"gap-{gap_id}-cause", form,
                   lambda: service.add_cause(
                       db, plan_id=plan_id, actor=user, gap_id=gap_id,
                       expected_version=_version(form),
                       cause=parse_input(CauseDraft, _fields(
                           form, ("side", "nature", "catalogue_key", "text")))),
                   Message("Cause recorded."))


@router.post("/plans/{plan_id}/causes/{cause_id}/remove")
def remove_cause(plan_id: int, cause_id: int, request: Request, db: SessionDep,
                 user: CurrentUser, locale: LocaleDep, gettext: GettextDep,
                 form: FormDep) -> Response:
    """Remove a cause."""
    return _handle(request, db, user, locale, gettext, plan_id, "gaps", form,
                   lambda: service.remove_cause(db, plan_id=plan_id, actor=user,
                                                cause_id=cause_id,
                                                expected_version=_version(form)),
                   Message("Cause removed."))


@router.post("/plans/{plan_id}/methods")
def add_method(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
               locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Add a candidate method."""
    values = _fields(form, ("description", "origin", "chosen"))
    values["chosen"] = form.get("chosen") == "true"
    return _handle(request, db, user, locale, gettext, plan_id, "method-new", form,
                   lambda: service.add_method(db, plan_id=plan_id, actor=user,
                                              expected_version=_version(form),
                                              method=parse_input(MethodDraft, values)),
                   Message("Method added."))


@router.post("/plans/{plan_id}/methods/{method_id}/choice")
def choose_method(plan_id: int, method_id: int, request: Request, db: SessionDep,
                  user: CurrentUser, locale: LocaleDep, gettext: GettextDep,
                  form: FormDep) -> Response:
    """Mark a method chosen or not."""
    return _handle(request, db, user, locale, gettext, plan_id, "methods", form,
                   lambda: service.choose_method(db, plan_id=plan_id, actor=user,
                                                 method_id=method_id,
                                                 chosen=form.get("chosen") == "true",
                                                 expected_version=_version(form)),
                   Message("Method updated."))


@router.post("/plans/{plan_id}/methods/{method_id}/remove")
def remove_method(plan_id: int, method_id: int, request: Request, db: SessionDep,
                  user: CurrentUser, locale: LocaleDep, gettext: GettextDep,
                  form: FormDep) -> Response:
    """Remove a method."""
    return _handle(request, db, user, locale, gettext, plan_id, "methods", form,
                   lambda: service.remove_method(db, plan_id=plan_id, actor=user,
                                                 method_id=method_id,
                                                 expected_version=_version(form)),
                   Message("Method removed."))


DETAILS = ("goal", "goal_metric", "goal_unit", "goal_target", "goal_unquantified_reason",
           "resources", "period_start", "period_end", "cadence")


@router.post("/plans/{plan_id}/details")
def update_details(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
                   locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Save goal, resources, period and cadence."""
    return _handle(request, db, user, locale, gettext, plan_id, "details", form,
                   lambda: service.update_details(
                       db, plan_id=plan_id, actor=user, expected_version=_version(form),
                       details=parse_input(PlanDetails, _fields(form, DETAILS))),
                   Message("Plan details saved."))


@router.post("/plans/{plan_id}/steps")
def add_step(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
             locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Add a dated step."""
    return _handle(request, db, user, locale, gettext, plan_id, "step-new", form,
                   lambda: service.add_step(
                       db, plan_id=plan_id, actor=user, expected_version=_version(form),
                       step=parse_input(StepDraft, _fields(
                           form, ("description", "due_on", "expected_result", "owner_id")))),
                   Message("Step added."))


@router.post("/plans/{plan_id}/steps/{step_id}/remove")
def remove_step(plan_id: int, step_id: int, request: Request, db: SessionDep,
                user: CurrentUser, locale: LocaleDep, gettext: GettextDep,
                form: FormDep) -> Response:
    """Remove a step."""
    return _handle(request, db, user, locale, gettext, plan_id, "steps", form,
                   lambda: service.remove_step(db, plan_id=plan_id, actor=user,
                                               step_id=step_id,
                                               expected_version=_version(form)),
                   Message("Step removed."))


@router.post("/plans/{plan_id}/actions/{trigger}")
def act(plan_id: int, trigger: str, request: Request, db: SessionDep, user: CurrentUser,
        locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Take a workflow action on the plan (signing binds to the current version)."""
    plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
    spec = request.app.state.registry.compiled(db, instance.definition_id).spec
    names = instance_presenters.payload_names(spec, trigger, instance.state)
    values = {n: form[n] for n in names if n in form}

    def done(result: Any) -> Message:
        if not result.completed:
            return Message("Your signature is recorded; others still need to sign.")
        return Message("{action}: done. The plan is now “{state}”.", {
            "action": instance_presenters.verb_label(spec, trigger, result.from_state, locale),
            "state": instance_presenters.state_label(spec, result.to_state, locale)})

    return _handle(request, db, user, locale, gettext, plan_id, f"action-{trigger}", values,
                   lambda: service.act_on(db, plan=plan, instance=instance, actor=user,
                                          trigger=trigger, payload=values,
                                          expected_version=_version(form),
                                          on_behalf_of_id=ids.form_id(form, "on_behalf_of_id")),
                   done)


@router.post("/plans/{plan_id}/checkpoints/{checkpoint_id}/progress")
async def record_progress(plan_id: int, checkpoint_id: int, request: Request, db: SessionDep,
                          user: CurrentUser, locale: LocaleDep, gettext: GettextDep) -> Response:
    """The employee records progress with evidence files."""
    posted = await request.form()
    values = {k: v for k, v in posted.multi_items() if isinstance(v, str)}
    uploads = [(f.filename or "file", await f.read()) for f in posted.getlist("files")
               if isinstance(f, UploadFile) and f.filename]

    def work() -> None:
        plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
        checkpoints.record_progress(
            db, plan=plan, instance=instance, checkpoint_id=checkpoint_id,
            actor=user, files=uploads, expected_version=_version(values),
            entry=parse_input(ProgressEntry, _fields(values, ("progress", "evidence_text"))))

    return _handle(request, db, user, locale, gettext, plan_id,
                   f"checkpoint-{checkpoint_id}-progress", values, work,
                   Message("Progress recorded; your supervisor is asked to check it."))


@router.post("/plans/{plan_id}/checkpoints/{checkpoint_id}/check")
def check(plan_id: int, checkpoint_id: int, request: Request, db: SessionDep,
          user: CurrentUser, locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """The supervisor checks a checkpoint."""

    def work() -> None:
        plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
        checkpoints.check(db, plan=plan, instance=instance,
                          checkpoint_id=checkpoint_id, actor=user,
                          expected_version=_version(form),
                          entry=parse_input(CheckEntry, _fields(form, ("result", "comment"))))

    return _handle(request, db, user, locale, gettext, plan_id,
                   f"checkpoint-{checkpoint_id}-check", form, work, Message("Check saved."))


def review_prefill(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A new review starts from the plan: its goal as the first indicator, its steps as the
    measures taken (the employee fills in the actual figures and results)."""
    details = doc["details"]
    indicators = [{"indicator": details["goal_metric"], "unit": details["goal_unit"],
                   "plan_value": details["goal_target"]}] if details["goal_metric"] else []
    return {"indicators": indicators,
            "measures": [{"measure": s["description"]} for s in doc["steps"]]}


def review_draft(form: dict[str, str]) -> ReviewDraft:
    """The review form's header and its row tables (blank rows are ignored)."""
    rows: dict[str, dict[int, dict[str, str]]] = {}
    for key, value in form.items():
        match = ROW_RE.match(key)
        if match:
            table, index, name = match.group(1), int(match.group(2)), match.group(3)
            rows.setdefault(table, {}).setdefault(index, {})[name] = value
    data: dict[str, Any] = _fields(form, ("period_label", "cut_off_on", "post", "honours",
                                          "next_measures"))
    for table, by_index in rows.items():
        data[table] = [blank_to_none(row, OPTIONAL) for _, row in sorted(by_index.items())
                       # a select always has a value: a row is blank when nothing was typed
                       if any(str(v).strip() for k, v in row.items() if k != "balance_kind")]
    return parse_input(ReviewDraft, data)


@router.post("/plans/{plan_id}/review")
def save_review(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
                locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Save the period-end review."""

    def work() -> None:
        plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
        review.save(db, plan=plan, instance=instance, actor=user,
                    draft=review_draft(form), expected_version=_version(form))

    return _handle(request, db, user, locale, gettext, plan_id, "review", form, work,
                   Message("Review saved."))


@router.post("/plans/{plan_id}/outcome/hr-comment")
def hr_comment(plan_id: int, request: Request, db: SessionDep, user: CurrentUser,
               locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """HR writes its comment in the review's sign-off block."""
    values = {"comment": form.get("comment", "")}

    def work() -> None:
        plan, instance = service.get_plan_and_instance(db, plan_id=plan_id, viewer=user)
        outcomes.write_hr_comment(db, plan=plan, instance=instance, actor=user,
                                  comment=values["comment"], expected_version=_version(form))

    return _handle(request, db, user, locale, gettext, plan_id, "outcome", values, work,
                   Message("HR's comment is saved."))
