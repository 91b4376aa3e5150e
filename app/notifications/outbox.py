"""Putting messages in the outbox: once per key, held back for people who want a digest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.notifications.models import MessageStatus, NotificationPreference, OutboxMessage
from app.org.models import Person
from app.rows import insert_once


def wants_digest(session: Session, person_id: int, default: bool) -> bool:
    """Whether a person gets one daily digest instead of single messages."""
    pref = session.exec(
        select(NotificationPreference).where(NotificationPreference.person_id == person_id)
    ).first()
    return pref.daily_digest if pref else default


def set_digest(session: Session, *, person: Person, daily_digest: bool, now: datetime) -> None:
    """Record a person's choice between single messages and a daily digest."""
    pref = session.exec(
        select(NotificationPreference).where(NotificationPreference.person_id == person.id)
    ).first()
    if pref is None:
        pref = NotificationPreference(person_id=person.id)
        session.add(pref)
    pref.daily_digest = daily_digest
    pref.updated_at = now
    session.flush()


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    recipient: Person,
    now: datetime,
    digest_default: bool,
    instance_id: int | None = None,
    task_id: int | None = None,
    params: dict[str, Any] | None = None,
    due_at: datetime | None = None,
) -> int | None:
    """Queue one message unless its key was queued before; the new row's id, or None.

    `due_at` is when the message became due (a timer's moment; default now): the daily digest
    takes what fell due before its time. The body is written when the message is delivered.
    """
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).first():
        return None
    held = wants_digest(session, recipient.id, digest_default)
    return insert_once(
        session,
        OutboxMessage,
        {
            "key": key,
            "kind": kind,
            "recipient_id": recipient.id,
            "instance_id": instance_id,
            "task_id": task_id,
            "params": params or {},
            "to_address": recipient.email,
            "locale": recipient.locale,
            "status": MessageStatus.held if held else MessageStatus.pending,
            "send_after": min(due_at or now, now),
            "created_at": now,
        },
    )
