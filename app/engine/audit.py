"""The audit trail: one hash-chained event per thing that happened to an instance."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.engine.models import AuditEvent


def canonical_json(value: Any) -> str:
    """A stable JSON text (sorted keys, no spaces) so equal data hashes equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash(event: AuditEvent) -> str:
    """The hash that seals an event together with the hash of the one before it."""
    at: datetime = event.at
    sealed = {
        "instance_id": event.instance_id,
        "seq": event.seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "on_behalf_of_id": event.on_behalf_of_id,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "comment": event.comment,
        "payload_hash": event.payload_hash,
        "prev_hash": event.prev_hash,
    }
    return sha256_hex(canonical_json(sealed))


def append(
    session: Session,
    *,
    instance_id: int,
    at: datetime,
    actor_id: int | None,
    on_behalf_of_id: int | None,
    trigger: str,
    from_state: str | None,
    to_state: str,
    comment: str,
    payload: dict[str, Any],
) -> AuditEvent:
    """Add the next event of an instance's chain (call after the instance row is locked)."""
    last = session.exec(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.instance_id == instance_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    event = AuditEvent(
        instance_id=instance_id,
        seq=(last[0] + 1) if last else 1,
        at=at,
        actor_id=actor_id,
        on_behalf_of_id=on_behalf_of_id,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        payload=payload,
        payload_hash=sha256_hex(canonical_json(payload)),
        prev_hash=last[1] if last else "",
        hash="",
    )
    event.hash = event_hash(event)
    session.add(event)
    return event


def trail(session: Session, instance_id: int) -> list[AuditEvent]:
    """An instance's events in order."""
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        )
    )
