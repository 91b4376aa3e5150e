"""Password reset by an emailed, single-use, expiring link (the token is stored hashed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from app import clock
from app.auth import lockout, web_sessions
from app.auth.models import PasswordReset
from app.auth.passwords import hash_password
from app.auth.secrets import new_secret, secret_hash
from app.config import Settings
from app.errors import TokenExpired, ValidationFailed
from app.i18n import LOCALES, Message, gettext_for
from app.notifications.mail_templates import environment, person_name
from app.notifications.models import MessageStatus, OutboxMessage
from app.org.models import Person
from app.rows import insert_once, skip_locked

MESSAGE_KIND = "password_reset"
RESET_PATH = "/password/reset/"


def reset_by_mail(settings: Settings) -> bool:
    """Whether password reset is offered: its link goes only by e-mail, to its owner."""
    return settings.mail_transport == "smtp"


def request_reset(db_session: Session, *, employee_no: str, settings: Settings) -> None:
    """Record a reset request for the account as typed, whether or not it exists.

    The same one insert either way (no lookup here), so neither the answer nor its timing
    tells whether the account exists; the sweep resolves the request (`resolve_requests`).
    """
    if not reset_by_mail(settings):
        return
    now = clock.now()
    db_session.add(PasswordReset(
        account=employee_no.strip()[:60], person_id=None, created_at=now,
        expires_at=now + timedelta(minutes=settings.password_reset_lifetime_minutes)))


def resolve_requests(db_session: Session, *, now: datetime, limit: int = 100) -> int:
    """Queue the mail of each recorded request whose account exists, is active and has an
    address; close the others unsent. How many mails were queued."""
    pending = list(db_session.exec(skip_locked(
        select(PasswordReset)
        .where(PasswordReset.person_id.is_(None), PasswordReset.used_at.is_(None))
        .order_by(PasswordReset.id).limit(limit))))
    if not pending:
        return 0
    people = {p.employee_no: p for p in db_session.exec(select(Person).where(
        Person.employee_no.in_(sorted({r.account for r in pending}))))}
    queued = 0
    for reset in pending:
        person = people.get(reset.account)
        if person is None or not person.active or not person.email or now >= reset.expires_at:
            reset.used_at = now  # closed: nobody to write to
            continue
        reset.person_id = person.id
        db_session.flush()
        queued += insert_once(db_session, OutboxMessage, {
            "key": f"{MESSAGE_KIND}:{reset.id}", "kind": MESSAGE_KIND, "recipient_id": person.id,
            "params": {"reset_id": reset.id}, "to_address": person.email,
            "locale": person.locale, "status": MessageStatus.pending, "send_after": now,
            "created_at": now, "request_id": reset.request_id,
        }) is not None
    db_session.flush()
    return queued


def mint_link(db_session: Session, *, reset_id: int, settings: Settings) -> str:
    """A fresh link for a reset request (called when its mail is written; a retry re-mints)."""
    reset = db_session.get(PasswordReset, reset_id)
    token = new_secret()
    if reset is not None and reset.used_at is None:
        reset.token_hash = secret_hash(token)
        db_session.add(reset)
    return f"{settings.base_url.rstrip('/')}{RESET_PATH}{token}"


def render_mail(db_session: Session, message: OutboxMessage, recipient: Person,
                settings: Settings) -> tuple[str, str, str]:
    """Subject, text and HTML of a reset mail in the recipient's language."""
    locale = recipient.locale if recipient.locale in LOCALES else settings.default_locale
    ctx = {
        "recipient_name": person_name(recipient, locale), "locale": locale,
        "minutes": settings.password_reset_lifetime_minutes,
        "link": mint_link(db_session, reset_id=int((message.params or {})["reset_id"]),
                          settings=settings),
    }
    env = environment(locale)
    _ = gettext_for(locale)
    subject = _("Reset your Stepwise password")
    return (subject, env.get_template("email/password_reset.txt").render(ctx),
            env.get_template("email/password_reset.html").render(ctx))


def live_reset(db_session: Session, *, token: str) -> PasswordReset:
    """The unused, unexpired reset request behind a link, or TokenExpired."""
    reset = db_session.exec(
        select(PasswordReset).where(PasswordReset.token_hash == secret_hash(token))
    ).first()
    if reset is None or reset.used_at is not None or clock.now() >= reset.expires_at:
        raise TokenExpired("This password-reset link is used, expired or unknown. "
                           "Ask for a new one.")
    return reset


def validate_password(password: str, repeat: str, settings: Settings) -> None:
    """Refuse a new password that is too short, too long, or not typed the same twice."""
    errors: dict[str, Message] = {}
    if len(password) < settings.password_min_length:
        errors["password"] = Message("Use at least {count} characters.",
                                     {"count": settings.password_min_length})
    elif len(password) > 200:
        errors["password"] = Message("Use at most {count} characters.", {"count": 200})
    if password != repeat:
        errors["repeat"] = Message("The two passwords are not the same.")
    if errors:
        raise ValidationFailed("The password was not changed.", errors)


def complete_reset(db_session: Session, *, token: str, password: str, repeat: str,
                   settings: Settings) -> Person:
    """Set the new password, use up the link, and end every session of the person."""
    reset = live_reset(db_session, token=token)
    validate_password(password, repeat, settings)
    person = db_session.get(Person, reset.person_id)
    assert person is not None
    now: datetime = clock.now()
    person.password_hash = hash_password(password)
    db_session.add(person)
    for other in db_session.exec(select(PasswordReset).where(
            PasswordReset.person_id == person.id, PasswordReset.used_at.is_(None))):
        other.used_at = now
        db_session.add(other)
    web_sessions.revoke_all(db_session, person_id=person.id)
    lockout.clear_failures(db_session, account=person.employee_no)
    return person
