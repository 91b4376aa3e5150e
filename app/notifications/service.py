"""Who may read the mailbox and the delivery problems, and what each reader sees there.

The rule is need-to-know, as for plans: a person sees mail addressed to them, and mail about
a case they may see (app/engine/access.py). Mail about no case (a digest, a reset) is seen
by its recipient, and among delivery problems also by HR over the recipient's unit. Being an
administrator adds nothing: administrators run the system, they do not read careers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlmodel import Session, func, select

from app.config import Settings
from app.engine.access import SCOPE_ROLES, visible_filter
from app.engine.models import WorkflowInstance
from app.errors import NotAllowed, NotFound
from app.i18n import N_
from app.notifications.delivery import in_quiet_hours, redact_links, retry_now
from app.notifications.models import CREDENTIAL_KINDS, MessageStatus, OutboxMessage
from app.org.models import OrgUnit, Person, RoleAssignment

MAILBOX_CLOSED = N_("The mailbox exists only in demo mode without a mail server.")


def is_hr_or_admin(session: Session, person: Person) -> bool:
    """HR officers (at any unit) and administrators watch delivery."""
    if person.is_admin:
        return True
    return session.exec(select(RoleAssignment.id).where(
        RoleAssignment.person_id == person.id, RoleAssignment.kind == "role",
        RoleAssignment.name.in_(SCOPE_ROLES))).first() is not None


def _about_visible_case(session: Session, viewer: Person) -> ColumnElement[bool]:
    """Mail about a case the viewer may see."""
    cases = select(WorkflowInstance.id).where(visible_filter(session, viewer))
    return and_(OutboxMessage.instance_id.is_not(None), OutboxMessage.instance_id.in_(cases))


def _to_someone_in_scope(session: Session, viewer: Person) -> ColumnElement[bool]:
    """Mail about no case, to someone in a unit where the viewer holds HR's scope."""
    paths = list(session.exec(
        select(OrgUnit.path).join(RoleAssignment, RoleAssignment.org_unit_id == OrgUnit.id)
        .where(RoleAssignment.person_id == viewer.id, RoleAssignment.kind == "role",
               RoleAssignment.name.in_(SCOPE_ROLES))))
    if not paths:
        return false()
    in_scope = exists().where(Person.id == OutboxMessage.recipient_id,
                              OrgUnit.id == Person.org_unit_id,
                              or_(*[OrgUnit.path.startswith(path) for path in paths]))
    return and_(OutboxMessage.instance_id.is_(None), in_scope)


@dataclass(frozen=True)
class KeptMail:
    """A message as its reader may see it: another person's mail never shows a usable link."""

    message: OutboxMessage
    own: bool


def _as_seen_by(message: OutboxMessage, viewer: Person) -> KeptMail:
    own = message.recipient_id == viewer.id
    if not own:  # the links act as their recipient: nobody else may hold them
        message = _without_links(message)
    return KeptMail(message, own)


def _without_links(message: OutboxMessage) -> OutboxMessage:
    """A detached copy of a message with its links' tokens blanked out."""
    copy = OutboxMessage.model_validate(message.model_dump())
    copy.body_text = redact_links(message.body_text)
    copy.body_html = redact_links(message.body_html)
    return copy


def _mailbox_open(settings: Settings) -> None:
    if settings.mail_transport != "mailbox":
        raise NotFound(MAILBOX_CLOSED)


def _kept(session: Session, viewer: Person) -> ColumnElement[bool]:
    return and_(OutboxMessage.status == MessageStatus.sent,
                OutboxMessage.transport == "mailbox",
                OutboxMessage.kind.not_in(sorted(CREDENTIAL_KINDS)),
                or_(OutboxMessage.recipient_id == viewer.id,
                    _about_visible_case(session, viewer)))


def mailbox(session: Session, *, viewer: Person, settings: Settings,
            limit: int = 200) -> list[KeptMail]:
    """The demo mailbox as this reader may see it, newest first (404 outside demo mode)."""
    _mailbox_open(settings)
    rows = session.exec(
        select(OutboxMessage).where(_kept(session, viewer))
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(limit))
    return [_as_seen_by(m, viewer) for m in rows]


def mailbox_message(session: Session, *, viewer: Person, settings: Settings,
                    message_id: int) -> KeptMail:
    """One message of the demo mailbox, if this reader may see it."""
    _mailbox_open(settings)
    message = session.exec(select(OutboxMessage).where(
        OutboxMessage.id == message_id, _kept(session, viewer))).first()
    if message is None:
        raise NotFound("No such message.")
    return _as_seen_by(message, viewer)


def _failed(session: Session, viewer: Person) -> ColumnElement[bool]:
    problem = or_(OutboxMessage.status == MessageStatus.failed,
                  and_(OutboxMessage.status == MessageStatus.pending, OutboxMessage.attempts > 0))
    return and_(problem, or_(OutboxMessage.recipient_id == viewer.id,
                             _about_visible_case(session, viewer),
                             _to_someone_in_scope(session, viewer)))


def failures(session: Session, *, viewer: Person, limit: int = 200) -> list[KeptMail]:
    """Messages refused for good, or waiting for another attempt, that this reader may see."""
    if not is_hr_or_admin(session, viewer):
        raise NotAllowed("Only HR and administrators may see delivery problems.")
    rows = session.exec(
        select(OutboxMessage).where(_failed(session, viewer))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit))
    return [_as_seen_by(m, viewer) for m in rows]


def retry(session: Session, *, viewer: Person, message_id: int, now: datetime) -> None:
    """Ask for another attempt at once (after fixing an address or the mail server)."""
    if not is_hr_or_admin(session, viewer):
        raise NotAllowed("Only HR and administrators may see delivery problems.")
    visible = session.exec(select(OutboxMessage.id).where(
        OutboxMessage.id == message_id, _failed(session, viewer))).first()
    if visible is None or not retry_now(session, message_id, now):
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
