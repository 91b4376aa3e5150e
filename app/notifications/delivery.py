"""Delivering the outbox: claim due rows under a lease, send, record; retry with backoff."""

from __future__ import annotations

import os
import re
import smtplib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import or_, update
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
RECORD_EVERY = 25  # sent messages written down together (a crash may send these again)
ACTION_LINK = re.compile(r"/(?:act|password/reset)/[A-Za-z0-9_\-]+")


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


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


def claim(session: Session, now: datetime, settings: Settings, registry: Registry,
          worker: str, batch_size: int, needs_address: bool,
          keep_links: bool = False) -> list[_Claimed]:
    """Lease due messages to this worker, each written now in its recipient's language (with
    fresh action links; a retry writes it again). Only the demo mailbox keeps usable links
    in the stored copy; mail that signs someone in never goes anywhere but an e-mail server."""
    rows = session.exec(skip_locked(
        select(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.pending, OutboxMessage.send_after <= now,
               or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now))
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(batch_size)
    )).all()
    if not rows:
        return []
    composer = Composer(session, settings, registry, now)
    composer.prefetch(list(rows))
    composer.gather_links()
    lease_until = now + timedelta(seconds=settings.outbox_lease_seconds)
    claimed, leases = [], []
    for row in rows:
        recipient = session.get(Person, row.recipient_id)
        assert recipient is not None
        if row.kind in CREDENTIAL_KINDS and not needs_address:
            row.status = MessageStatus.failed  # never written, so no token is ever minted
            row.last_error = "sent only by e-mail, and no mail server is configured"
            continue
        try:
            email = composer.render(row, recipient)
        except Exception as exc:  # noqa: BLE001 - one broken message must not stop the rest
            row.status = MessageStatus.failed
            row.last_error = f"could not be written: {exc!r}"[:1000]
            continue
        # The demo mailbox is where its mail is read, so it keeps the links; a copy of mail that
        # went out by SMTP, or not at all, keeps none (a database leak hands out no links).
        keep = (lambda text: text) if keep_links else redact_links
        written = {"subject": email.subject, "body_text": keep(email.text),
                   "body_html": keep(email.html), "locale": recipient.locale,
                   "to_address": recipient.email}
        if needs_address and not recipient.email:
            row.status = MessageStatus.failed
            row.last_error = "the recipient has no e-mail address"
            for name, value in written.items():
                setattr(row, name, value)
            continue
        # Written to the row below, all in one statement (the row object is not updated).
        leases.append({"id": row.id, **written, "lease_until": lease_until, "leased_by": worker})
        claimed.append(_Claimed(row.id, row.key, row.kind,
                                person_name(recipient, recipient.locale), recipient.email,
                                email.subject, email.text, email.html, row.attempts,
                                row.request_id))
    composer.write_links()
    session.flush()
    if leases:
        session.execute(update(OutboxMessage).execution_options(synchronize_session=False),
                        leases)
    return claimed


def _record(engine: Engine, ids: list[int], worker: str, **values: object) -> None:
    """Write one result for several messages and hand back their lease (if still ours)."""
    if not ids:
        return
    with transaction(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.leased_by == worker)
            .values(lease_until=None, leased_by="", **values)
            .execution_options(synchronize_session=False)
        )


class _Results:
    """What happened to a leased batch; sent messages are recorded a few at a time, in one
    statement each time, instead of one transaction per message."""

    def __init__(self, engine: Engine, worker: str, now: datetime, transport: str) -> None:
        self.engine, self.worker, self.now, self.transport = engine, worker, now, transport
        self.done: set[int] = set()
        self._sent: list[int] = []

    def sent(self, item: _Claimed) -> None:
        """A message went out (written down with the next few)."""
        self.done.add(item.id)
        self._sent.append(item.id)
        if len(self._sent) >= RECORD_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write down the messages sent since the last time."""
        ids, self._sent = self._sent, []
        _record(self.engine, ids, self.worker, status=MessageStatus.sent, sent_at=self.now,
                transport=self.transport, last_error="")

    def failed(self, item: _Claimed, error: str) -> None:
        """Refused for good: shown to HR, not retried."""
        self.done.add(item.id)
        _record(self.engine, [item.id], self.worker, status=MessageStatus.failed,
                attempts=item.attempts + 1, last_error=error)

    def retry(self, items: list[_Claimed], error: str, settings: Settings) -> None:
        """Could not be sent now: each waits its backoff and is tried again."""
        by_attempts: dict[int, list[int]] = {}
        for item in items:
            by_attempts.setdefault(item.attempts + 1, []).append(item.id)
            self.done.add(item.id)
        for attempts, ids in by_attempts.items():
            _record(self.engine, ids, self.worker, attempts=attempts, last_error=error,
                    send_after=self.now + backoff(attempts, settings))

    def release(self, claimed: list[_Claimed]) -> None:
        """Write down what was sent and hand the unsent back to the next run."""
        self.flush()
        _record(self.engine, [item.id for item in claimed if item.id not in self.done],
                self.worker)


def deliver_outbox(engine: Engine, now: datetime, *, settings: Settings, registry: Registry,
                   mailer_factory: MailerFactory = mailer_for, batch_size: int = 100,
                   worker: str | None = None) -> DeliveryReport:
    """Send every due message once; on failure retry later with backoff, losing none."""
    report = DeliveryReport()
    if in_quiet_hours(now, settings):
        return report
    worker = worker or worker_name()
    while True:
        mailer = mailer_factory(settings)
        with claim_transaction(engine) as session:
            claimed = claim(session, now, settings, registry, worker, batch_size,
                             needs_address=mailer.transport == "smtp",
                             keep_links=mailer.transport == "mailbox")
        if not claimed:
            return report
        results = _Results(engine, worker, now, mailer.transport)
        try:
            with mailer:
                server_down = _send_batch(mailer, claimed, results, now, settings, report)
        finally:
            # A run killed midway hands its unsent messages straight back to the next run.
            results.release(claimed)
        if server_down or len(claimed) < batch_size:
            return report  # the server is down, or a short batch was the last one


def _send_batch(mailer: Mailer, claimed: list[_Claimed], results: _Results, now: datetime,
                settings: Settings, report: DeliveryReport) -> bool:
    """Send a leased batch; True when the server could not be reached (stop for this run)."""
    for position, item in enumerate(claimed):
        message = build_message(
            settings=settings, key=item.key, kind=item.kind, to_name=item.to_name,
            to_address=item.to_address or "mailbox@stepwise.invalid", subject=item.subject,
            text=item.text, html=item.html, at=now, request_id=item.request_id)
        try:
            mailer.send(message)
        except PermanentFailure as exc:
            results.failed(item, str(exc)[:1000])
            report.failed += 1
            continue
        except (smtplib.SMTPException, OSError) as exc:
            # The server is down or busy: this and the rest of the batch wait and retry.
            error = f"{type(exc).__name__}: {exc}"[:1000]
            report.errors.append(error)
            results.retry(claimed[position:], error, settings)
            report.retried += len(claimed) - position
            return True
        results.sent(item)
        report.sent += 1
    return False


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
