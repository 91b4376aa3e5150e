"""Exit pages: propose that someone leave a scheme's titles, and the exit's own page."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.assessments.service import get_person
from app.errors import DomainError
from app.i18n import N_, Message, gettext_for, pick_label
from app.org.models import Person
from app.promotions import exits, presenters
from app.promotions.acting import act_on_case, case_response
from app.promotions.eligibility import current_title
from app.promotions.schemes import get_scheme
from app.web.deps import (
    CurrentUser,
    DoQuery,
    FormDep,
    GettextDep,
    LocaleDep,
    SessionDep,
)
from app.web.forms import FieldView, FormState
from app.web.labels import person_name
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)
REASON = N_("Reason for leaving")
EXPLANATION = N_("Explanation")
EXPLANATION_HELP = N_("What happened, in a few sentences: it goes with the case to each step.")
PROPOSED = N_("Leaves the team on")
PROPOSED_HELP = N_("The date proposed; the vice-president confirms or changes it.")


def _form_page(request: Request, db: Session, user: Person, locale: str, scheme_name: str,
               route: str, person_id: int, state: FormState, status_code: int = 200
               ) -> Response:
    gettext = gettext_for(locale)
    scheme = get_scheme(scheme_name, request.app.state.registry)
    spec = exits.exit_spec(scheme, route)
    person = get_person(db, person_id=person_id, viewer=user)
    held = current_title(db, person=person, scheme=scheme)

    def view(name: str, label: str, kind: str, **extra: object) -> FieldView:
        return FieldView(name=name, label=gettext(label), type=kind,
                         value=state.values.get(name, ""), error=state.errors.get(name, ""),
                         **extra)  # type: ignore[arg-type]

    fields = [
        view("reason", REASON, "choice", required=True,
             choices=[(k, pick_label(v, locale)) for k, v in spec.reasons.items()]),
        view("explanation", EXPLANATION, "textarea", required=True, max_length=5000,
             help=gettext(EXPLANATION_HELP)),
        view("proposed_date", PROPOSED, "date", required=True, help=gettext(PROPOSED_HELP)),
    ]
    return render(request, "promotions/exit_new.html", {
        "scheme": scheme.scheme, "scheme_label": pick_label(scheme.label, locale),
        "route": route, "route_label": pick_label(spec.label, locale),
        "person_id": person.id, "person_name": person_name(person, locale),
        "current_label": pick_label(held.label, locale) if held else "",
        "under_way": exits.open_exit(db, person_id=person.id, scheme=scheme.scheme),
        "fields": fields, "message": state.message}, status_code=status_code)


@router.get("/promotions/exits/new")
def new_exit(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
             scheme: str = Query(max_length=60), person_id: int = Query(ge=1),
             route: str = Query(default="team", max_length=60)) -> Response:
    """The form proposing that someone you supervise leave the scheme's titles."""
    return _form_page(request, db, user, locale, scheme, route, person_id, FormState())


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@router.post("/promotions/exits")
def propose(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
            gettext: GettextDep, form: FormDep) -> Response:
    """Propose the exit; on an error the same form with the input kept and errors marked."""
    scheme, route = form.get("scheme", ""), form.get("route", "team")
    person_id = int(form["person_id"]) if form.get("person_id", "").isdigit() else 0
    try:
        person = get_person(db, person_id=person_id, viewer=user)
        created = exits.propose_exit(
            db, scheme=scheme, route=route, person=person, applicant=user,
            reason=form.get("reason", ""), explanation=form.get("explanation", ""),
            proposed_date=_date(form.get("proposed_date", "")),
            registry=request.app.state.registry)
    except DomainError as exc:
        db.rollback()
        return _form_page(request, db, user, locale, scheme, route, person_id,
                          FormState.from_error(exc, dict(form), gettext),
                          status_code=exc.status_code)
    flash(request, Message("The proposal is reported; it now waits on the first step."))
    return RedirectResponse(f"/promotions/exits/{created.id}", status_code=303)


def _exit_page(request: Request, db: Session, user: Person, locale: str, exit_id: int,
               form_trigger: str | None = None, form_state: FormState | None = None,
               status_code: int = 200, requested: str | None = None) -> Response:
    registry = request.app.state.registry
    found, instance = exits.get_exit(db, exit_id=exit_id, viewer=user)
    spec = registry.compiled(db, instance.definition_id).spec
    view = presenters.exit_view(db, exit_=found, instance=instance,
                                scheme=get_scheme(found.scheme, registry), spec=spec,
                                vocabulary=registry.vocabulary, locale=locale)
    if form_state is None:  # the approval's date starts as the one proposed
        field = instance.context.get("effective_date_field", "effective_date")
        form_trigger = next((t.trigger for t in spec.transitions_from(instance.state)
                             if field in t.form), None)
        form_state = FormState(values={field: found.proposed_date.isoformat()})
    return case_response(request, db, user, locale, template="promotions/exit.html", view=view,
                         instance=instance, base=f"/promotions/exits/{exit_id}",
                         form_trigger=form_trigger, form_state=form_state,
                         status_code=status_code, requested=requested)


@router.get("/promotions/exits/{exit_id}")
def exit_page(exit_id: int, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep, do: DoQuery = None) -> Response:
    """The exit: who, from which title and why, the decision for whoever may take it, the
    route; `do` (from My work) names the action to put first."""
    return _exit_page(request, db, user, locale, exit_id, requested=do)


@router.post("/promotions/exits/{exit_id}/actions/{trigger}")
def exit_action(exit_id: int, trigger: str, request: Request, db: SessionDep,
                user: CurrentUser, locale: LocaleDep, gettext: GettextDep,
                form: FormDep) -> Response:
    """Take a step of the exit from its page."""
    _, instance = exits.get_exit(db, exit_id=exit_id, viewer=user)
    return act_on_case(request, db, user, gettext, form, instance, trigger,
                       back=f"/promotions/exits/{exit_id}",
                       rerender=lambda trig, state, code: _exit_page(
                           request, db, user, locale, exit_id, trig, state, code))
