"""Putting messages in the outbox: once per key, held back for people who want a digest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.notifications.models import MessageStatus, NotificationPreference, OutboxMessage
from app.org.models import Person
from app.rows import insert_many_once, insert_once


def wants_digest(session: Session, person_id: int, default: bool) -> bool:
    """Whether a person gets one daily digest instead of single messages."""
    pref = session.exec(
        select(NotificationPreference).where(NotificationPreference.person_id == person_id)
    ).first()
    return pref.daily_digest if pref else default


def digest_wishes(session: Session, person_ids: set[int], default: bool) -> dict[int, bool]:
    """wants_digest for several people in one statement."""
    wishes = dict.fromkeys(person_ids, default)
    if person_ids:
        wishes.update(session.exec(
            select(NotificationPreference.person_id, NotificationPreference.daily_digest)
            .where(NotificationPreference.person_id.in_(sorted(person_ids)))
        ).all())
    return wishes


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


@dataclass(frozen=True)
class Notice:
    """One message to queue (the arguments of `enqueue`, for `enqueue_many`)."""

    key: str
    kind: str
    recipient: Person
    instance_id: int | None = None
    task_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    due_at: datetime | None = None


def enqueue_many(session: Session, notices: list[Notice], *, now: datetime,
                 digest_default: bool) -> int:
    """`enqueue` for several messages in two statements (the digest wishes, one insert that
    skips keys queued before); how many were new. A key repeated in the list counts once."""
    fresh: dict[str, Notice] = {}
    for notice in notices:
        fresh.setdefault(notice.key, notice)
    if not fresh:
        return 0
    held = digest_wishes(session, {n.recipient.id for n in fresh.values()  # type: ignore[misc]
                                   }, digest_default)
    return insert_many_once(session, OutboxMessage, [
        {
            "key": n.key,
            "kind": n.kind,
            "recipient_id": n.recipient.id,
            "instance_id": n.instance_id,
            "task_id": n.task_id,
            "params": n.params,
            "to_address": n.recipient.email,
            "locale": n.recipient.locale,
            "status": MessageStatus.held if held[n.recipient.id] else MessageStatus.pending,  # type: ignore[index]
            "send_after": min(n.due_at or now, now),
            "created_at": now,
        }
        for n in fresh.values()
    ])
