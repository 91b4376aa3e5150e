"""The audit trail: one hash-chained, key-sealed event per thing that happened to an instance.

Each event hashes its content and the hash of the event before it (SHA-256), and is sealed
with an HMAC of that hash under an audit key that lives in the settings, never in the
database: someone who can write to the database can delete or edit rows and recompute every
hash, but cannot make a seal. The head row remembers each chain's last event (sealed too), so
dropping the newest events is noticed; signed checkpoints outside the database
(app/engine/audit_checkpoints.py) catch what the key alone cannot (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlmodel import Session, select

from app.config import Settings, get_settings
from app.engine.models import AuditEvent, AuditHead, WorkflowInstance

# Outside production, without configured keys, events are sealed with this well-known key: it
# proves nothing, and `audit verify` in production (which requires real keys) rejects it.
DEVELOPMENT_KEY_ID = "dev"
DEVELOPMENT_KEY = b"stepwise development audit key: seals nothing of value"


def canonical_json(value: Any) -> str:
    """A stable JSON text (sorted keys, no spaces) so equal data hashes equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash(event: Any) -> str:
    """The hash that seals an event (or a row with its fields) with the one before it."""
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


@dataclass(frozen=True)
class Keyring:
    """The audit keys by id: `current` seals new events, every key still verifies old ones
    (rotation adds a key and makes it current; the old one stays until no event needs it)."""

    keys: dict[str, bytes]
    current: str

    def seal(self, key_id: str, message: str) -> str | None:
        """HMAC-SHA256 of a message under one key; None when the key is unknown."""
        key = self.keys.get(key_id)
        if key is None:
            return None
        return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def keyring_from(settings: Settings) -> Keyring:
    """The keys the settings name (STEPWISE_AUDIT_KEYS / _KEY_ID), or the development key."""
    if not settings.audit_keys:
        return Keyring({DEVELOPMENT_KEY_ID: DEVELOPMENT_KEY}, DEVELOPMENT_KEY_ID)
    keys = {key_id: secret.encode("utf-8") for key_id, secret in settings.audit_keys.items()}
    return Keyring(keys, settings.audit_key_id or next(iter(keys)))


_installed: Keyring | None = None


def use_keys(keyring: Keyring | None) -> None:
    """Seal with these keys from now on (the app installs its settings' keys at start-up;
    None goes back to the process settings)."""
    global _installed
    _installed = keyring


def current_keyring() -> Keyring:
    """The keys in use: the installed ones, else those of the process settings."""
    return _installed if _installed is not None else keyring_from(get_settings())


def _event_message(key_id: str, hash_: str) -> str:
    return f"event\n{key_id}\n{hash_}"


def _head_message(instance_id: int, seq: int, hash_: str) -> str:
    return f"head\n{instance_id}\n{seq}\n{hash_}"


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
) -> int:
    """Add the next event of an instance's chain (after the instance row is locked); its id.

    Written with Core statements on the session's connection: this runs on every action, and
    the rows are append-only, so the unit of work has nothing to track (one read, two writes).
    """
    read_head, read_last, insert_event, insert_head, move_head = _statements()
    keyring = current_keyring()
    conn = session.connection()
    last = conn.execute(read_head, {"instance_id": instance_id}).first()
    has_head = last is not None
    if last is None:  # chains begun before the head table existed
        last = conn.execute(read_last, {"instance_id": instance_id}).first()
    # A plain row, not an AuditEvent: nothing tracks it, and building the model costs more
    # than the insert (fire needs only the id).
    seq = (last[0] + 1) if last else 1
    row = {"instance_id": instance_id, "seq": seq, "at": at, "actor_id": actor_id,
           "on_behalf_of_id": on_behalf_of_id, "trigger": trigger, "from_state": from_state,
           "to_state": to_state, "comment": comment, "payload": payload,
           "payload_hash": sha256_hex(canonical_json(payload)),
           "prev_hash": last[1] if last else "", "key_id": keyring.current}
    digest = row["hash"] = event_hash(SimpleNamespace(**row))
    row["seal"] = keyring.seal(keyring.current, _event_message(keyring.current, digest)) or ""
    event_id = conn.execute(insert_event, row).scalar_one()
    head = {"seq": seq, "hash": digest, "at": at,
            "seal": keyring.seal(keyring.current, _head_message(instance_id, seq, digest))}
    if has_head:
        conn.execute(move_head, {"head_id": instance_id, **head})
    else:
        conn.execute(insert_head, {"instance_id": instance_id, **head})
    return event_id


@cache
def _statements() -> tuple[Any, ...]:
    """The chain's statements, built once (Core: compiled once, cached by SQLAlchemy)."""
    head_t, event_t = AuditHead.__table__, AuditEvent.__table__  # type: ignore[attr-defined]
    read_head = select(head_t.c.seq, head_t.c.hash).where(
        head_t.c.instance_id == bindparam("instance_id"))
    read_last = (select(event_t.c.seq, event_t.c.hash)
                 .where(event_t.c.instance_id == bindparam("instance_id"))
                 .order_by(event_t.c.seq.desc()).limit(1))
    move_head = (update(head_t).where(head_t.c.instance_id == bindparam("head_id"))
                 .values(seq=bindparam("seq"), hash=bindparam("hash"), at=bindparam("at"),
                         seal=bindparam("seal")))
    return (read_head, read_last, insert(event_t).returning(event_t.c.id), insert(head_t),
            move_head)


def trail(session: Session, instance_id: int) -> list[AuditEvent]:
    """An instance's events in order."""
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
        )
    )


# --- verification -------------------------------------------------------------------------

PROBLEMS = {
    "missing": "an event is missing (deleted)",
    "prev_hash": "the event does not follow the one before it",
    "payload": "the event's data was changed",
    "hash": "the event was changed",
    "seal": "the event's seal does not match: changed or written without the audit key",
    "unknown_key": "the event is sealed with a key that is not configured",
    "unsealed": "the event has no seal (written before sealing existed, or its seal was "
                "removed; after an upgrade, run `stepwise audit seal` once)",
    "head": "the chain's last event does not match its head (events deleted or replaced)",
    "head_seal": "the chain's head was changed without the audit key",
    "no_history": "the case has no audit history (deleted)",
    "no_case": "audit events or a head exist for a case that does not",
    "rewritten": "the event differs from the signed checkpoint",
    "truncated": "events recorded in a signed checkpoint are gone",
    "deleted": "the case is in a signed checkpoint but no longer in the database",
    "unchecked": "the event is older than the newest checkpoint but in none (a checkpoint "
                 "was suppressed, or the event was back-dated)",
}


@dataclass(frozen=True)
class Break:
    """The first broken link of an instance's chain: where, and what is wrong."""

    instance_id: int
    seq: int
    problem: str

    @property
    def explanation(self) -> str:
        """What the problem means, in a sentence."""
        return PROBLEMS.get(self.problem, self.problem)


@dataclass(frozen=True)
class CheckpointedHead:
    """An instance's chain head as a signed checkpoint recorded it."""

    seq: int
    hash: str


@dataclass
class Expectations:
    """What signed checkpoints say the database must still hold (see audit_checkpoints)."""

    heads: dict[int, CheckpointedHead] = field(default_factory=dict)
    covered_before: datetime | None = None  # events older than this must be checkpointed


def _event_break(instance_id: int, event: AuditEvent, expected_seq: int, prev_hash: str,
                 keyring: Keyring) -> Break | None:
    """The problem of one event in its place in the chain, if any."""
    if event.seq != expected_seq:
        return Break(instance_id, expected_seq, "missing")
    if event.prev_hash != prev_hash:
        return Break(instance_id, event.seq, "prev_hash")
    if event.payload_hash != sha256_hex(canonical_json(event.payload)):
        return Break(instance_id, event.seq, "payload")
    if event.hash != event_hash(event):
        return Break(instance_id, event.seq, "hash")
    if not event.seal:
        return Break(instance_id, event.seq, "unsealed")
    expected_seal = keyring.seal(event.key_id, _event_message(event.key_id, event.hash))
    if expected_seal is None:
        return Break(instance_id, event.seq, "unknown_key")
    if not hmac.compare_digest(expected_seal, event.seal or ""):
        return Break(instance_id, event.seq, "seal")
    return None


def _chain_break(instance_id: int, events: list[AuditEvent], head: AuditHead | None,
                 keyring: Keyring, expected: Expectations | None = None) -> Break | None:
    """The first broken link of one chain, or None when it is whole."""
    if not events and head is None:
        return Break(instance_id, 1, "no_history")
    prev_hash, expected_seq, key_of = "", 1, {}
    for event in events:
        found = _event_break(instance_id, event, expected_seq, prev_hash, keyring)
        if found is not None:
            return found
        key_of[event.seq] = event.key_id
        prev_hash, expected_seq = event.hash, expected_seq + 1
    if head is not None and head.seq > len(events):
        return Break(instance_id, len(events) + 1, "missing")  # the newest events are gone
    if head is None or head.seq != len(events) or head.hash != prev_hash:
        return Break(instance_id, len(events), "head")
    head_seal = keyring.seal(key_of[head.seq], _head_message(instance_id, head.seq, head.hash))
    if head_seal is None or not hmac.compare_digest(head_seal, head.seal or ""):
        return Break(instance_id, head.seq, "head_seal")
    return _checkpoint_break(instance_id, events, expected) if expected else None


def _checkpoint_break(instance_id: int, events: list[AuditEvent],
                      expected: Expectations) -> Break | None:
    """Where a whole chain disagrees with what signed checkpoints recorded of it."""
    recorded = expected.heads.get(instance_id)
    if recorded is not None:
        if len(events) < recorded.seq:
            return Break(instance_id, len(events) + 1, "truncated")
        if events[recorded.seq - 1].hash != recorded.hash:
            return Break(instance_id, recorded.seq, "rewritten")
    if expected.covered_before is not None:
        covered = recorded.seq if recorded is not None else 0
        for event in events[covered:]:
            if event.at < expected.covered_before:
                return Break(instance_id, event.seq, "unchecked")
    return None


def verify(session: Session, instance_id: int | None = None, *,
           keyring: Keyring | None = None, expected: Expectations | None = None,
           progress: Callable[[int, int], None] | None = None,
           batch_size: int = 500) -> list[Break]:
    """Check every chain (or one) against the keys and, if given, the signed checkpoints:
    every case must have a whole, sealed chain; every head and event a case. The first break
    per instance, in instance order."""
    keyring = keyring or current_keyring()
    ids_query = select(WorkflowInstance.id).order_by(WorkflowInstance.id)
    if instance_id is not None:
        ids_query = ids_query.where(WorkflowInstance.id == instance_id)
    ids = list(session.exec(ids_query))
    breaks: list[Break] = []
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        events: dict[int, list[AuditEvent]] = {iid: [] for iid in batch}
        for event in session.exec(select(AuditEvent).where(AuditEvent.instance_id.in_(batch))
                                  .order_by(AuditEvent.instance_id, AuditEvent.seq)):
            events[event.instance_id].append(event)
        heads = {h.instance_id: h for h in session.exec(
            select(AuditHead).where(AuditHead.instance_id.in_(batch)))}
        for iid in batch:
            found = _chain_break(iid, events[iid], heads.get(iid), keyring, expected)
            if found is not None:
                breaks.append(found)
        for row in [*heads.values(), *(e for chain in events.values() for e in chain)]:
            session.expunge(row)  # a long verification keeps no rows it has checked
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))
    if instance_id is None:
        known = set(ids)
        breaks += [Break(iid, 0, "no_case") for iid in sorted(_orphans(session) - known)]
        if expected is not None:
            breaks += [Break(iid, 0, "deleted")
                       for iid in sorted(expected.heads) if iid not in known]
    return sorted(breaks, key=lambda b: b.instance_id)


def _orphans(session: Session) -> set[int]:
    """Instance ids that audit rows name but no instance row has."""
    cases = select(WorkflowInstance.id)
    found = set(session.exec(select(AuditEvent.instance_id).distinct()
                             .where(AuditEvent.instance_id.not_in(cases))))
    return found | set(session.exec(select(AuditHead.instance_id)
                                    .where(AuditHead.instance_id.not_in(cases))))


def seal_unsealed(session: Session, *, keyring: Keyring | None = None) -> tuple[int, list[Break]]:
    """Seal the events written before sealing existed (run once after the upgrade): only
    chains that are otherwise whole are sealed. How many events were sealed, and the chains
    left alone because they are broken."""
    keyring = keyring or current_keyring()
    instance_ids = sorted(set(session.exec(
        select(AuditEvent.instance_id).distinct().where(AuditEvent.seal == ""))))
    sealed, broken = 0, []
    for iid in instance_ids:
        events = trail(session, iid)
        head = session.get(AuditHead, iid)
        prev_hash, problem = "", None
        for position, event in enumerate(events, start=1):
            if (event.seq != position or event.prev_hash != prev_hash
                    or event.payload_hash != sha256_hex(canonical_json(event.payload))
                    or event.hash != event_hash(event)):
                problem = Break(iid, position, "hash")
                break
            prev_hash = event.hash
        if problem is None and head is not None and (head.seq, head.hash) != (
                len(events), prev_hash):
            problem = Break(iid, head.seq, "head")
        if problem is not None:
            broken.append(problem)
            continue
        for event in events:
            if not event.seal:
                event.key_id = keyring.current
                event.seal = keyring.seal(keyring.current,
                                          _event_message(keyring.current, event.hash)) or ""
                sealed += 1
        last = events[-1]
        if head is None:
            head = AuditHead(instance_id=iid, seq=last.seq, hash=last.hash, at=last.at)
        head.seal = keyring.seal(last.key_id, _head_message(iid, last.seq, last.hash)) or ""
        session.add(head)
        session.flush()
    return sealed, broken


def event_count(session: Session) -> int:
    """How many audit events there are (for progress bars)."""
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


def heads_changed_since(session: Session, since: datetime | None) -> Iterable[tuple[int, int,
                                                                                   str]]:
    """(instance, seq, hash) of every chain head that moved at or after `since` (all when
    None), in instance order: what a checkpoint records."""
    query = select(AuditHead.instance_id, AuditHead.seq, AuditHead.hash)
    if since is not None:
        query = query.where((AuditHead.at.is_(None)) | (AuditHead.at >= since))
    return session.exec(query.order_by(AuditHead.instance_id)).yield_per(5000)
