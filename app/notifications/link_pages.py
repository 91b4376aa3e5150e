"""Action-link pages: GET shows what the link would do and changes nothing; POST acts once."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import clock
from app.errors import InvalidTransition, StaleInstance, TokenExpired, ValidationFailed
from app.i18n import pick_label
from app.instances.content import case_content, content_title
from app.instances.presenters import (
    action_label,
    payload_names,
    sign_off_fields,
    state_label,
    verb_label,
)
from app.notifications import action_links
from app.notifications.action_links import LinkStatus, LinkView
from app.notifications.compose import show_date
from app.org.models import Person
from app.web.deps import FormDep, GettextDep, LocaleDep, OptionalUser, SessionDep
from app.web.forms import FormState, spec_field
from app.web.labels import person_name
from app.web.templating import render

router = APIRouter(include_in_schema=False)

# A token in the address must not leak through caches, referrers or search engines.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
STATUS_CODES = {LinkStatus.ready: 200, LinkStatus.unknown: 404}


def _destination(view: LinkView, locale: str) -> str:
    """Where the action leads, or '' when the decision itself decides."""
    t = view.transition
    if t is None or view.spec is None or not t.dest:
        return ""
    return state_label(view.spec, t.dest, locale)


def _context(db: Session, view: LinkView, user: Person | None, locale: str,
             form_state: FormState | None = None) -> dict[str, Any]:
    """What the page shows about the link, its case and what became of it."""
    form_state = form_state or FormState()
    ctx: dict[str, Any] = {"view": view, "status": view.status, "form_state": form_state}
    if view.link is None or view.spec is None or view.instance is None:
        return ctx
    spec, instance, link = view.spec, view.instance, view.link
    subject = db.get(Person, instance.subject_id)
    principal = db.get(Person, link.on_behalf_of_id) if link.on_behalf_of_id else None
    fields = []
    if view.transition is not None:
        fields = [spec_field(name, spec.fields[name], locale, form_state)
                  for name in view.transition.form if name in spec.fields]
        if view.action is not None and view.action.sign_off is not None:
            fields += sign_off_fields(view.action.sign_off, locale, form_state)
    acted = view.acted
    ctx.update(
        case_title=instance.title or state_label(spec, instance.state, locale),
        workflow_label=pick_label(spec.label, locale),
        subject_name=person_name(subject, locale),
        recipient_name=person_name(view.person, locale),
        principal_name=person_name(principal, locale),
        action=action_label(spec, link.trigger, locale),
        from_state=state_label(spec, link.state, locale),
        current_state=state_label(spec, instance.state, locale),
        to_state=_destination(view, locale),
        due=show_date(view.task.due_at.astimezone(clock.zone()).date()
                      if view.task and view.task.due_at else None, locale),
        fields=fields,
        expires_at=link.expires_at,
        used_at=link.used_at,
        acted_action=action_label(spec, acted.trigger, locale) if acted else "",
        acted_by=person_name(db.get(Person, acted.actor_id), locale)
        if acted and acted.actor_id else "",
        acted_for=person_name(db.get(Person, acted.on_behalf_of_id), locale)
        if acted and acted.on_behalf_of_id else "",
        acted_at=acted.at if acted else None,
        now_with=", ".join(person_name(p, locale) for p in view.current_people),
        needs_login=view.needs_login and (user is None or user.id != link.person_id),
        wrong_person=view.needs_login and user is not None and user.id != link.person_id,
    )
    return ctx


def _page(request: Request, db: Session, view: LinkView, user: Person | None, locale: str,
          token: str, *, form_state: FormState | None = None, status_code: int | None = None,
          done: bool = False) -> Response:
    ctx = _context(db, view, user, locale, form_state)
    ctx.update(token=token, done=done, login_url=f"/login?next={quote('/act/' + token)}")
    if view.instance is not None and view.spec is not None and view.link is not None:
        # the content being signed or decided stands beside the button (templates/notifications)
        content = case_content(db, view.instance, locale, request.app.state.registry)
        ctx.update(verb=verb_label(view.spec, view.link.trigger, view.link.state, locale),
                   content=content,
                   case_title=content_title(content, ctx.get("case_title", ""), locale))
    code = status_code or STATUS_CODES.get(view.status, 410)
    response = render(request, "notifications/act.html", ctx, status_code=code)
    response.headers.update(PRIVATE_HEADERS)
    return response


@router.api_route("/act/{token}", methods=["GET", "HEAD"])
def confirm(token: str, request: Request, db: SessionDep, user: OptionalUser,
            locale: LocaleDep) -> Response:
    """The confirmation page: the case, the step, what the button does. Nothing changes here,
    so mail scanners that open links cannot act; HEAD answers the same status, without a body."""
    view = action_links.inspect(db, token, clock.now(), request.app.state.registry)
    if request.method == "HEAD":
        return Response(status_code=STATUS_CODES.get(view.status, 410), headers=PRIVATE_HEADERS,
                        media_type="text/html")
    return _page(request, db, view, user, locale, token)


@router.post("/act/{token}")
def act(token: str, request: Request, db: SessionDep, user: OptionalUser, locale: LocaleDep,
        gettext: GettextDep, form: FormDep) -> Response:
    """Take the link's one action, once, as the person it was sent to."""
    registry = request.app.state.registry
    now = clock.now()
    view = action_links.inspect(db, token, now, registry)
    if view.status != LinkStatus.ready:
        return _page(request, db, view, user, locale, token)
    if view.needs_login and user is None:
        return RedirectResponse(f"/login?next={quote('/act/' + token)}", status_code=303)
    assert view.spec is not None and view.link is not None
    names = payload_names(view.spec, view.link.trigger, view.link.state)
    values = {name: form[name] for name in names if name in form}
    try:
        view, _result = action_links.use(db, token, signed_in=user, payload=values, now=now,
                                         registry=registry)
    except (ValidationFailed, InvalidTransition) as exc:
        db.rollback()
        state = FormState.from_error(exc, values, gettext)
        view = action_links.inspect(db, token, now, registry)
        return _page(request, db, view, user, locale, token, form_state=state,
                     status_code=exc.status_code)
    except (StaleInstance, TokenExpired):
        db.rollback()
        view = action_links.inspect(db, token, now, registry)
        return _page(request, db, view, user, locale, token)
    db.flush()
    return _page(request, db, view, user, locale, token, done=True)
