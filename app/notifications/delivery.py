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
from app.notifications.models import MessageStatus, OutboxMessage
from app.org.models import Person
from app.rows import claim_transaction, skip_locked

MailerFactory = Callable[[Settings], Mailer]
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
           worker: str, batch_size: int, needs_address: bool) -> list[_Claimed]:
    """Lease due messages to this worker, each written now in its recipient's language (with
    fresh action links; a retry writes it again)."""
    rows = session.exec(skip_locked(
        select(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.pending, OutboxMessage.send_after <= now,
               or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now))
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(batch_size)
    )).all()
    composer = Composer(session, settings, registry, now)
    claimed = []
    for row in rows:
        recipient = session.get(Person, row.recipient_id)
        assert recipient is not None
        try:
            email = composer.render(row, recipient)
        except Exception as exc:  # noqa: BLE001 - one broken message must not stop the rest
            row.status = MessageStatus.failed
            row.last_error = f"could not be written: {exc!r}"[:1000]
            continue
        # The mailbox is where demo mail is read, so it keeps the links; a copy of mail that
        # went out by SMTP keeps none (a database leak must not hand out usable links).
        keep = (lambda text: text) if not needs_address else redact_links
        row.subject, row.body_text, row.body_html = (email.subject, keep(email.text),
                                                     keep(email.html))
        row.locale = recipient.locale
        row.to_address = recipient.email
        if needs_address and not row.to_address:
            row.status = MessageStatus.failed
            row.last_error = "the recipient has no e-mail address"
            continue
        row.lease_until = now + timedelta(seconds=settings.outbox_lease_seconds)
        row.leased_by = worker
        claimed.append(_Claimed(row.id, row.key, row.kind, person_name(recipient, row.locale),
                                row.to_address, email.subject, email.text, email.html,
                                row.attempts))
    return claimed


def _record(engine: Engine, item: _Claimed, worker: str, **values: object) -> None:
    with transaction(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == item.id, OutboxMessage.leased_by == worker)
            .values(lease_until=None, leased_by="", **values)
            .execution_options(synchronize_session=False)
        )


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
                             needs_address=mailer.transport == "smtp")
        if not claimed:
            return report
        done: set[int] = set()
        try:
            with mailer:
                server_down = _send_batch(engine, mailer, claimed, done, now, settings, worker,
                                          report)
        finally:
            # A run killed midway hands its unsent messages straight back to the next run.
            for item in claimed:
                if item.id not in done:
                    _record(engine, item, worker)
        if server_down or len(claimed) < batch_size:
            return report  # the server is down, or a short batch was the last one


def _send_batch(engine: Engine, mailer: Mailer, claimed: list[_Claimed], done: set[int],
                now: datetime, settings: Settings, worker: str, report: DeliveryReport) -> bool:
    """Send a leased batch; True when the server could not be reached (stop for this run)."""
    for position, item in enumerate(claimed):
        message = build_message(
            settings=settings, key=item.key, kind=item.kind, to_name=item.to_name,
            to_address=item.to_address or "mailbox@stepwise.invalid", subject=item.subject,
            text=item.text, html=item.html, at=now)
        try:
            mailer.send(message)
        except PermanentFailure as exc:
            _record(engine, item, worker, status=MessageStatus.failed,
                    attempts=item.attempts + 1, last_error=str(exc)[:1000])
            done.add(item.id)
            report.failed += 1
            continue
        except (smtplib.SMTPException, OSError) as exc:
            # The server is down or busy: this and the rest of the batch wait and retry.
            error = f"{type(exc).__name__}: {exc}"[:1000]
            report.errors.append(error)
            for later in claimed[position:]:
                _record(engine, later, worker, attempts=later.attempts + 1, last_error=error,
                        send_after=now + backoff(later.attempts + 1, settings))
                done.add(later.id)
                report.retried += 1
            return True
        _record(engine, item, worker, status=MessageStatus.sent, sent_at=now,
                transport=mailer.transport, last_error="")
        done.add(item.id)
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
