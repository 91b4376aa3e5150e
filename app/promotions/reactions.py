"""What a promotion case's last step causes: the appointment, the grade, the filing notices
(and, for an exit, the end of the title).

Runs as an engine state hook, inside the transaction of the action that reached the state, so
the appointment and the step commit or fail together.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from app import clock
from app.engine import runtime
from app.engine.actors import ActorResolver
from app.engine.models import AuditEvent, WorkflowInstance
from app.notifications.notices import mail_filing_notice
from app.org.models import Person
from app.promotions.grades import add_grade, bank_name
from app.promotions.models import Appointment, FilingNotice, PromotionRequest
from app.promotions.schemes import get_scheme


def _issued_on(event: AuditEvent | None) -> date:
    text = (event.payload or {}).get("issue_date") if event else None
    if text:
        try:
            return date.fromisoformat(str(text))
        except ValueError:
            pass
    return clock.today()  # routes without an issue date take effect on the decision day


def record_appointment(session: Session, *, request: PromotionRequest,
                       instance: WorkflowInstance, event: AuditEvent | None) -> Appointment:
    """The appointment of an approved case, its grade history row, and its filing notices."""
    context = instance.context
    issued_on = _issued_on(event)
    person = session.get(Person, request.person_id)
    assert person is not None
    appointment = Appointment(
        request_id=request.id, person_id=request.person_id, scheme=request.scheme,
        title=request.target_title, staff_grade=context.get("staff_grade"),
        outcome="skip_level" if request.skip_level else "appoint_higher",
        issued_on=issued_on, effective_from=issued_on,
        document_no=str((event.payload or {}).get("document_no") or "") if event else "",
        issued_by_id=event.actor_id if event else None,
    )
    session.add(appointment)
    session.flush()
    add_grade(session, person=person, scheme=request.scheme, title=request.target_title,
              staff_grade=context.get("staff_grade"), effective_from=issued_on,
              appointment_id=appointment.id)
    resolver = ActorResolver(session, instance)
    notices = []
    for expr in context.get("filing") or []:
        assignee = resolver.assignee(expr)
        notices.append(FilingNotice(
            request_id=request.id, appointment_id=appointment.id, actor_expr=expr,
            assignee_id=assignee.person_id if assignee else None,
            group_kind=assignee.group_kind if assignee else None,
            group_name=assignee.group_name if assignee else None,
            org_unit_id=assignee.org_unit_id if assignee else None,
            summary=f"{person.employee_no} {person.name}: "
                    f"{bank_name(request.scheme, request.target_title)} "
                    f"({issued_on.isoformat()})",
        ))
    session.add_all(notices)
    session.flush()
    title = _title_labels(request)
    for notice in notices:  # mailed once to whoever it is for (it never waits on them)
        mail_filing_notice(session, notice=notice, instance=instance, appointee=person,
                           title=title, effective_from=issued_on)
    return appointment


def _title_labels(request: PromotionRequest) -> dict[str, str]:
    """The appointed title in both languages (the mail is written in its reader's)."""
    scheme = get_scheme(request.scheme)
    title = scheme.title(request.target_title)
    return dict(title.label) if title else {"en": request.target_title or "",
                                            "zh": request.target_title or ""}


def on_state_change(session: Session, compiled: Any, instance: WorkflowInstance,
                    result: runtime.FireResult) -> None:
    """Engine hook: reaching a promotion case's appointed state appoints the person; reaching
    an exit's final state takes the title away from the approved date."""
    if result.from_state == result.to_state:
        return
    if instance.context.get("exit_request_id") is not None:
        if result.to_state == instance.context.get("left_state"):
            from app.promotions.exits import record_exit

            record_exit(session, instance=instance,
                        event=session.get(AuditEvent, result.event_id))
        return
    request_id = instance.context.get("promotion_request_id")
    if request_id is None:
        return
    if result.to_state != instance.context.get("appointed_state", "appointed"):
        return
    request = session.get(PromotionRequest, request_id)
    if request is None or request.instance_id != instance.id:
        return
    record_appointment(session, request=request, instance=instance,
                       event=session.get(AuditEvent, result.event_id))


if on_state_change not in runtime.STATE_HOOKS:
    runtime.STATE_HOOKS.append(on_state_change)
