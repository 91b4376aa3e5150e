"""Promotion pages: my eligibility, apply, the approver's queue, the case, HR's rounds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from app.assessments.service import get_person
from app.errors import DomainError, NotAllowed
from app.i18n import N_, Message, gettext_for, pick_label
from app.org.models import Person
from app.promotions import presenters, rounds, service
from app.promotions.eligibility import eligibility
from app.promotions.models import PromotionRequest
from app.promotions.schemes import Scheme, get_scheme
from app.promotions.screening import exception_field
from app.web.deps import CurrentUser, FormDep, GettextDep, LocaleDep, SessionDep
from app.web.forms import FieldView, FormState
from app.web.ids import form_id, parse_id
from app.web.labels import person_name
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)
TRUE = ("true", "on", "1", "yes")


def _registry(request: Request):  # noqa: ANN202 - the app's Registry
    return request.app.state.registry


def _reports(db: Session, user: Person) -> list[Person]:
    """People the user supervises directly (they may nominate them)."""
    return list(db.exec(select(Person).where(Person.supervisor_id == user.id, Person.active)
                        .order_by(Person.employee_no)))


@router.get("/promotions")
def my_eligibility(request: Request, db: SessionDep, user: CurrentUser,
                   locale: LocaleDep) -> Response:
    """My eligibility in every scheme for its next round, my cases, people I may nominate."""
    registry = _registry(request)
    schemes = []
    for scheme in service.schemes_for_display(registry):
        window = rounds.next_window(scheme)
        found = eligibility(db, person=user, scheme=scheme, year=window.assessment_year,
                            registry=registry)
        schemes.append({"window": presenters.window_view(window, locale),
                        **presenters.eligibility_view(found, locale)})
    cases = [presenters.case_view(db, request=r, instance=i,
                                  scheme=get_scheme(r.scheme, registry),
                                  spec=registry.compiled(db, i.definition_id).spec,
                                  vocabulary=registry.vocabulary, locale=locale)
             for r, i in service.my_requests(db, person=user)]
    return render(request, "promotions/eligibility.html", {
        "schemes": schemes, "cases": cases,
        "reports": [(p.id, person_name(p, locale)) for p in _reports(db, user)],
        "is_hr": service.may_view_rounds(db, user)})


def _apply_fields(scheme: Scheme, found: Any, locale: str, state: FormState) -> dict[str, Any]:
    gettext = gettext_for(locale)

    def view(name: str, label: str, kind: str, **extra: Any) -> FieldView:
        return FieldView(name=name, label=label, type=kind, value=state.values.get(name, ""),
                         error=state.errors.get(name, ""), **extra)

    titles = [(v["name"], v["label"] + (f" ({gettext(SKIP)})" if v["skip_level"]
                                         else "")) for v in found["titles"] if v["eligible"]]
    target = view("target_title", gettext(TARGET), "choice", required=True,
                  choices=titles)
    facts = []
    for name, spec in scheme.facts.items():
        kind = {"bool": "bool", "number": "number", "choice": "choice"}[spec.type]
        facts.append(view(f"fact_{name}", pick_label(spec.label, locale), kind,
                          required=spec.type != "bool", min=spec.min, max=spec.max,
                          choices=[(k, pick_label(v, locale)) for k, v in spec.choices.items()]))
    exceptions = [view(exception_field(q.rule), f"{q.rule} {pick_label(q.label, locale)}",
                       "textarea", max_length=5000, help=gettext(EXCEPTION_HELP))
                  for q in scheme.qualifications if q.strength == "generally"]
    hard_errors = [state.errors[exception_field(q.rule)] for q in scheme.qualifications
                   if q.strength == "hard" and exception_field(q.rule) in state.errors]
    skip = [view("outstanding_contribution", gettext(OUTSTANDING), "bool"),
            view("justification", gettext(JUSTIFICATION), "textarea",
                 max_length=5000, help=gettext(JUSTIFICATION_HELP))]
    return {"target": target, "facts": facts, "exceptions": exceptions, "skip": skip,
            "hard_errors": hard_errors}


TARGET = N_("Title applied for")
SKIP = N_("skip-level")
EXCEPTION_HELP = N_("Only if this condition is not met: why an exception is justified.")
OUTSTANDING = N_("Outstanding contribution")
JUSTIFICATION = N_("Justification of the outstanding contribution")
JUSTIFICATION_HELP = N_("Needed for a skip-level appointment.")


def _apply_page(request: Request, db: Session, user: Person, locale: str, scheme_name: str,
                person_id: int | None, state: FormState, status_code: int = 200) -> Response:
    registry = _registry(request)
    scheme = get_scheme(scheme_name, registry)
    person = user if person_id in (None, user.id) else get_person(db, person_id=person_id,
                                                                  viewer=user)
    window = rounds.next_window(scheme)
    found = presenters.eligibility_view(
        eligibility(db, person=person, scheme=scheme, year=window.assessment_year,
                    registry=registry), locale)
    return render(request, "promotions/apply.html", {
        "scheme": presenters.scheme_view(scheme, locale), "eligibility": found,
        "window": presenters.window_view(window, locale), "person_id": person.id,
        "person_name": person_name(person, locale), "self": person.id == user.id,
        "form": _apply_fields(scheme, found, locale, state), "message": state.message,
    }, status_code=status_code)


@router.get("/promotions/apply")
def apply_form(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
               scheme: str = Query(max_length=60), person_id: int | None = None) -> Response:
    """The application (or nomination) form for a scheme's open round."""
    return _apply_page(request, db, user, locale, scheme, person_id, FormState())


@router.post("/promotions/apply")
def apply(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
          gettext: GettextDep, form: FormDep) -> Response:
    """Apply or nominate; on an error the same form with the input kept and errors marked."""
    registry = _registry(request)
    scheme_name = form.get("scheme", "")
    person_id = parse_id(form.get("person_id", "").strip())
    try:
        form_id(form, "person_id")  # a malformed person is a field error, not oneself
        scheme = get_scheme(scheme_name, registry)
        person = user if person_id in (None, user.id) else get_person(
            db, person_id=person_id, viewer=user)
        facts = {name: (form.get(f"fact_{name}", "") if spec.type != "bool"
                        else form.get(f"fact_{name}", "").lower() in TRUE)
                 for name, spec in scheme.facts.items()}
        created = service.apply(
            db, scheme=scheme.scheme, person=person, applicant=user,
            target_title=form.get("target_title", ""), facts=facts,
            justifications={k: v for k, v in form.items() if k.startswith("exception_")},
            outstanding_contribution=form.get("outstanding_contribution", "").lower() in TRUE,
            justification=form.get("justification", ""), registry=registry)
    except DomainError as exc:
        db.rollback()
        if isinstance(exc, NotAllowed) and not scheme_name:
            raise
        return _apply_page(request, db, user, locale, scheme_name, person_id,
                           FormState.from_error(exc, dict(form), gettext),
                           status_code=exc.status_code)
    flash(request, Message("The application is submitted; it now waits on the first step."))
    return RedirectResponse(f"/promotions/cases/{created.id}", status_code=303)


@router.get("/promotions/cases/{request_id}")
def case_page(request_id: int, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep) -> Response:
    """The case: who and what, its route drawn with the current step, screening, outcome."""
    registry = _registry(request)
    found, instance = service.get_case(db, request_id=request_id, viewer=user)
    view = presenters.case_view(db, request=found, instance=instance,
                                scheme=get_scheme(found.scheme, registry),
                                spec=registry.compiled(db, instance.definition_id).spec,
                                vocabulary=registry.vocabulary, locale=locale)
    return render(request, "promotions/case.html", {"case": view})


@router.get("/promotions/queue")
def queue_page(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep
               ) -> Response:
    """The approver's queue, and filing notices for information."""
    registry = _registry(request)
    items = []
    for item in service.queue(db, person=user):
        scheme = get_scheme(item.request.scheme, registry)
        spec = registry.compiled(db, item.instance.definition_id).spec
        items.append({
            "request_id": item.request.id, "instance_id": item.instance.id,
            "person_name": person_name(item.person, locale),
            "scheme_label": pick_label(scheme.label, locale),
            "target_label": presenters.title_label(scheme, item.request.target_title, locale),
            "state_label": pick_label(spec.states[item.instance.state].label, locale),
            "due_at": item.task.due_at})
    notices = []
    for notice in service.filing_notices_for(db, person=user):
        case = db.get(PromotionRequest, notice.request_id)
        subject = db.get(Person, case.person_id) if case else None
        if case is None or subject is None:
            continue
        scheme = get_scheme(case.scheme, registry)
        notices.append({"id": notice.id, "request_id": case.id, "sent_at": notice.sent_at,
                        "person_name": person_name(subject, locale),
                        "scheme_label": pick_label(scheme.label, locale),
                        "title_label": presenters.title_label(scheme, case.target_title,
                                                              locale)})
    return render(request, "promotions/queue.html", {"items": items, "notices": notices})


@router.post("/promotions/filings/{notice_id}/acknowledge")
def acknowledge(notice_id: int, request: Request, db: SessionDep, user: CurrentUser
                ) -> Response:
    """Mark a filing notice as read."""
    service.acknowledge_filing(db, notice_id=notice_id, person=user)
    flash(request, Message("Filing notice acknowledged."))
    return RedirectResponse("/promotions/queue", status_code=303)


@router.get("/promotions/rounds")
def rounds_page(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep
                ) -> Response:
    """HR: every round held so far."""
    if not service.may_view_rounds(db, user):
        raise NotAllowed("Only HR may see the promotion rounds.")
    registry = _registry(request)
    labels = {s.scheme: pick_label(s.label, locale)
              for s in service.schemes_for_display(registry)}
    return render(request, "promotions/rounds.html", {
        "rounds": [{"id": r.id, "scheme_label": labels.get(r.scheme, r.scheme), "year": r.year,
                    "assessment_year": r.assessment_year, "opens_on": r.opens_on,
                    "closes_on": r.closes_on} for r in rounds.rounds(db)]})


@router.get("/promotions/rounds/{round_id}")
def round_page(round_id: int, request: Request, db: SessionDep, user: CurrentUser,
               locale: LocaleDep) -> Response:
    """HR: who applied in a round and where each case is."""
    registry = _registry(request)
    round_, rows = service.round_cases(db, round_id=round_id, viewer=user)
    view = presenters.round_view(db, round_, rows, get_scheme(round_.scheme, registry),
                                 registry, registry.vocabulary, locale)
    return render(request, "promotions/round.html", {"round": view})
