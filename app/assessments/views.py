"""Assessment pages: a person's results with entry forms, and the CSV import."""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, or_, select

from app import clock
from app.assessments import importer, service
from app.assessments.rules import rule_book
from app.assessments.schemas import AnnualEntry, FlagEntry, OutcomeEntry, QuarterlyEntry
from app.assessments.stars import result_values, star_rating
from app.assessments.wording import localise, number, unit_word
from app.errors import DomainError, ImportFailed
from app.i18n import N_, Message, gettext_for, pick_label
from app.org.models import OrgUnit, Person, RoleAssignment
from app.promotions.schemes import schemes_of
from app.promotions.titles import titles_view
from app.web.deps import CurrentUser, FormDep, GettextDep, LocaleDep, SessionDep
from app.web.forms import FieldView, FormState
from app.web.input import blank_to_none, parse_input
from app.web.labels import person_name, unit_name
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)
YES_NO = (("", N_("not recorded")), ("true", N_("yes")), ("false", N_("no")))
FIXED_LABELS = {
    "year": N_("Year"), "quarter": N_("Quarter"), "level": N_("Level"), "note": N_("Note"),
    "outcome": N_("Outcome"), "reason": N_("Reason"), "name": N_("Flag"),
    "justification": N_("Written justification"),
}


def _field(name: str, label: str, kind: str, state: FormState, form_id: str, active: str,
           **extra: Any) -> FieldView:
    mine = form_id == active
    default = str(extra.pop("value", ""))
    return FieldView(name=name, label=label, type=kind,
                     value=state.values.get(name, "") if mine else default,
                     error=state.errors.get(name, "") if mine else "", **extra)


def _forms(book: Any, locale: str, state: FormState, active: str) -> dict[str, list[FieldView]]:
    gettext = gettext_for(locale)
    year = str(clock.today().year)

    def f(form_id: str, name: str, kind: str = "number", **extra: Any) -> FieldView:
        label = extra.pop("label", None) or gettext(FIXED_LABELS.get(name, name))
        return _field(name, label, kind, state, form_id, active, **extra)

    yes_no = [(k, gettext(v)) for k, v in YES_NO]
    annual_fields = book.assessment.annual_fields
    return {
        "quarter": [f("quarter", "year", required=True, value=year),
                    f("quarter", "quarter", "choice", required=True,
                      choices=[(str(q), str(q)) for q in range(1, 5)]),
                    f("quarter", "level", "choice", required=True,
                      choices=[(str(v), str(v)) for v in range(1, 6)]),
                    f("quarter", "note", "text", max_length=500)],
        "annual": [f("annual", "year", required=True, value=year),
                   f("annual", "level", "choice", label=pick_label(annual_fields["level"],
                                                                   locale),
                     choices=[(str(v), str(v)) for v in range(1, 6)]),
                   f("annual", "targets_met", "choice", choices=yes_no,
                     label=pick_label(annual_fields["targets_met"], locale)),
                   f("annual", "effective_client_target_met", "choice", choices=yes_no,
                     label=pick_label(annual_fields["effective_client_target_met"], locale)),
                   f("annual", "liability_loans", min=0,
                     label=pick_label(annual_fields["liability_loans"], locale)),
                   f("annual", "violating_loans", min=0,
                     label=pick_label(annual_fields["violating_loans"], locale))]
        + [f("annual", f"metric_{name}", label=f"{pick_label(m.label, locale)}"
             + (("（{}）" if locale == "zh_CN" else " ({})").format(unit_word(m.unit, locale))
                if m.unit else ""))
           for name, m in book.stars.metrics.items()],
        "outcome": [f("outcome", "year", required=True, value=year),
                    f("outcome", "outcome", "choice", required=True,
                      choices=[(k, pick_label(v, locale))
                               for k, v in book.assessment.outcomes.items()]),
                    f("outcome", "reason", "textarea", max_length=5000)],
        "flag": [f("flag", "year", required=True, value=year),
                 f("flag", "name", "choice", required=True,
                   choices=[(k, pick_label(v, locale))
                            for k, v in book.assessment.flags.items()]),
                 f("flag", "justification", "textarea", required=True, max_length=5000)],
    }


def _shown(values: dict[str, Any], book: Any, locale: str) -> dict[str, str]:
    """An annual result as a person reads it: met or not, grouped digits, the unit in words."""
    gettext = gettext_for(locale)
    units = {name: metric.unit for name, metric in book.stars.metrics.items()}
    shown = {}
    for key, value in values.items():
        if value is None or key == "year":
            continue
        if isinstance(value, bool):
            shown[key] = gettext("Met") if value else gettext("Not met")
        elif key in units and units[key]:
            unit = unit_word(units[key], locale)
            shown[key] = f"{number(value)}{unit}" if unit == "%" else f"{number(value)} {unit}"
        else:
            shown[key] = number(value) if isinstance(value, int | float) else str(value)
    return shown


def person_page(request: Request, db: Session, user: Person, locale: str, person_id: int,
                state: FormState | None = None, active: str = "",
                status_code: int = 200) -> Response:
    """A person's results, star ratings explained, and the entry forms the reader may use."""
    registry = request.app.state.registry
    person = service.get_person(db, person_id=person_id, viewer=user)
    book = rule_book(registry)
    found = service.results_of(db, person_id=person.id)
    years = sorted({q.year for q in found.quarters} | {a.year for a in found.annual},
                   reverse=True)
    quarters = {y: {q.quarter: q.level for q in found.quarters if q.year == y} for y in years}
    annual = []
    for row in sorted(found.annual, key=lambda a: -a.year):
        rating = star_rating(db, person_id=person.id, year=row.year, registry=registry)
        annual.append({
            "year": row.year, "values": _shown(result_values(row), book, locale),
            "rated": any(name in (row.metrics or {}) for name in book.stars.metrics),
            "outcome": pick_label(
                book.assessment.outcomes.get(row.outcome or ""), locale),
            "outcome_reason": row.outcome_reason, "stars": rating.stars if rating else 0,
            "explanation": [localise(m, locale) for m in rating.explanation()] if rating else [],
        })
    may_record = service.may_record(db, user, person)
    return render(request, "assessments/person.html", {
        "person": {"id": person.id, "name": person_name(person, locale),
                   "employee_no": person.employee_no,
                   "titles": titles_view(db, person, schemes_of(registry), locale),
                   "unit": unit_name(db.get(OrgUnit, person.org_unit_id), locale)},
        "years": years, "quarters": quarters, "annual": annual,
        "annual_fields": [(k, pick_label(v, locale))
                          for k, v in book.assessment.annual_fields.items()],
        "metrics": [(k, pick_label(m.label, locale)) for k, m in book.stars.metrics.items()],
        "flags": [{"year": f.year, "label": pick_label(book.assessment.flags.get(f.name),
                                                       locale) or f.name,
                   "justification": f.justification} for f in found.flags],
        "plans": [link.plan_id for link in found.plan_links if link.plan_id],
        "may_record": may_record,
        "may_flag": may_record or service.is_supervisor_of(db, user, person),
        "entry_forms": _forms(book, locale, state or FormState(), active),
        "active": active, "message": (state.message if state else ""),
    }, status_code=status_code)


@router.get("/assessments")
def people(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep,
           q: str = Query(default="", max_length=100)) -> Response:
    """HR: find a person in the units below their seat; everyone else sees their own results."""
    paths = list(db.exec(select(OrgUnit.path).join(
        RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id).where(
        RoleAssignment.person_id == user.id, RoleAssignment.kind == "role",
        RoleAssignment.name == "hr")))
    if not paths:
        return RedirectResponse(f"/assessments/people/{user.id}", status_code=303)
    query = select(Person, OrgUnit).join(OrgUnit, OrgUnit.id == Person.org_unit_id).where(
        Person.active)
    query = query.where(or_(*[OrgUnit.path.startswith(p) for p in paths]))
    if q.strip():
        like = f"%{q.strip()}%"
        query = query.where(or_(col(Person.name).like(like), col(Person.employee_no).like(like),
                                col(Person.name_en).like(like)))
    rows = db.exec(query.order_by(Person.employee_no).limit(100)).all()
    return render(request, "assessments/people.html", {
        "q": q, "people": [{"id": p.id, "name": person_name(p, locale),
                            "employee_no": p.employee_no, "unit": unit_name(u, locale)}
                           for p, u in rows]})


@router.get("/assessments/people/{person_id}")
def show_person(person_id: int, request: Request, db: SessionDep, user: CurrentUser,
                locale: LocaleDep) -> Response:
    """A person's assessment page."""
    return person_page(request, db, user, locale, person_id)


def _handle(request: Request, db: Session, user: Person, locale: str, gettext: Any,
            person_id: int, form_id: str, values: dict[str, str], work: Any) -> Response:
    try:
        person = service.get_person(db, person_id=person_id, viewer=user)
        opened = work(person)
    except DomainError as exc:
        db.rollback()
        return person_page(request, db, user, locale, person_id,
                           FormState.from_error(exc, values, gettext), form_id,
                           status_code=exc.status_code)
    flash(request, Message("Saved."))
    if opened:
        flash(request, Message("An improvement plan was opened for this result; the "
                               "supervisor has been given the task."), "info")
    return RedirectResponse(f"/assessments/people/{person_id}", status_code=303)


@router.post("/assessments/people/{person_id}/quarters")
def post_quarter(person_id: int, request: Request, db: SessionDep, user: CurrentUser,
                 locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Record a quarter's level."""
    values = {k: form.get(k, "") for k in ("year", "quarter", "level", "note")}
    registry = request.app.state.registry
    return _handle(request, db, user, locale, gettext, person_id, "quarter", values,
                   lambda p: service.record_quarter(
                       db, person=p, actor=user, registry=registry,
                       entry=parse_input(QuarterlyEntry, blank_to_none(
                           values, ("year", "quarter", "level")))).plans)


@router.post("/assessments/people/{person_id}/annual")
def post_annual(person_id: int, request: Request, db: SessionDep, user: CurrentUser,
                locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Record an annual result (blank fields keep their stored values)."""
    registry = request.app.state.registry
    fixed = ("year", "level", "targets_met", "effective_client_target_met", "liability_loans",
             "violating_loans")
    values = {k: v for k, v in form.items() if k in fixed or k.startswith("metric_")}

    def work(person: Person) -> list[int]:
        data: dict[str, Any] = {k: v for k, v in values.items()
                                if k in fixed and str(v).strip()}
        data["metrics"] = {k.removeprefix("metric_"): v for k, v in values.items()
                           if k.startswith("metric_") and str(v).strip()}
        entry = parse_input(AnnualEntry, data)
        return service.record_annual(db, person=person, entry=entry, actor=user,
                                     registry=registry).plans

    return _handle(request, db, user, locale, gettext, person_id, "annual", values, work)


@router.post("/assessments/people/{person_id}/outcome")
def post_outcome(person_id: int, request: Request, db: SessionDep, user: CurrentUser,
                 locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Record the outcome of a year (missed targets: only appoint lower or dismiss)."""
    values = {k: form.get(k, "") for k in ("year", "outcome", "reason")}
    registry = request.app.state.registry

    def work(person: Person) -> list[int]:
        service.record_outcome(db, person=person, actor=user, registry=registry,
                               entry=parse_input(OutcomeEntry, blank_to_none(values, ("year",))))
        return []

    return _handle(request, db, user, locale, gettext, person_id, "outcome", values, work)


@router.post("/assessments/people/{person_id}/flags")
def post_flag(person_id: int, request: Request, db: SessionDep, user: CurrentUser,
              locale: LocaleDep, gettext: GettextDep, form: FormDep) -> Response:
    """Set a reviewer flag with its written justification."""
    values = {k: form.get(k, "") for k in ("year", "name", "justification")}
    registry = request.app.state.registry

    def work(person: Person) -> list[int]:
        service.set_flag(db, person=person, actor=user, registry=registry,
                         entry=parse_input(FlagEntry, blank_to_none(values, ("year",))))
        return []

    return _handle(request, db, user, locale, gettext, person_id, "flag", values, work)


def _import_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    """The import page; it names the columns each kind of file must have."""
    metrics = rule_book(request.app.state.registry).stars.metrics
    columns = {"quarterly": importer.QUARTERLY_REQUIRED + importer.QUARTERLY_OPTIONAL,
               "annual": importer.ANNUAL_REQUIRED + importer.ANNUAL_FIXED,
               "metrics": list(metrics)}
    return render(request, "assessments/import.html",
                  {"report": None, "failure": None, "columns": columns, **context},
                  status_code=status_code)


@router.get("/assessments/import")
def import_form(request: Request, user: CurrentUser) -> Response:
    """The CSV import page."""
    return _import_page(request)


@router.post("/assessments/import")
async def import_upload(request: Request, db: SessionDep, user: CurrentUser,
                        gettext: GettextDep) -> Response:
    """Import a CSV: a report of what changed, or every refused line and nothing imported."""
    posted = await request.form()
    kind = str(posted.get("kind") or "quarterly")
    upload = posted.get("file")
    data = await upload.read() if upload is not None and hasattr(upload, "read") else b""
    run = importer.import_annual if kind == "annual" else importer.import_quarterly
    try:
        report = run(db, io.BytesIO(data), actor=user, registry=request.app.state.registry)
    except ImportFailed as exc:
        db.rollback()
        return _import_page(request, status_code=exc.status_code, kind=kind, failure={
            "message": exc.text(gettext), "rejected": exc.rejected})
    return _import_page(request, report=report, kind=kind)
