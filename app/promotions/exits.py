"""Leaving a scheme's titles (退出客户经理队伍): proposed by the operating unit, approved level by
level like entering; on approval the person's title history says they hold no title from the
approved date (DOMAIN §4 A: "entering or leaving the CM team" go the same way)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app import clock
from app.assessments.wording import RuleForbids, RuleRefused
from app.engine import runtime
from app.engine.models import AuditEvent, WorkflowInstance
from app.errors import InvalidTransition, NotAllowed, NotFound
from app.i18n import N_, Message, pick_label
from app.org.models import Person
from app.promotions.eligibility import KIND_LABELS, application_kind, current_title
from app.promotions.grades import add_grade
from app.promotions.models import ExitRequest
from app.promotions.route import visible_instance
from app.promotions.schemes import ExitSpec, Scheme, get_scheme
from app.text import colon


def exit_spec(scheme: Scheme, route: str) -> ExitSpec:
    """A scheme's exit route by name."""
    spec = scheme.exits.get(route)
    if spec is None:
        raise NotFound("The scheme has no exit route '{route}'.", route=route)
    return spec


def _field_problems(spec: ExitSpec, reason: str, explanation: str,
                    proposed: date | None) -> dict[str, Message]:
    errors: dict[str, Message] = {}
    if reason not in spec.reasons:
        errors["reason"] = Message("Choose one of the offered options.")
    if not explanation.strip():
        errors["explanation"] = Message("Say why, in a few words: it goes with the case.")
    if proposed is None:
        errors["proposed_date"] = Message("Enter the date the person should leave.")
    elif proposed < clock.today():
        errors["proposed_date"] = Message("The date cannot be in the past.")
    return errors


def propose_exit(db_session: Session, *, scheme: str, route: str, person: Person,
                 applicant: Person, reason: str, explanation: str, proposed_date: date | None,
                 registry: Any = None) -> ExitRequest:
    """Start the exit route for a person holding one of the scheme's titles.

    Refused (all at once) for someone without a title in the scheme, by someone the route does
    not let start it, while another exit of theirs is under way, or with fields missing.
    """
    found = get_scheme(scheme, registry)
    spec = exit_spec(found, route)
    kind = application_kind(db_session, person, applicant)
    if kind is None:
        raise NotAllowed("Only the employee's own unit (their supervisors) may propose this.")
    held = current_title(db_session, person=person, scheme=found)
    why: list[Message] = []
    if held is None:
        why.append(Message("{name} holds no title of {scheme}.",
                           {"name": person.name, "scheme": found.label}))
    if kind not in spec.application_kinds:
        why.append(Message("{route} is proposed only by {kinds}.", {
            "route": spec.label, "kinds": [KIND_LABELS[k] for k in spec.application_kinds]}))
    errors = _field_problems(spec, reason, explanation, proposed_date)
    if why:
        raise RuleForbids(N_("{route} cannot be proposed: {why}"), route=spec.label,
                          why=why + list(errors.values()))
    if errors:
        raise RuleRefused(N_("Please correct the marked fields."), field_errors=errors)
    assert held is not None and proposed_date is not None
    if open_exit(db_session, person_id=person.id, scheme=found.scheme) is not None:
        raise InvalidTransition("An exit of {name} is already under way.", name=person.name)
    exit_ = ExitRequest(scheme=found.scheme, route=route, person_id=person.id,
                        applicant_id=applicant.id, kind=kind, current_title=held.name,
                        workflow=spec.workflow, reason=reason,
                        explanation=explanation.strip()[:5000], proposed_date=proposed_date)
    db_session.add(exit_)
    db_session.flush()
    instance = runtime.start(
        db_session, workflow=spec.workflow, subject=person, initiator=applicant,
        title=f"{person.name}{colon(person.locale)}{pick_label(spec.label, person.locale)}"[:200],
        registry=registry,
        context={"exit_request_id": exit_.id, "scheme": found.scheme, "route": route,
                 "left_state": spec.left_state, "effective_date_field": spec.effective_date_field,
                 "proposed_date": proposed_date.isoformat()})
    exit_.instance_id = instance.id
    db_session.flush()
    runtime.fire(db_session, instance, "submit", applicant, {}, registry=registry)
    return exit_


def open_exit(db_session: Session, *, person_id: int | None, scheme: str) -> int | None:
    """The exit of a person from a scheme's titles that is under way (its id), if any."""
    return db_session.exec(
        select(ExitRequest.id).join(WorkflowInstance,
                                    WorkflowInstance.id == ExitRequest.instance_id)
        .where(ExitRequest.person_id == person_id, ExitRequest.scheme == scheme,
               WorkflowInstance.closed_at.is_(None))).first()


def _effective(event: AuditEvent | None, field: str, fallback: date) -> date:
    text = (event.payload or {}).get(field) if event else None
    try:
        return date.fromisoformat(str(text)) if text else fallback
    except ValueError:
        return fallback


def record_exit(session: Session, *, instance: WorkflowInstance,
                event: AuditEvent | None) -> ExitRequest | None:
    """The approved exit: the title history says "no title" from the approved date."""
    exit_ = session.get(ExitRequest, instance.context.get("exit_request_id"))
    person = session.get(Person, exit_.person_id) if exit_ else None
    if exit_ is None or person is None or exit_.instance_id != instance.id:
        return None
    left_on = _effective(event, instance.context.get("effective_date_field", "effective_date"),
                         exit_.proposed_date)
    exit_.left_on = left_on
    add_grade(session, person=person, scheme=exit_.scheme, title="", staff_grade=None,
              effective_from=left_on, exit_id=exit_.id, source="exit")
    return exit_


def get_exit(db_session: Session, *, exit_id: int, viewer: Person
             ) -> tuple[ExitRequest, WorkflowInstance]:
    """An exit the viewer may see (the need-to-know rule of every case), with its instance."""
    exit_ = db_session.get(ExitRequest, exit_id)
    instance = visible_instance(db_session, exit_.instance_id if exit_ else None, viewer)
    if exit_ is None or instance is None:
        raise NotFound("Exit {id} does not exist or is not visible to you.", id=exit_id)
    return exit_, instance


def my_exits(db_session: Session, *, person: Person) -> list[tuple[ExitRequest,
                                                                     WorkflowInstance]]:
    """Exits about the person or proposed by them, newest first."""
    rows = db_session.exec(
        select(ExitRequest, WorkflowInstance)
        .join(WorkflowInstance, WorkflowInstance.id == ExitRequest.instance_id)
        .where((ExitRequest.person_id == person.id) | (ExitRequest.applicant_id == person.id))
        .order_by(col(ExitRequest.id).desc())).all()
    return [(e, i) for e, i in rows]


def exit_of_instance(db_session: Session, instance_id: int) -> ExitRequest | None:
    """The exit a workflow instance carries, if any."""
    return db_session.exec(select(ExitRequest).where(
        ExitRequest.instance_id == instance_id)).first()
