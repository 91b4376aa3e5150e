"""Delivering the outbox: each message written for its reader, sent, and recorded the moment
the mail server accepts it; retried with backoff while the server is away.

How a message is held while it is sent, so that it goes out once however many schedulers run:
- PostgreSQL: due messages are written a few at a time (one transaction reads what they need
  together and stores their copies and links), then each is sent in its own transaction: one
  statement locks it (FOR UPDATE SKIP LOCKED), re-checks it is still due and marks it sent; the
  mail goes out; the commit records it. Another scheduler skips it; if this process dies, the
  database drops the lock and the mark at once and the next tick sends it. Only the one in
  flight can repeat, with the same Message-ID and links (they are derived from the message).
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

from sqlalchemy import bindparam, or_, update
from sqlalchemy.engine import Engine
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
PREPARE_BATCH = 10  # messages written together (PostgreSQL), each still sent on its own;
# small, so that several schedulers each find some to write while another writes its own
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


def _prepare(engine: Engine, now: datetime, settings: Settings, registry: Registry,
             needs_address: bool, keep_links: bool, report: DeliveryReport
             ) -> list[_Claimed] | None:
    """Write the next batch of due messages in one transaction (PostgreSQL): their cases,
    tasks and people read together, templates compiled once for the batch, links stored, the
    copies kept; what to send (None when nothing is due). Nothing is held afterwards: each one
    is locked again when it is sent, so another scheduler that wrote it too cannot send it
    twice."""
    with claim_transaction(engine) as session:
        rows = list(session.exec(skip_locked(_due(now).limit(PREPARE_BATCH))))
        if not rows:
            return None
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
    return items


def _send_prepared(engine: Engine, mailer: Mailer, item: _Claimed, now: datetime,
                   settings: Settings, report: DeliveryReport) -> bool:
    """Lock one written message and mark it sent (one statement: a message another scheduler
    holds or has sent is left alone), send it, commit; a refusal or a server away rewrites
    the mark in the same transaction. Whether the server is down."""
    with claim_transaction(engine) as session:
        conn = session.connection()
        taken = conn.execute(_take(), {"message_id": item.id, "now": now,
                                       "transport": mailer.transport}).first()
        if taken is None:
            return False
        outcome = _Outcome(item, now, settings)
        outcome.send(mailer, report)
        if outcome.values.get("status") != MessageStatus.sent:
            # not sent after all: the row goes back to what it was, with the attempt counted
            _record(session, item.id, {"status": MessageStatus.pending, "sent_at": None,
                                       "transport": "", **outcome.values})
        return outcome.server_down


@cache
def _take() -> Any:
    """UPDATE the message as sent WHERE it is still due and nobody holds it (SKIP LOCKED)."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    held = (select(table.c.id)
            .where(table.c.id == bindparam("message_id"),
                   table.c.status == MessageStatus.pending,
                   table.c.send_after <= bindparam("now"),
                   or_(table.c.lease_until.is_(None), table.c.lease_until < bindparam("now")))
            .with_for_update(skip_locked=True).scalar_subquery())
    return (update(table).where(table.c.id == held)
            .values(status=MessageStatus.sent, sent_at=bindparam("now"),
                    transport=bindparam("transport"), last_error="")
            .returning(table.c.id))


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
               report: DeliveryReport) -> None:
    """The mail server is away: every other due message waits its backoff as well (HR sees
    them waiting), instead of each trying the server again in this run."""
    with claim_transaction(engine) as session:
        rows = session.exec(skip_locked(_due(now))).all()
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
    """PostgreSQL: write a batch together, then send its messages one by one, each locked,
    sent and recorded in its own transaction (only the one in flight can repeat)."""
    while True:
        items = _prepare(engine, now, settings, registry, mailer.transport == "smtp",
                         mailer.transport == "mailbox", report)
        if items is None:
            return
        for item in items:
            if _send_prepared(engine, mailer, item, now, settings, report):
                _defer_due(engine, now, settings, report.errors[-1], report)
                return


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
