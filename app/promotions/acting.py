"""Deciding on a promotion case or an exit from its own page: the actions the reader may take
now (and only those), taken through the same instance service as every other page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.engine.models import WorkflowInstance
from app.errors import InvalidTransition, NotAllowed, StaleInstance, ValidationFailed
from app.i18n import Message
from app.instances import presenters as instance_presenters
from app.instances import service as instances
from app.org.models import Person
from app.web.forms import FormState
from app.web.sessions import flash
from app.web.templating import render

Rerender = Callable[[str | None, FormState, int], Response]


def decision(db: Session, instance: WorkflowInstance, viewer: Person, locale: str,
             registry: Any, form_trigger: str | None = None,
             form_state: FormState | None = None, requested: str | None = None
             ) -> dict[str, Any]:
    """The reader's actions on the case (empty when it is not theirs to act) and its history;
    the action `requested` by My work or a refilled form comes first."""
    view = instance_presenters.instance_view(db, instance, viewer, locale, registry,
                                             form_trigger=form_trigger, form_state=form_state)
    first = form_trigger or (requested or "").removeprefix("action-")
    view.actions.sort(key=lambda a: a.trigger != first)  # stable: the rest keep their order
    notice = form_state.message if form_state and form_trigger is None else ""
    return {"actions": view.actions, "events": view.events, "version": view.version,
            "notice": notice}


def case_response(request: Request, db: Session, user: Person, locale: str, *,
                  template: str, view: dict[str, Any], instance: WorkflowInstance, base: str,
                  form_trigger: str | None = None, form_state: FormState | None = None,
                  status_code: int = 200, requested: str | None = None) -> Response:
    """A case page (promotion or exit) with the reader's decision and its action forms."""
    registry = request.app.state.registry
    return render(request, template, {
        "case": view, "decision": decision(db, instance, user, locale, registry, form_trigger,
                                           form_state, requested),
        "action_base": f"{base}/actions"}, status_code=status_code)


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def act_on_case(request: Request, db: Session, user: Person, gettext: Callable[[str], str],
                form: dict[str, str], instance: WorkflowInstance, trigger: str, *, back: str,
                rerender: Rerender) -> Response:
    """Take one action from a case page's form; errors re-render the page with the input."""
    spec = request.app.state.registry.compiled(db, instance.definition_id).spec
    names = instance_presenters.payload_names(spec, trigger, instance.state)
    values = {name: form[name] for name in names if name in form}
    try:
        result = instances.take_action(
            db_session=db, person=user, instance_id=instance.id, trigger=trigger,
            payload=values, expected_version=_int(form.get("expected_version")),
            on_behalf_of_id=_int(form.get("on_behalf_of_id")))
    except StaleInstance as exc:
        db.rollback()
        return rerender(None, FormState(message=exc.text(gettext)), 409)
    except (ValidationFailed, InvalidTransition, NotAllowed) as exc:
        db.rollback()
        return rerender(trigger, FormState.from_error(exc, values, gettext), exc.status_code)
    taken = spec.transition(trigger, result.from_state)
    flash(request, Message("{action}: done. Now at “{state}”.", {
        "action": dict(taken.label) if taken else trigger,
        "state": dict(spec.states[result.to_state].label)}))
    if not instances.still_visible(db_session=db, person=user, instance=result.instance):
        return RedirectResponse("/tasks", status_code=303)
    return RedirectResponse(back, status_code=303)
