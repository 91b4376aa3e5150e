"""Delivering the outbox: each message written for its reader, sent, and recorded the moment
the mail server accepts it; retried with backoff while the server is away.

How a message is held while it is sent, so that it goes out once however many schedulers run:
- PostgreSQL: due messages are claimed a batch at a time: one transaction locks them (FOR UPDATE
  SKIP LOCKED), takes a session-level advisory lock per message on the sender's own connection
  (skipping any another scheduler is sending), reads what they need together, and stores their
  copies and links; it commits, and the advisory locks stay. Then each goes out over the one
  SMTP connection and is recorded at once by a single autocommitted UPDATE on that connection
  (one round trip, no transaction per message); the batch's locks are released after its last
  record. Another scheduler skips a message while its lock is held; if this process dies, the
  database ends its session and drops the locks (at once if the host stays up to close the
  connection; after its TCP keepalives otherwise), and the next tick sends what was not
  recorded. Only the one in flight can repeat, with the same Message-ID and links (they are
  derived from the message): the same as one transaction per message, without its commits.
- SQLite (one writer): a short write transaction leases it to this worker, and the result is
  recorded only while the lease is still this worker's. A dead worker's lease runs out after
  outbox_lease_seconds (the write lock is never held while talking to the mail server).
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, or_, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from app import clock
from app.config import Settings
from app.db import transaction
from app.engine.registry import Registry
from app.notifications.compose import Composer, person_name
from app.notifications.mailer import Mailer, PermanentFailure, build_message, mailer_for
from app.notifications.models import CREDENTIAL_KINDS, MessageStatus, OutboxMessage
from app.org.models import Person
from app.rows import claim_transaction, skip_locked

MailerFactory = Callable[[Settings], Mailer]
FIRST_BATCH = 10  # messages claimed and written together (PostgreSQL) at first: small, so
# that several schedulers each find some while another writes its own; while the queue stays
# long the batches double, up to sweep_batch_size (the reads and statements of a batch are
# shared by its messages)
LOCK_SPACE = 0x5357_4F42  # the first key of the outbox's advisory locks: (LOCK_SPACE, message id)
ACTION_LINK = re.compile(r"/(?:act|password/reset)/[A-Za-z0-9_\-]+")


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    obsolete: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, status: str | None) -> None:
        """Count a message that ended without being sent."""
        if status == MessageStatus.obsolete:
            self.obsolete += 1
        elif status == MessageStatus.failed:
            self.failed += 1


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    kind: str
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str
    attempts: int
    request_id: str | None = None  # of the request that queued it (the X-Request-ID header)


def redact_links(text: str) -> str:
    """The text with every action-link token blanked out."""
    return ACTION_LINK.sub(lambda match: match.group(0).rsplit("/", 1)[0] + "/…", text)


def in_quiet_hours(at: datetime, settings: Settings) -> bool:
    """Whether it is night for the organisation: nothing is sent then, it waits for morning."""
    start, end = settings.quiet_hours_start, settings.quiet_hours_end
    if start == end:
        return False
    local: time = at.astimezone(clock.zone()).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Exponential wait before the next attempt: base, 2×base, 4×base… up to the cap."""
    seconds = settings.smtp_retry_base_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.smtp_retry_max_seconds))


def worker_name() -> str:
    """Who holds a lease: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:80]


def _due(now: datetime) -> Any:
    """Pending messages whose time has come and that no live lease holds, oldest first."""
    return (select(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.pending, OutboxMessage.send_after <= now,
                   or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now))
            .order_by(OutboxMessage.send_after, OutboxMessage.id))


def write(session: Session, row: OutboxMessage, now: datetime, settings: Settings,
          registry: Registry, needs_address: bool, keep_links: bool = False,
          composer: Composer | None = None) -> _Claimed | str:
    """Write a claimed message now, for its recipient (a retry writes it again: the wording is
    what is true today, the links are the same); when it is not to be sent, the status it got
    instead (obsolete: nothing true left to say; failed: not writable, or no address)."""
    if row.kind in CREDENTIAL_KINDS and not needs_address:
        row.status = MessageStatus.failed  # never written, so no token is ever minted
        row.last_error = "sent only by e-mail, and no mail server is configured"
        return row.status
    recipient = session.get(Person, row.recipient_id)
    assert recipient is not None
    try:
        email = (composer or Composer(session, settings, registry, now)).render(row, recipient)
    except Exception as exc:  # noqa: BLE001 - one broken message must not stop the rest
        row.status = MessageStatus.failed
        row.last_error = f"could not be written: {exc!r}"[:1000]
        return row.status
    if email is None:
        row.status = MessageStatus.obsolete
        return row.status
    # The demo mailbox is where its mail is read, so it keeps the links; a copy of mail that
    # went out by SMTP, or not at all, keeps none (a database leak hands out no links).
    keep = (lambda text: text) if keep_links else redact_links
    row.subject, row.body_text, row.body_html = email.subject, keep(email.text), keep(email.html)
    row.locale, row.to_address = recipient.locale, recipient.email
    if needs_address and not recipient.email:
        row.status = MessageStatus.failed
        row.last_error = "the recipient has no e-mail address"
        return row.status
    assert row.id is not None
    return _Claimed(row.id, row.key, row.kind, person_name(recipient, recipient.locale),
                    recipient.email, email.subject, email.text, email.html, row.attempts,
                    row.request_id)


def claim(session: Session, now: datetime, settings: Settings, registry: Registry,
          worker: str, needs_address: bool, *, lease: bool,
          keep_links: bool = False) -> _Claimed | str | None:
    """Take the next due message nobody else holds and write it: what to send, the status it
    got instead of being sent, or None when nothing is due.

    `lease`: also lease it to this worker (SQLite, where the claim commits before sending);
    on PostgreSQL the caller keeps the row locked until the result is recorded.
    """
    row = session.exec(skip_locked(_due(now).limit(1))).first()
    if row is None:
        return None
    item = write(session, row, now, settings, registry, needs_address, keep_links)
    if isinstance(item, _Claimed) and lease:
        row.lease_until = now + timedelta(seconds=settings.outbox_lease_seconds)
        row.leased_by = worker
    session.flush()
    return item


class _Outcome:
    """How sending one message went, written to its row."""

    def __init__(self, item: _Claimed, now: datetime, settings: Settings) -> None:
        self.item, self.now, self.settings = item, now, settings
        self.values: dict[str, object] = {}
        self.server_down = False

    def send(self, mailer: Mailer, report: DeliveryReport) -> None:
        """Hand the message to the mail server and note what became of it."""
        item = self.item
        message = build_message(
            settings=self.settings, key=item.key, kind=item.kind, to_name=item.to_name,
            to_address=item.to_address or "mailbox@stepwise.invalid", subject=item.subject,
            text=item.text, html=item.html, at=self.now, request_id=item.request_id)
        try:
            mailer.send(message)
        except PermanentFailure as exc:
            self.values = {"status": MessageStatus.failed, "attempts": item.attempts + 1,
                           "last_error": str(exc)[:1000]}
            report.failed += 1
            return
        except (smtplib.SMTPException, OSError) as exc:
            # The server is down or busy: this one waits its backoff; so do the others due.
            error = f"{type(exc).__name__}: {exc}"[:1000]
            report.errors.append(error)
            attempts = item.attempts + 1
            self.values = {"attempts": attempts, "last_error": error,
                           "send_after": self.now + backoff(attempts, self.settings)}
            report.retried += 1
            self.server_down = True
            return
        self.values = {"status": MessageStatus.sent, "sent_at": self.now,
                       "transport": mailer.transport, "last_error": ""}
        report.sent += 1


def _prepare(engine: Engine, locks: Connection, now: datetime, settings: Settings,
             registry: Registry, needs_address: bool, keep_links: bool, size: int,
             report: DeliveryReport) -> tuple[list[_Claimed], list[int]] | None:
    """Claim and write the next batch of due messages in one transaction (PostgreSQL): rows
    locked, each one's advisory lock taken on `locks` (those another scheduler is sending are
    left alone), their cases, tasks and people read together, templates compiled once, links
    stored in one round trip, the copies kept; what to send and the ids whose locks it took
    (None when nothing is due). After the commit only the advisory locks hold the messages,
    until `_release`."""
    # messages another scheduler is sending right now (committed, so no longer row-locked)
    busy = list(locks.execute(_busy_locks(), {"space": LOCK_SPACE}).scalars())
    with claim_transaction(engine) as session:
        due = _due(now)
        if busy:
            due = due.where(OutboxMessage.id.not_in(busy))
        rows = list(session.exec(skip_locked(due.limit(size))))
        if not rows:
            return None
        # Taken while this transaction's row locks hold the rows, so each is still pending and
        # nobody can record it sent before we hold it; a scheduler that has one in flight
        # holds its lock, so the try fails and we leave that one alone.
        held = set(locks.execute(_try_locks(), {"space": LOCK_SPACE,
                                                "ids": [r.id for r in rows]}).scalars())
        locks.commit()
        rows = [r for r in rows if r.id in held]  # the others were taken since `busy`
        composer = Composer(session, settings, registry, now)
        items: list[_Claimed] = []
        with session.no_autoflush:  # the copies are written together at the end
            composer.prefetch(rows)
            for row in rows:
                item = write(session, row, now, settings, registry, needs_address, keep_links,
                             composer)
                if isinstance(item, _Claimed):
                    items.append(item)
                else:
                    report.count(item)
            composer.store_links()
        session.flush()
    return items, sorted(held)


@cache
def _busy_locks() -> Any:
    """The message ids whose advisory locks some session holds."""
    return text("SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
                " AND classid::bigint = :space AND objsubid = 2 AND granted")


@cache
def _try_locks() -> Any:
    """The ids whose advisory lock this session could take now (tried once per id)."""
    return text("SELECT id FROM unnest(CAST(:ids AS integer[])) AS id"
                " WHERE pg_try_advisory_lock(CAST(:space AS integer), id)")


def _release(locks: Connection, ids: list[int]) -> None:
    """Give back the advisory locks of a batch, after its last record."""
    if ids:
        released = locks.execute(text(
            "SELECT bool_and(pg_advisory_unlock(CAST(:space AS integer), id))"
            " FROM unnest(CAST(:ids AS integer[])) AS id"),
            {"space": LOCK_SPACE, "ids": ids}).scalar()
        locks.commit()
        if not released:
            # Another database session took, recorded or gives back these statements: a
            # transaction-mode pooler between the scheduler and PostgreSQL (docs/operations.md).
            raise RuntimeError("Mail delivery lost its advisory locks: connect the scheduler "
                               "to PostgreSQL directly or through a session-mode pooler.")


@cache
def _mark(columns: tuple[str, ...]) -> Any:
    """UPDATE one message by id, setting these columns (one statement per shape of outcome,
    built and compiled once)."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    return (update(table).where(table.c.id == bindparam("message_id"))
            .values({c: bindparam(f"v_{c}") for c in columns}))


def _send_batch(locks: Connection, mailer: Mailer, items: list[_Claimed], now: datetime,
                settings: Settings, report: DeliveryReport) -> bool:
    """Send a claimed batch over the mailer's one connection, recording each message the
    moment the server has answered; whether the server is down (the rest then wait)."""
    for item in items:
        outcome = _Outcome(item, now, settings)
        outcome.send(mailer, report)
        _note_outcome(locks, item.id, outcome.values)
        if outcome.server_down:
            return True
    return False


def _note_outcome(locks: Connection, message_id: int, values: dict[str, object]) -> None:
    """Write what became of one message: one autocommitted statement, durable on return."""
    columns = tuple(sorted(values))
    locks.execute(_mark(columns), {"message_id": message_id,
                                   **{f"v_{c}": values[c] for c in columns}})
    locks.commit()


def _send_one(engine: Engine, mailer: Mailer, now: datetime, settings: Settings,
              registry: Registry, worker: str, report: DeliveryReport) -> tuple[bool, bool]:
    """Claim, write, send and record one message; (found one, the server is down).

    PostgreSQL: one transaction holds the message's row lock from the claim to the record.
    SQLite: a short write transaction leases it; the result is recorded afterwards, only while
    the lease is still this worker's.
    """
    locked = engine.dialect.name == "postgresql"
    with claim_transaction(engine) as session:
        item = claim(session, now, settings, registry, worker, mailer.transport == "smtp",
                     lease=not locked, keep_links=mailer.transport == "mailbox")
        if not isinstance(item, _Claimed):
            report.count(item)
            return item is not None, False
        outcome = _Outcome(item, now, settings)
        if locked:
            outcome.send(mailer, report)
            _record(session, item.id, outcome.values)
            return True, outcome.server_down
    try:
        outcome.send(mailer, report)
    finally:  # a run killed while sending hands the message straight back to the next run
        with transaction(engine) as session:
            _record(session, item.id, {"lease_until": None, "leased_by": "", **outcome.values},
                    worker)
    return True, outcome.server_down


def _record(session: Session, message_id: int, values: dict[str, object],
            leased_by: str | None = None) -> None:
    """Write what became of a message (under a lease: only while the lease is the worker's)."""
    statement = update(OutboxMessage).where(OutboxMessage.id == message_id)
    if leased_by is not None:
        statement = statement.where(OutboxMessage.leased_by == leased_by)
    session.execute(statement.values(**values).execution_options(synchronize_session=False))


def _defer_due(engine: Engine, now: datetime, settings: Settings, error: str,
               report: DeliveryReport, sending_elsewhere: list[int] | None = None) -> None:
    """The mail server is away: every other due message waits its backoff as well (HR sees
    them waiting), instead of each trying the server again in this run; messages another
    scheduler is sending right now are left to it."""
    with claim_transaction(engine) as session:
        due = _due(now)
        if sending_elsewhere:
            due = due.where(OutboxMessage.id.not_in(sending_elsewhere))
        rows = session.exec(skip_locked(due)).all()
        by_attempts: dict[int, list[int]] = {}
        for row in rows:
            by_attempts.setdefault(row.attempts + 1, []).append(row.id)  # type: ignore[arg-type]
        for attempts, ids in by_attempts.items():
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(
                attempts=attempts, last_error=error, send_after=now + backoff(attempts, settings))
                .execution_options(synchronize_session=False))
        report.retried += len(rows)


def deliver_outbox(engine: Engine, now: datetime, *, settings: Settings, registry: Registry,
                   mailer_factory: MailerFactory = mailer_for,
                   worker: str | None = None) -> DeliveryReport:
    """Send every due message once; on failure retry later with backoff, losing none."""
    report = DeliveryReport()
    if in_quiet_hours(now, settings):
        return report
    worker = worker or worker_name()
    with mailer_factory(settings) as mailer:
        if engine.dialect.name == "postgresql":
            _deliver_batches(engine, mailer, now, settings, registry, report)
            return report
        while True:
            found, server_down = _send_one(engine, mailer, now, settings, registry, worker,
                                           report)
            if server_down:
                _defer_due(engine, now, settings, report.errors[-1], report)
                return report
            if not found:
                return report


def _deliver_batches(engine: Engine, mailer: Mailer, now: datetime, settings: Settings,
                     registry: Registry, report: DeliveryReport) -> None:
    """PostgreSQL: claim and write a batch together, then send its messages one by one over one
    SMTP connection, each recorded by one autocommitted statement while its advisory lock
    holds it (only the one in flight can repeat)."""
    size = FIRST_BATCH
    # Its own connection: the advisory locks belong to its database session, which ends (and
    # drops them) if this process dies.
    locks = engine.connect()
    try:
        locks.execution_options(isolation_level="AUTOCOMMIT")
        while True:
            claimed = _prepare(engine, locks, now, settings, registry,
                               mailer.transport == "smtp", mailer.transport == "mailbox", size,
                               report)
            if claimed is None:
                return
            items, held = claimed
            try:
                if _send_batch(locks, mailer, items, now, settings, report):
                    # the rest of this batch (still ours) waits with every other due message
                    ours = set(held)
                    elsewhere = [i for i in locks.execute(
                        _busy_locks(), {"space": LOCK_SPACE}).scalars() if i not in ours]
                    _defer_due(engine, now, settings, report.errors[-1], report, elsewhere)
                    return
            finally:
                _release(locks, held)
            size = min(size * 2, max(settings.sweep_batch_size, FIRST_BATCH))
    except BaseException:
        # A connection that may still hold locks never goes back to the pool.
        locks.invalidate()
        raise
    finally:
        locks.close()


def retry_now(session: Session, message_id: int, now: datetime) -> bool:
    """HR asks for another attempt of a failed or waiting message (it keeps its content)."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.status not in (MessageStatus.failed, MessageStatus.pending):
        return False
    row.status = MessageStatus.pending
    row.send_after = now
    row.lease_until = None
    session.flush()
    return True
