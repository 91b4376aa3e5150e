"""The audit trail: one hash-chained event per thing that happened to an instance."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, update
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
    """Add the next event of an instance's chain (call after the instance row is locked).

    Written with Core statements on the session's connection: this runs on every action, and
    the rows are append-only, so the unit of work has nothing to track (one read, two writes).
    """
    read_head, read_last, insert_event, insert_head, move_head = _statements()
    conn = session.connection()
    last = conn.execute(read_head, {"instance_id": instance_id}).first()
    has_head = last is not None
    if last is None:  # chains begun before the head table existed
        last = conn.execute(read_last, {"instance_id": instance_id}).first()
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
    row = {c: getattr(event, c) for c in _EVENT_COLUMNS}
    event.id = conn.execute(insert_event, row).scalar_one()
    if has_head:
        conn.execute(move_head, {"head_id": instance_id, "seq": event.seq, "hash": event.hash})
    else:
        conn.execute(insert_head, {"instance_id": instance_id, "seq": event.seq,
                                   "hash": event.hash})
    return event


@cache
def _statements() -> tuple[Any, ...]:
    """The chain's statements, built once (Core: compiled once, cached by SQLAlchemy)."""
    from app.auth.models import AuditHead

    head_t, event_t = AuditHead.__table__, AuditEvent.__table__  # type: ignore[attr-defined]
    read_head = select(head_t.c.seq, head_t.c.hash).where(
        head_t.c.instance_id == bindparam("instance_id"))
    read_last = (select(event_t.c.seq, event_t.c.hash)
                 .where(event_t.c.instance_id == bindparam("instance_id"))
                 .order_by(event_t.c.seq.desc()).limit(1))
    move_head = (update(head_t).where(head_t.c.instance_id == bindparam("head_id"))
                 .values(seq=bindparam("seq"), hash=bindparam("hash")))
    return (read_head, read_last, insert(event_t).returning(event_t.c.id), insert(head_t),
            move_head)


_EVENT_COLUMNS = ("instance_id", "seq", "at", "actor_id", "on_behalf_of_id", "trigger",
                  "from_state", "to_state", "comment", "payload", "payload_hash", "prev_hash",
                  "hash")


def trail(session: Session, instance_id: int) -> list[AuditEvent]:
    """An instance's events in order."""
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        )
    )


@dataclass(frozen=True)
class Break:
    """The first broken link of an instance's chain: where, and what is wrong."""

    instance_id: int
    seq: int
    problem: str


def _chain_break(instance_id: int, events: list[AuditEvent], head: Any) -> Break | None:
    """The first broken link of one chain, or None when it is whole."""
    prev_hash, expected_seq = "", 1
    for event in events:
        if event.seq != expected_seq:
            return Break(instance_id, expected_seq, "missing")
        if event.prev_hash != prev_hash:
            return Break(instance_id, event.seq, "prev_hash")
        if event.payload_hash != sha256_hex(canonical_json(event.payload)):
            return Break(instance_id, event.seq, "payload")
        if event.hash != event_hash(event):
            return Break(instance_id, event.seq, "hash")
        prev_hash, expected_seq = event.hash, expected_seq + 1
    if head is not None and head.seq > len(events):
        return Break(instance_id, len(events) + 1, "missing")
    if head is not None and head.seq == len(events) and head.hash != prev_hash:
        return Break(instance_id, head.seq, "head")
    return None


def verify(session: Session, instance_id: int | None = None) -> list[Break]:
    """Check every chain (or one): the first break per instance, in instance order."""
    from app.auth.models import AuditHead
    from app.engine.models import WorkflowInstance

    ids_query = select(WorkflowInstance.id).order_by(WorkflowInstance.id)
    if instance_id is not None:
        ids_query = ids_query.where(WorkflowInstance.id == instance_id)
    breaks = []
    for iid in session.exec(ids_query):
        found = _chain_break(iid, trail(session, iid), session.get(AuditHead, iid))
        if found is not None:
            breaks.append(found)
    return breaks
