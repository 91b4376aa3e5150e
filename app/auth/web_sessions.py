"""Server-side records of browser sessions: issued-at, idle and absolute expiry, revocation."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Row, String, bindparam, exists, update
from sqlmodel import Session, select

from app import clock
from app.auth.models import WebSession
from app.auth.secrets import new_secret, secret_hash
from app.config import Settings
from app.engine.access import SCOPE_ROLES
from app.org.models import Person, RoleAssignment

# Session.info key: {person_id: holds a scope role}, read with the session row (one statement
# less on every page and POST; the unit of work is one request, so it is never stale).
SCOPE_MEMO = "stepwise.scope_role"


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
    known, not revoked, not too old and not idle too long (the session's own columns only: no
    session object is built, and the visit is noted with one UPDATE at most once a minute)."""
    if not isinstance(key, str) or not key:
        return None
    row = db_session.exec(_session_statement(), params={"key_hash": secret_hash(key)}).first()
    if row is None or not _accept(db_session, row, person_id, settings):
        return None
    db_session.info.setdefault(SCOPE_MEMO, {})[row.person_id] = bool(row.holds_scope)
    return row[5]


@cache
def _session_statement() -> Any:
    """The session's columns, its person and whether they hold a scope role: built once (every
    request runs it), the key's hash a parameter."""
    holds_scope = exists().where(
        RoleAssignment.person_id == Person.id, RoleAssignment.kind == "role",
        RoleAssignment.name.in_(SCOPE_ROLES))
    return (select(WebSession.id, WebSession.person_id, WebSession.revoked_at,
                   WebSession.issued_at, WebSession.last_seen_at, Person,
                   holds_scope.label("holds_scope"))
            .join(Person, Person.id == WebSession.person_id)
            .where(WebSession.key_hash == bindparam("key_hash", type_=String)))


def known_scope_role(db_session: Session, person_id: int) -> bool | None:
    """Whether the person holds a scope role, if this unit of work already read it."""
    return db_session.info.get(SCOPE_MEMO, {}).get(person_id)


def _accept(db_session: Session, row: Row, person_id: int, settings: Settings) -> bool:
    """Check a session row; note the visit, at most once a minute."""
    now = clock.now()
    if row.person_id != person_id or row.revoked_at is not None:
        return False
    if now - row.issued_at > timedelta(seconds=settings.session_max_age_seconds):
        return False
    if now - row.last_seen_at > timedelta(seconds=settings.session_idle_seconds):
        return False
    if now - row.last_seen_at > timedelta(seconds=60):  # write at most once a minute
        db_session.execute(update(WebSession).where(WebSession.id == row.id)
                           .values(last_seen_at=now))
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
