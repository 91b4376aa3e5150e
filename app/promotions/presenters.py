"""Promotion data in the reader's language, one shape for the pages and the JSON API."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from app import clock
from app.assessments.wording import from_data, localise, number
from app.engine.definitions import Vocabulary
from app.engine.models import Task, WorkflowInstance
from app.i18n import N_, Message, gettext_for, pick_label
from app.org.models import OrgUnit, Person
from app.promotions.eligibility import KIND_LABELS, Citation, Eligibility, Requirement
from app.promotions.models import (
    Appointment,
    ExitRequest,
    FilingNotice,
    PromotionRequest,
    PromotionRound,
)
from app.promotions.rounds import Window
from app.promotions.route import route_steps
from app.promotions.schemes import Scheme
from app.promotions.staffing import money
from app.web.labels import actor_label, person_name, seat_label, unit_name

NOBODY = N_("Nobody fits this step yet")
ROUND_LABEL = N_("{scheme}, {year} round")
STEP_STATUS = {
    "done": N_("done"), "current": N_("current step"), "pending": N_("to come"),
    "returned": N_("sent back"), "rejected": N_("rejected here"), "withdrawn": N_("withdrawn"),
    "not_reached": N_("not reached"), "sent": N_("sent"),
}


def text(label: Any, locale: str) -> str:
    """A label from a rule file ({en, zh}) or a Message, in the reader's language."""
    if isinstance(label, Message):
        return localise(label, locale)
    if isinstance(label, str):
        return gettext_for(locale)(label)
    return pick_label(label, locale)


def citation(c: Citation, locale: str) -> dict[str, Any]:
    """A cited rule with what was found, as text."""
    return {"rule": c.rule, "label": text(c.label, locale), "passed": c.passed,
            "details": [localise(d, locale) for d in c.details]}


def title_label(scheme: Scheme, name: str | None, locale: str) -> str:
    """A title's label (empty for no title)."""
    title = scheme.title(name)
    return pick_label(title.label, locale) if title else ""


def window_view(window: Window, locale: str, today: date | None = None) -> dict[str, Any]:
    """A window's dates and where today stands: open, not yet open (upcoming), or closed."""
    today = today or clock.today()
    status = ("open" if window.is_open(today) else "upcoming" if today < window.opens_on
              else "closed")
    return {"year": window.year, "assessment_year": window.assessment_year,
            "opens_on": window.opens_on, "closes_on": window.closes_on,
            "is_open": status == "open", "status": status}


def requirement(r: Requirement, locale: str) -> dict[str, Any]:
    """Something an application still needs, as text."""
    return {"key": r.key, "rule": r.rule, "label": text(r.label, locale),
            "detail": localise(r.detail, locale), "field": r.field}


def eligibility_view(found: Eligibility, locale: str) -> dict[str, Any]:
    """Every title above the current one: may enter or not, with the rules cited.

    A rule met for every title (a block that does not apply) is listed once, as `common`;
    each title keeps the rules particular to it.
    """
    scheme = found.scheme
    titles = [{
        "name": v.title.name, "label": pick_label(v.title.label, locale),
        "tier": v.title.tier, "staff_grade": v.title.staff_grade,
        "eligible": v.eligible, "skip_level": v.skip_level, "may_apply": v.may_apply,
        "reasons": [citation(c, locale) for c in v.reasons],
        "why_not": [citation(c, locale) for c in v.why_not],
        "missing": [requirement(r, locale) for r in v.missing],
    } for v in found.titles]
    common = [c for c in titles[0]["reasons"] if c["rule"] != "—" and all(
        c in t["reasons"] for t in titles)] if len(titles) > 1 else []
    for t in titles:
        t["own_reasons"] = [c for c in t["reasons"] if c not in common]
    return {
        "scheme": scheme.scheme, "scheme_label": pick_label(scheme.label, locale),
        "year": found.year,
        "current_title": found.current.name if found.current else None,
        "current_label": pick_label(found.current.label, locale) if found.current else "",
        "common": common, "titles": titles,
    }


def scheme_view(scheme: Scheme, locale: str) -> dict[str, Any]:
    """A scheme's titles, window, settings, skip-level rule, routes, exits and staffing formula
    in words (the keys beside them for API clients)."""
    skip = scheme.skip_level
    staffing = scheme.staffing
    return {
        "scheme": scheme.scheme, "label": pick_label(scheme.label, locale),
        "titles": [{"name": t.name, "label": pick_label(t.label, locale), "tier": t.tier,
                    "staff_grade": t.staff_grade, "aliases": list(t.aliases)}
                   for t in scheme.titles],
        "window": {"opens": scheme.window.opens, "closes": scheme.window.closes,
                   "assessment_year": scheme.window.assessment_year},
        "settings": [{"name": name, "label": pick_label(s.label, locale), "value": s.chosen,
                      "default": s.default,
                      "reading": pick_label(s.choices[s.chosen].label, locale)}
                     for name, s in scheme.settings.items()],
        "skip_level": None if skip is None else {
            "rule": skip.rule, "label": pick_label(skip.label, locale), "source": skip.source,
            "allowed": skip.allowed, "requires_condition": skip.requires is not None,
            "justification": skip.justification,
            "first_appointment": skip.first_appointment if isinstance(
                skip.first_appointment, str) else ",".join(skip.first_appointment)},
        "routes": [{"tier": tier, "workflow": r.workflow, "application_kinds":
                    list(r.application_kinds), "filing": list(r.filing)}
                   for tier, r in scheme.routes.items()],
        "exits": [{"route": key, "label": pick_label(e.label, locale), "workflow": e.workflow,
                   "application_kinds": list(e.application_kinds),
                   "reasons": {k: pick_label(v, locale) for k, v in e.reasons.items()}}
                  for key, e in scheme.exits.items()],
        "staffing": None if staffing is None else {
            "rule": staffing.rule, "label": pick_label(staffing.label, locale),
            "second_level_kinds": list(staffing.second_level_kinds),
            "per_unit": staffing.per_unit, "volume_divisor": staffing.volume_divisor,
            "rounding": staffing.rounding, "first_year": staffing.first_year,
            "sme_credit_line": localise(staffing.sme_credit_line.words(money), locale),
            "uplift": None if staffing.uplift is None else {
                "add": staffing.uplift.add, "at_least": staffing.uplift.at_least,
                "conditions": [pick_label(c.label, locale)
                               for c in staffing.uplift.conditions]}},
    }


def screening_view(request: PromotionRequest, locale: str) -> list[dict[str, Any]]:
    """The qualification screening the case was started on."""
    return [{"rule": r["rule"], "label": pick_label(r["label"], locale),
             "strength": r["strength"], "passed": r["passed"],
             "details": [localise(from_data(d), locale) for d in r.get("details", [])],
             "exception": r.get("exception", "")}
            for r in (request.screening or {}).get("results", [])]


def _stored_citations(data: dict[str, Any], key: str, locale: str) -> list[dict[str, Any]]:
    return [citation(Citation.from_data(c), locale) for c in data.get(key, [])]


def _task_who(db: Session, task: Task, vocabulary: Vocabulary, locale: str) -> str:
    if task.assignee_id:
        return person_name(db.get(Person, task.assignee_id), locale)
    if not (task.group_kind and task.group_name):
        return gettext_for(locale)(NOBODY)
    unit = db.get(OrgUnit, task.org_unit_id) if task.org_unit_id else None
    return f"{seat_label(task.group_kind, task.group_name, vocabulary, locale)} · " \
           f"{unit_name(unit, locale)}"


def fact_rows(scheme: Scheme, facts: dict[str, Any], locale: str) -> list[dict[str, str]]:
    """The qualification facts an application declared, labelled in the reader's language."""
    gettext = gettext_for(locale)
    rows = []
    for name, spec in scheme.facts.items():
        if name not in facts:
            continue
        value = facts[name]
        if spec.type == "bool":
            shown = gettext("yes") if value else gettext("no")
        elif spec.type == "choice":
            shown = pick_label(spec.choices.get(value), locale) or str(value)
        else:
            shown = number(value)
        rows.append({"label": pick_label(spec.label, locale), "value": shown})
    return rows


def _route(db: Session, spec: Any, instance: WorkflowInstance, request_id: int | None,
           vocabulary: Vocabulary, locale: str) -> dict[str, Any]:
    """The route drawn as steps, and whom the case waits on."""
    gettext = gettext_for(locale)
    steps = route_steps(db, spec=spec, instance=instance, request_id=request_id)
    waiting = db.exec(select(Task).where(Task.instance_id == instance.id,
                                         Task.status == "open")).all()
    return {
        "state": instance.state,
        "state_label": pick_label(spec.states[instance.state].label, locale),
        "closed": instance.closed_at is not None,
        "route": [{
            "key": s.key, "label": text(s.label, locale), "status": s.status,
            "status_label": gettext(STEP_STATUS.get(s.status, s.status)),
            "actors": [actor_label(a, vocabulary, locale) for a in s.actors],
            "blocking": s.blocking,
        } for s in steps],
        "waiting_on": [_task_who(db, t, vocabulary, locale) for t in waiting],
    }


def case_view(db: Session, *, request: PromotionRequest, instance: WorkflowInstance,
              scheme: Scheme, spec: Any, vocabulary: Vocabulary, locale: str) -> dict[str, Any]:
    """Everything the case page and the case API show."""
    person = db.get(Person, request.person_id)
    applicant = db.get(Person, request.applicant_id)
    appointment = db.exec(select(Appointment).where(
        Appointment.request_id == request.id)).first()
    notices = db.exec(select(FilingNotice).where(FilingNotice.request_id == request.id)).all()
    return {
        "id": request.id, "instance_id": instance.id, "version": instance.version,
        "scheme": scheme.scheme, "scheme_label": pick_label(scheme.label, locale),
        "person_id": request.person_id, "person_name": person_name(person, locale),
        "applicant_name": person_name(applicant, locale), "kind": request.kind,
        "kind_label": localise(KIND_LABELS[request.kind], locale),
        "current_title": request.current_title,
        "current_label": title_label(scheme, request.current_title, locale),
        "target_title": request.target_title,
        "target_label": title_label(scheme, request.target_title, locale),
        "skip_level": request.skip_level, "justification": request.justification,
        "created_at": request.created_at,
        **_route(db, spec, instance, request.id, vocabulary, locale),
        "facts": fact_rows(scheme, request.facts or {}, locale),
        "screening": screening_view(request, locale),
        "reasons": _stored_citations(request.eligibility or {}, "reasons", locale),
        "appointment": None if appointment is None else {
            "title_label": title_label(scheme, appointment.title, locale),
            "staff_grade": appointment.staff_grade, "outcome": appointment.outcome,
            "issued_on": appointment.issued_on, "effective_from": appointment.effective_from,
            "document_no": appointment.document_no},
        "filing_notices": [{"id": n.id, "sent_at": n.sent_at,
                            "acknowledged_at": n.acknowledged_at,
                            "to": actor_label(n.actor_expr, vocabulary, locale)}
                           for n in notices],
    }


def exit_view(db: Session, *, exit_: ExitRequest, instance: WorkflowInstance, scheme: Scheme,
              spec: Any, vocabulary: Vocabulary, locale: str) -> dict[str, Any]:
    """Everything the exit page and the exit API show."""
    route = scheme.exits.get(exit_.route)
    return {
        "id": exit_.id, "instance_id": instance.id, "version": instance.version,
        "scheme": scheme.scheme, "scheme_label": pick_label(scheme.label, locale),
        "route_label": pick_label(route.label, locale) if route else "",
        "person_id": exit_.person_id,
        "person_name": person_name(db.get(Person, exit_.person_id), locale),
        "applicant_name": person_name(db.get(Person, exit_.applicant_id), locale),
        "kind": exit_.kind, "kind_label": localise(KIND_LABELS[exit_.kind], locale),
        "current_title": exit_.current_title,
        "current_label": title_label(scheme, exit_.current_title, locale),
        "reason": exit_.reason,
        "reason_label": pick_label(route.reasons.get(exit_.reason), locale) if route else "",
        "explanation": exit_.explanation, "proposed_date": exit_.proposed_date,
        "left_on": exit_.left_on, "created_at": exit_.created_at,
        **_route(db, spec, instance, None, vocabulary, locale),
    }


def round_label(scheme: Scheme | None, year: int, locale: str) -> str:
    """A round as people name it: the scheme's name and the year."""
    name = pick_label(scheme.label, locale) if scheme else ""
    return gettext_for(locale)(ROUND_LABEL).format(scheme=name, year=year)


def round_view(db: Session, round_: PromotionRound, rows: list[Any], scheme: Scheme,
               registry: Any, vocabulary: Vocabulary, locale: str) -> dict[str, Any]:
    """A round: its window and every case with where it stands."""
    cases = []
    for row in rows:
        spec = registry.compiled(db, row.instance.definition_id).spec
        cases.append({
            "id": row.request.id, "person_name": person_name(row.person, locale),
            "employee_no": row.person.employee_no, "kind": row.request.kind,
            "kind_label": localise(KIND_LABELS[row.request.kind], locale),
            "target_label": title_label(scheme, row.request.target_title, locale),
            "state": row.instance.state,
            "state_label": pick_label(spec.states[row.instance.state].label, locale),
            "closed": row.instance.closed_at is not None,
            "waiting_on": [_task_who(db, t, vocabulary, locale) for t in row.waiting_on],
            "updated_at": row.instance.updated_at,
        })
    return {"id": round_.id, "scheme": round_.scheme,
            "scheme_label": pick_label(scheme.label, locale), "year": round_.year,
            "assessment_year": round_.assessment_year, "opens_on": round_.opens_on,
            "closes_on": round_.closes_on, "cases": cases}
