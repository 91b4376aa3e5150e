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
from app.promotions import exits, presenters, rounds, service
from app.promotions.acting import act_on_case, case_response
from app.promotions.eligibility import add_round_needs, application_kind, eligibility
from app.promotions.grades import titles_held
from app.promotions.models import PromotionRequest
from app.promotions.schemes import Scheme, get_scheme
from app.promotions.screening import exception_field
from app.text import brackets
from app.web.deps import (
    CurrentUser,
    DoQuery,
    FormDep,
    GettextDep,
    LocaleDep,
    SessionDep,
)
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


def _verdict(db: Session, person: Person, viewer: Person, scheme: Scheme, locale: str,
             registry: Any) -> dict[str, Any]:
    """One scheme's verdict for a person as the viewer would apply: the one verdict the
    application service also uses, with the round's window."""
    window = rounds.next_window(scheme, session=db)
    found = eligibility(db, person=person, scheme=scheme, year=window.assessment_year,
                        registry=registry)
    window = add_round_needs(db, found, person, application_kind(db, person, viewer))
    # an application could go now for some title (what the form itself asks aside)
    open_now = any(v.eligible and not any(n.field is None for n in v.missing)
                   for v in found.titles)
    return {"window": presenters.window_view(window, locale), "open_now": open_now,
            **presenters.eligibility_view(found, locale)}


def _nominations(db: Session, user: Person, schemes: list[Scheme], verdicts: list[dict],
                 locale: str) -> list[dict[str, Any]]:
    """The people the user supervises, with the rounds open to nominate them and the exits
    they may propose (for titles those people hold)."""
    open_schemes = [(s, v) for s, v in zip(schemes, verdicts, strict=True)
                    if v["window"]["is_open"]]
    out = []
    for person in _reports(db, user):
        held = titles_held(db, person_id=person.id)
        out.append({
            "id": person.id, "name": person_name(person, locale),
            "nominate": [{"scheme": s.scheme, "label": pick_label(s.label, locale)}
                         for s, _ in open_schemes],
            "exits": [{"scheme": s.scheme, "route": route,
                       "label": pick_label(spec.label, locale),
                       "under_way": exits.open_exit(db, person_id=person.id, scheme=s.scheme)}
                      for s in schemes if s.scheme in held
                      for route, spec in s.exits.items()
                      if "nomination" in spec.application_kinds],
        })
    return out


@router.get("/promotions")
def my_eligibility(request: Request, db: SessionDep, user: CurrentUser,
                   locale: LocaleDep) -> Response:
    """My eligibility in every scheme for its next round, my cases, people I may nominate."""
    registry = _registry(request)
    schemes = service.schemes_for_display(registry)
    verdicts = [_verdict(db, user, user, scheme, locale, registry) for scheme in schemes]
    cases = [presenters.case_view(db, request=r, instance=i,
                                  scheme=get_scheme(r.scheme, registry),
                                  spec=registry.compiled(db, i.definition_id).spec,
                                  vocabulary=registry.vocabulary, locale=locale)
             for r, i in service.my_requests(db, person=user)]
    proposals = [presenters.exit_view(db, exit_=e, instance=i,
                                      scheme=get_scheme(e.scheme, registry),
                                      spec=registry.compiled(db, i.definition_id).spec,
                                      vocabulary=registry.vocabulary, locale=locale)
                 for e, i in exits.my_exits(db, person=user)]
    return render(request, "promotions/eligibility.html", {
        "schemes": verdicts, "cases": cases, "exits": proposals,
        "reports": _nominations(db, user, schemes, verdicts, locale),
        "is_hr": service.may_view_rounds(db, user)})


TARGET = N_("Title applied for")
SKIP = N_("skip-level")
EXCEPTION_HELP = N_("Only if this condition is not met: why an exception is justified.")
OUTSTANDING = N_("Outstanding contribution")
JUSTIFICATION = N_("Justification of the outstanding contribution")
JUSTIFICATION_HELP = N_("Needed for a skip-level appointment.")


def _apply_fields(scheme: Scheme, found: Any, locale: str, state: FormState) -> dict[str, Any]:
    gettext = gettext_for(locale)

    def view(name: str, label: str, kind: str, **extra: Any) -> FieldView:
        return FieldView(name=name, label=label, type=kind, value=state.values.get(name, ""),
                         error=state.errors.get(name, ""), **extra)

    offered = [v for v in found["titles"] if v["eligible"]]
    opening, closing = brackets(locale)
    titles = [(v["name"], v["label"] + (opening + gettext(SKIP) + closing if v["skip_level"]
                                        else "")) for v in offered]
    target = view("target_title", gettext(TARGET), "choice", required=True, choices=titles)
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
    skip = []
    if scheme.skip_level is not None and scheme.skip_level.allowed and any(
            v["skip_level"] for v in offered):
        skip = [view("outstanding_contribution", gettext(OUTSTANDING), "bool"),
                view("justification", gettext(JUSTIFICATION), "textarea",
                     max_length=5000, help=gettext(JUSTIFICATION_HELP))]
    return {"target": target, "facts": facts, "exceptions": exceptions, "skip": skip,
            "hard_errors": hard_errors}


def _apply_page(request: Request, db: Session, user: Person, locale: str, scheme_name: str,
                person_id: int | None, state: FormState, status_code: int = 200) -> Response:
    registry = _registry(request)
    scheme = get_scheme(scheme_name, registry)
    person = user if person_id in (None, user.id) else get_person(db, person_id=person_id,
                                                                  viewer=user)
    found = _verdict(db, person, user, scheme, locale, registry)
    return render(request, "promotions/apply.html", {
        "scheme": presenters.scheme_view(scheme, locale), "eligibility": found,
        "window": found["window"], "person_id": person.id,
        "person_name": person_name(person, locale), "self": person.id == user.id,
        "form": _apply_fields(scheme, found, locale, state), "message": state.message,
    }, status_code=status_code)


@router.get("/promotions/apply")
def apply_form(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
               scheme: str = Query(max_length=60), person_id: int | None = None) -> Response:
    """The application (or nomination) form; while the round is not open, only its dates."""
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


def _case_page(request: Request, db: Session, user: Person, locale: str, request_id: int,
               form_trigger: str | None = None, form_state: FormState | None = None,
               status_code: int = 200, requested: str | None = None) -> Response:
    registry = _registry(request)
    found, instance = service.get_case(db, request_id=request_id, viewer=user)
    scheme = get_scheme(found.scheme, registry)
    view = presenters.case_view(db, request=found, instance=instance, scheme=scheme,
                                spec=registry.compiled(db, instance.definition_id).spec,
                                vocabulary=registry.vocabulary, locale=locale)
    return case_response(request, db, user, locale, template="promotions/case.html", view=view,
                         instance=instance, base=f"/promotions/cases/{request_id}",
                         form_trigger=form_trigger, form_state=form_state,
                         status_code=status_code, requested=requested)


@router.get("/promotions/cases/{request_id}")
def case_page(request_id: int, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep, do: DoQuery = None) -> Response:
    """The case: who and what, the decision with the facts it rests on (for whoever may take
    it), the route drawn with the current step, screening, outcome, history; `do` (from My
    work) names the action to put first."""
    return _case_page(request, db, user, locale, request_id, requested=do)


@router.post("/promotions/cases/{request_id}/actions/{trigger}")
def case_action(request_id: int, trigger: str, request: Request, db: SessionDep,
                user: CurrentUser, locale: LocaleDep, gettext: GettextDep,
                form: FormDep) -> Response:
    """Take a step of the case from its page; on an error the same page with the input kept."""
    _, instance = service.get_case(db, request_id=request_id, viewer=user)
    return act_on_case(request, db, user, gettext, form, instance, trigger,
                       back=f"/promotions/cases/{request_id}",
                       rerender=lambda trig, state, code: _case_page(
                           request, db, user, locale, request_id, trig, state, code))


@router.get("/promotions/queue")
def queue_page(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep
               ) -> Response:
    """The approver's queue (promotions and exits), and filing notices for information."""
    registry = _registry(request)
    items = []
    for item in service.queue(db, person=user):
        scheme = get_scheme(item.scheme, registry)
        spec = registry.compiled(db, item.instance.definition_id).spec
        items.append({
            "url": item.url, "person_name": person_name(item.person, locale),
            "scheme_label": pick_label(scheme.label, locale),
            "what": item.what(scheme, locale),
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
    """HR: every round held or scheduled so far."""
    if not service.may_view_rounds(db, user):
        raise NotAllowed("Only HR may see the promotion rounds.")
    registry = _registry(request)
    schemes = {s.scheme: s for s in service.schemes_for_display(registry)}
    return render(request, "promotions/rounds.html", {
        "rounds": [{"id": r.id, "scheme_label": pick_label(schemes[r.scheme].label, locale)
                    if r.scheme in schemes else "", "year": r.year,
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
