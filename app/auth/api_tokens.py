"""Personal API tokens: created and shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from app import clock
from app.auth.models import ApiToken
from app.auth.secrets import new_secret, secret_hash
from app.errors import NotAuthenticated, NotFound, ValidationFailed
from app.i18n import Message
from app.org.models import Person

TOKEN_PREFIX = "sw_"
SCOPES = ("read", "write")


@dataclass(frozen=True)
class NewToken:
    """A token just created: the only moment its secret exists outside the caller's hands."""

    row: ApiToken
    secret: str


def create_token(db_session: Session, *, person: Person, name: str, scope: str) -> NewToken:
    """A new token for the person; the secret is returned once and never stored."""
    name = name.strip()
    errors = {}
    if not name or len(name) > 80:
        errors["name"] = Message("Give the token a name of 1 to 80 characters.")
    if scope not in SCOPES:
        errors["scope"] = Message("Choose read or write.")
    if errors:
        raise ValidationFailed("The token could not be created.", errors)
    secret = new_secret(TOKEN_PREFIX)
    row = ApiToken(person_id=person.id, name=name, prefix=secret[:10],
                   token_hash=secret_hash(secret), scope=scope, created_at=clock.now())
    db_session.add(row)
    db_session.flush()
    return NewToken(row, secret)


def list_tokens(db_session: Session, *, person: Person) -> list[ApiToken]:
    """The person's own tokens, newest first (revoked ones included, marked)."""
    return list(db_session.exec(
        select(ApiToken).where(ApiToken.person_id == person.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def revoke_token(db_session: Session, *, person: Person, token_id: int) -> None:
    """Revoke one of the person's own tokens (someone else's is not found)."""
    row = db_session.get(ApiToken, token_id)
    if row is None or row.person_id != person.id:
        raise NotFound("No such token.")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        db_session.add(row)


def resolve_token(db_session: Session, *, secret: str, lifetime_days: int) -> ApiToken:
    """The live token with this secret, or NotAuthenticated (unknown, revoked or too old)."""
    row = db_session.exec(
        select(ApiToken).where(ApiToken.token_hash == secret_hash(secret.strip()))
    ).first()
    now = clock.now()
    if (row is None or row.revoked_at is not None
            or now - row.created_at > timedelta(days=lifetime_days)):
        raise NotAuthenticated("The API token is not valid.")
    row.last_used_at = now
    db_session.add(row)
    return row
