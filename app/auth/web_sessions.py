"""Server-side records of browser sessions: issued-at, idle and absolute expiry, revocation."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from app import clock
from app.auth.models import WebSession
from app.auth.secrets import new_secret, secret_hash
from app.config import Settings
from app.org.models import Person


def open_session(db_session: Session, *, person_id: int, address: str) -> str:
    """Record a new session for a person; the key to keep in the signed cookie."""
    key = new_secret()
    now = clock.now()
    db_session.add(WebSession(key_hash=secret_hash(key), person_id=person_id, issued_at=now,
                              last_seen_at=now, address=address[:64]))
    db_session.flush()
    return key


def session_person(db_session: Session, *, key: object, person_id: int,
                   settings: Settings) -> Person | None:
    """The session's person, read with the session row in one statement, if the session is
    known, not revoked, not too old and not idle too long."""
    if not isinstance(key, str) or not key:
        return None
    row = db_session.exec(
        select(WebSession, Person).join(Person, Person.id == WebSession.person_id)
        .where(WebSession.key_hash == secret_hash(key))
    ).first()
    if row is None or not _accept(db_session, row[0], person_id, settings):
        return None
    return row[1]


def _accept(db_session: Session, row: WebSession, person_id: int, settings: Settings) -> bool:
    """Check a session row; note the visit, at most once a minute."""
    now = clock.now()
    if row.person_id != person_id or row.revoked_at is not None:
        return False
    if now - row.issued_at > timedelta(seconds=settings.session_max_age_seconds):
        return False
    if now - row.last_seen_at > timedelta(seconds=settings.session_idle_seconds):
        return False
    if now - row.last_seen_at > timedelta(seconds=60):  # write at most once a minute
        row.last_seen_at = now
        db_session.add(row)
    return True


def revoke_session(db_session: Session, key: object) -> None:
    """End one session for good (sign-out): the cookie is worthless even if kept."""
    if not isinstance(key, str) or not key:
        return
    row = db_session.exec(
        select(WebSession).where(WebSession.key_hash == secret_hash(key))
    ).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
        db_session.add(row)


def revoke_all(db_session: Session, *, person_id: int) -> None:
    """End every session of a person (after a password reset)."""
    now = clock.now()
    for row in db_session.exec(select(WebSession).where(WebSession.person_id == person_id,
                                                        WebSession.revoked_at.is_(None))):
        row.revoked_at = now
        db_session.add(row)
