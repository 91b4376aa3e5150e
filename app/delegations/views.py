"""Out-of-office page: name a delegate for a period, see and revoke what is set."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import clock
from app.delegations import service
from app.errors import ValidationFailed
from app.i18n import Message, gettext_for, pick_label
from app.org.models import Delegation, Person
from app.org.service import get_person_by_number
from app.web.deps import CurrentUser, FormDep, GettextDep, LocaleDep, SessionDep
from app.web.forms import FieldView, FormState
from app.web.labels import person_name
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD date, or None."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def workflow_choices(request: Request, locale: str) -> list[tuple[str, str]]:
    """Every workflow a delegation may be limited to."""
    files = request.app.state.registry.files
    return [(name, pick_label(loaded.spec.label, locale)) for name, loaded in sorted(files.items())]


def _fields(request: Request, locale: str, state: FormState) -> list[FieldView]:
    gettext = gettext_for(locale)
    value, error = state.values.get, state.errors.get
    return [
        FieldView("delegate", gettext("Delegate's employee number"), "text", True,
                  value("delegate", ""), error("delegate", ""), max_length=40),
        FieldView("starts_on", gettext("First day away"), "date", True,
                  value("starts_on", ""), error("starts_on", "")),
        FieldView("ends_on", gettext("Last day away"), "date", True,
                  value("ends_on", ""), error("ends_on", "")),
        FieldView("workflow", gettext("For"), "choice", False, value("workflow", ""),
                  error("workflow", ""),
                  help=gettext("Leave empty for every workflow."),
                  choices=workflow_choices(request, locale)),
        FieldView("reason", gettext("Reason"), "textarea", False, value("reason", ""),
                  error("reason", ""), max_length=service.REASON_LIMIT),
    ]


def _rows(db: Session, rows: list[Delegation], request: Request, locale: str,
          other: str) -> list[dict[str, Any]]:
    labels = dict(workflow_choices(request, locale))
    out = []
    for row in rows:
        person = db.get(Person, getattr(row, other))
        out.append({"row": row, "who": person_name(person, locale),
                    "scope": labels.get(row.workflow or "", row.workflow or "")})
    return out


def page(request: Request, db: Session, user: Person, locale: str,
         state: FormState | None = None, status_code: int = 200) -> Response:
    """The out-of-office page."""
    state = state or FormState()
    today = clock.today()
    return render(request, "delegations/index.html", {
        "mine": _rows(db, service.mine(db, user, today), request, locale, "delegate_id"),
        "acting_for": _rows(db, service.acting_for(db, user, today), request, locale,
                            "principal_id"),
        "fields": _fields(request, locale, state),
        "message": state.message,
        "today": today,
    }, status_code=status_code)


@router.get("/delegations")
def show(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> Response:
    """My out-of-office delegations, and those naming me."""
    return page(request, db, user, locale)


@router.post("/delegations")
def create(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
           gettext: GettextDep, form: FormDep) -> Response:
    """Set an out-of-office period; on an error show the form again with the input kept."""
    number = form.get("delegate", "").strip()
    delegate = get_person_by_number(db, number) if number else None
    try:
        service.set_out_of_office(
            db, principal=user, delegate=delegate, starts_on=parse_day(form.get("starts_on")),
            ends_on=parse_day(form.get("ends_on")), workflow=form.get("workflow") or None,
            reason=form.get("reason", ""), today=clock.today(), now=clock.now(),
            known_workflows=set(request.app.state.registry.files),
        )
    except ValidationFailed as exc:
        db.rollback()
        return page(request, db, user, locale, FormState.from_error(exc, form, gettext),
                    status_code=exc.status_code)
    flash(request, Message("Your out-of-office delegation is set."))
    return RedirectResponse("/delegations", status_code=303)


@router.post("/delegations/{delegation_id}/revoke")
def revoke(delegation_id: int, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """End one of my delegations now."""
    service.revoke(db, principal=user, delegation_id=delegation_id, now=clock.now())
    flash(request, Message("The delegation is revoked."))
    return RedirectResponse("/delegations", status_code=303)
