"""HTML pages for any workflow instance: state, diagram, timeline, tasks, action forms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.errors import InvalidTransition, StaleInstance, ValidationFailed
from app.i18n import Message
from app.instances import presenters, service
from app.instances.content import case_content, content_title
from app.org.models import Person
from app.web.deps import (
    CurrentUser,
    DoQuery,
    FormDep,
    GettextDep,
    LocaleDep,
    SessionDep,
)
from app.web.forms import FormState
from app.web.ids import form_id, parse_id
from app.web.sessions import flash
from app.web.templating import render
from app.workflows_web.diagrams import case_diagram

router = APIRouter(include_in_schema=False)


def instance_page(
    request: Request, db: Session, user: Person, locale: str, instance_id: int, *,
    form_trigger: str | None = None, form_state: FormState | None = None, notice: str = "",
    status_code: int = 200, requested: str | None = None,
) -> Response:
    """Render the instance page led by the viewer's actions beside the content they decide on;
    `requested` (a form id from My work) comes first; after an error one form is refilled."""
    registry = request.app.state.registry
    instance = service.get_visible(db_session=db, person=user, instance_id=instance_id)
    view = presenters.instance_view(db, instance, user, locale, registry,
                                    form_trigger=form_trigger, form_state=form_state)
    if form_state and form_state.message and form_trigger not in {a.trigger for a in view.actions}:
        notice = notice or form_state.message
    first = form_trigger or (requested or "").removeprefix("action-")
    view.actions.sort(key=lambda a: a.trigger != first)  # stable: the rest keep their order
    compiled = registry.compiled(db, instance.definition_id)
    diagram = case_diagram(db, compiled, instance, locale)
    content = case_content(db, instance, locale, registry)
    view.title = content_title(content, view.title, locale)
    return render(request, "instances/detail.html", {
        "view": view, "diagram": diagram, "notice": notice,
        "content": content, "requested_trigger": first,
    }, status_code=status_code)


@router.get("/instances/{instance_id}")
def show(
    instance_id: int, request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
    do: DoQuery = None,
) -> Response:
    """The instance page; `do` names the action to put first (My work links to it)."""
    return instance_page(request, db, user, locale, instance_id, requested=do)


@router.post("/instances/{instance_id}/actions/{trigger}")
def act(
    instance_id: int, trigger: str, request: Request, db: SessionDep, user: CurrentUser,
    locale: LocaleDep, gettext: GettextDep, form: FormDep,
) -> Response:
    """Take an action from its form; on an error show the same page with the input kept."""
    instance = service.get_visible(db_session=db, person=user, instance_id=instance_id)
    spec = request.app.state.registry.compiled(db, instance.definition_id).spec
    names = presenters.payload_names(spec, trigger, instance.state)
    values = {name: form[name] for name in names if name in form}
    try:
        result = service.take_action(
            db_session=db, person=user, instance_id=instance_id, trigger=trigger,
            payload=values, expected_version=parse_id(form.get("expected_version", "").strip()),
            on_behalf_of_id=form_id(form, "on_behalf_of_id"),
        )
    except StaleInstance as exc:
        db.rollback()
        return instance_page(request, db, user, locale, instance_id,
                             notice=exc.text(gettext), status_code=409)
    except (ValidationFailed, InvalidTransition) as exc:
        db.rollback()
        state = FormState.from_error(exc, values, gettext)
        return instance_page(request, db, user, locale, instance_id, form_trigger=trigger,
                             form_state=state, status_code=exc.status_code)
    if not service.still_visible(db_session=db, person=user, instance=result.instance):
        # e.g. a delegate whose principal's task is done: the case is no longer theirs to see
        flash(request, Message("Done. The case has moved on and is no longer on your list."))
        return RedirectResponse("/tasks", status_code=303)
    label = presenters.action_label(spec, trigger, locale)
    to_label = presenters.state_label(spec, result.to_state, locale)
    if result.completed:
        flash(request, Message("{action}: done. The case is now “{state}”.",
                               {"action": label, "state": to_label}))
    else:
        flash(request, Message("Your signature is recorded; others still need to sign."))
    return RedirectResponse(f"/instances/{instance_id}", status_code=303)
