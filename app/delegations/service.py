"""Setting and revoking one's out-of-office delegation (the engine reads the Delegation rows)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from app.errors import NotFound, ValidationFailed
from app.i18n import Message
from app.org.models import Delegation, Person

REASON_LIMIT = 500


def mine(session: Session, person: Person, today: date) -> list[Delegation]:
    """My delegations that are current or still to come, earliest first."""
    return list(session.exec(
        select(Delegation)
        .where(Delegation.principal_id == person.id, Delegation.revoked_at.is_(None),
               Delegation.ends_on >= today)
        .order_by(Delegation.starts_on, Delegation.id)
    ))


def acting_for(session: Session, person: Person, today: date) -> list[Delegation]:
    """Delegations naming me as the delegate, current or to come."""
    return list(session.exec(
        select(Delegation)
        .where(Delegation.delegate_id == person.id, Delegation.revoked_at.is_(None),
               Delegation.ends_on >= today)
        .order_by(Delegation.starts_on, Delegation.id)
    ))


def _overlaps(a: Delegation, starts_on: date, ends_on: date, workflow: str | None) -> bool:
    same_scope = a.workflow is None or workflow is None or a.workflow == workflow
    return same_scope and a.starts_on <= ends_on and starts_on <= a.ends_on


def set_out_of_office(
    session: Session, *, principal: Person, delegate: Person | None, starts_on: date | None,
    ends_on: date | None, workflow: str | None, reason: str, today: date, now: datetime,
    known_workflows: set[str],
) -> Delegation:
    """Name a delegate for a period (every workflow, or one); checks every field at once."""
    errors: dict[str, Message] = {}
    if delegate is None:
        errors["delegate"] = Message("No active colleague has that employee number.")
    elif delegate.id == principal.id or not delegate.active:
        errors["delegate"] = Message("Choose an active colleague other than yourself.")
    if starts_on is None:
        errors["starts_on"] = Message("Give the first day (YYYY-MM-DD).")
    if ends_on is None:
        errors["ends_on"] = Message("Give the last day (YYYY-MM-DD).")
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = Message("The last day cannot be before the first day.")
        elif ends_on < today:
            errors["ends_on"] = Message("The period is already over.")
    if workflow and workflow not in known_workflows:
        errors["workflow"] = Message("Choose one of the offered options.")
    if len(reason) > REASON_LIMIT:
        errors["reason"] = Message("At most {n} characters.", {"n": REASON_LIMIT})
    if not errors and starts_on and ends_on:
        clash = next((d for d in mine(session, principal, today)
                      if _overlaps(d, starts_on, ends_on, workflow or None)), None)
        if clash is not None:
            errors["starts_on"] = Message(
                "You already have a delegation from {start} to {end}; revoke it first.",
                {"start": clash.starts_on.isoformat(), "end": clash.ends_on.isoformat()})
    if errors:
        raise ValidationFailed("Please correct the marked fields.", field_errors=errors)
    assert delegate is not None and starts_on is not None and ends_on is not None
    row = Delegation(principal_id=principal.id, delegate_id=delegate.id, starts_on=starts_on,
                     ends_on=ends_on, workflow=workflow or None, reason=reason.strip(),
                     created_at=now)
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, *, principal: Person, delegation_id: int, now: datetime) -> None:
    """End my delegation now (a revoked one no longer lets the delegate act)."""
    row = session.get(Delegation, delegation_id)
    if row is None or row.principal_id != principal.id or row.revoked_at is not None:
        raise NotFound("No such delegation.")
    row.revoked_at = now
    session.flush()
