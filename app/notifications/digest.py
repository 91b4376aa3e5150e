"""The daily digest: one message a day for people who asked for it, listing what waited."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from app import clock
from app.config import Settings
from app.notifications.models import MessageKind, MessageStatus, OutboxMessage
from app.rows import claim_transaction, insert_once, skip_locked


def digest_cutoff(now: datetime, settings: Settings) -> datetime | None:
    """Today's digest moment, once it has passed (None before it)."""
    local = now.astimezone(clock.zone())
    cutoff = datetime.combine(local.date(), settings.digest_time, tzinfo=clock.zone())
    return cutoff if local >= cutoff else None


def build_digests(engine: Engine, now: datetime, *, settings: Settings) -> int:
    """Once a day, after the digest time, gather into one message per person what fell due
    before it; how many digests were queued."""
    cutoff = digest_cutoff(now, settings)
    if cutoff is None:
        return 0
    built = 0
    with claim_transaction(engine) as session:
        held = session.exec(skip_locked(
            select(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.held,
                   OutboxMessage.send_after <= cutoff)
            .order_by(OutboxMessage.recipient_id, OutboxMessage.id)
        )).all()
        if not held:
            return 0
        by_person: dict[int, list[OutboxMessage]] = defaultdict(list)
        for message in held:
            by_person[message.recipient_id].append(message)
        had_today = set(session.exec(select(OutboxMessage.recipient_id).where(
            OutboxMessage.kind == MessageKind.digest, OutboxMessage.created_at >= cutoff,
            OutboxMessage.recipient_id.in_(list(by_person)))))
        day = cutoff.date().isoformat()
        for person_id, items in by_person.items():
            if person_id in had_today:
                continue  # one digest a day; what came later waits for tomorrow's
            digest_id = insert_once(session, OutboxMessage, {
                "key": f"digest:p{person_id}:{day}:{items[0].id}",
                "kind": MessageKind.digest,
                "recipient_id": person_id,
                "params": {"count": len(items)},
                "to_address": items[-1].to_address,
                "locale": items[-1].locale,
                "status": MessageStatus.pending,
                "send_after": now,
                "created_at": now,
            })
            if digest_id is None:
                continue
            for item in items:
                item.status = MessageStatus.digested
                item.digest_id = digest_id
            built += 1
    return built
