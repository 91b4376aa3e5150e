"""Who may read the mailbox and the delivery failures, and what they see there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import and_, or_
from sqlmodel import Session, func, select

from app.config import Settings
from app.errors import NotAllowed, NotFound
from app.notifications.delivery import in_quiet_hours, retry_now
from app.notifications.models import MessageStatus, OutboxMessage
from app.org.models import Person, RoleAssignment


def is_hr_or_admin(session: Session, person: Person) -> bool:
    """HR officers (at any unit) and administrators watch delivery."""
    if person.is_admin:
        return True
    return session.exec(select(RoleAssignment.id).where(
        RoleAssignment.person_id == person.id, RoleAssignment.kind == "role",
        RoleAssignment.name == "hr")).first() is not None


def mailbox(session: Session, *, viewer: Person, limit: int = 200) -> list[OutboxMessage]:
    """Mail kept by the built-in mailbox (no SMTP configured), newest first; admins only."""
    if not viewer.is_admin:
        raise NotAllowed("Only administrators may read the mailbox.")
    return list(session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.sent, OutboxMessage.transport == "mailbox")
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ))


def mailbox_message(session: Session, *, viewer: Person, message_id: int) -> OutboxMessage:
    """One message of the mailbox."""
    if not viewer.is_admin:
        raise NotAllowed("Only administrators may read the mailbox.")
    message = session.get(OutboxMessage, message_id)
    if message is None or message.transport != "mailbox":
        raise NotFound("No such message.")
    return message


def failures(session: Session, *, viewer: Person, limit: int = 200) -> list[OutboxMessage]:
    """Messages refused for good, or waiting for another attempt after a failure."""
    if not is_hr_or_admin(session, viewer):
        raise NotAllowed("Only HR and administrators may see delivery problems.")
    return list(session.exec(
        select(OutboxMessage)
        .where(or_(OutboxMessage.status == MessageStatus.failed,
                   and_(OutboxMessage.status == MessageStatus.pending,
                        OutboxMessage.attempts > 0)))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ))


def retry(session: Session, *, viewer: Person, message_id: int, now: datetime) -> None:
    """Ask for another attempt at once (after fixing an address or the mail server)."""
    if not is_hr_or_admin(session, viewer):
        raise NotAllowed("Only HR and administrators may see delivery problems.")
    if not retry_now(session, message_id, now):
        raise NotFound("No such message.")


@dataclass(frozen=True)
class MailWaiting:
    """Mail not sent yet, and why: at night nothing is sent, it waits for the morning."""

    count: int
    quiet_now: bool
    quiet_from: time
    quiet_until: time


def mail_waiting(session: Session, *, viewer: Person, now: datetime,
                 settings: Settings) -> MailWaiting:
    """How many messages wait for their first attempt (all of them for an administrator, one's
    own for anyone else), and whether quiet hours hold them back."""
    query = select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == MessageStatus.pending, OutboxMessage.attempts == 0)
    if not viewer.is_admin:
        query = query.where(OutboxMessage.recipient_id == viewer.id)
    count = session.exec(query).one()
    return MailWaiting(int(count), in_quiet_hours(now, settings), settings.quiet_hours_start,
                       settings.quiet_hours_end)
