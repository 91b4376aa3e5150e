"""Who is calling: an API token, a gateway's trusted header, or a server-checked session."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from app.auth import api_tokens, web_sessions
from app.config import Settings
from app.errors import NotAuthenticated, ReadOnlyToken
from app.org.models import Person
from app.org.service import get_person_by_number
from app.web.ratelimit import client_address

SESSION_KEY = "sid"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def bearer_secret(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header on an API call (HTML never uses it)."""
    path = request.url.path
    if not (path.startswith("/api/") or path == "/api"):
        return None
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def trusted_header_value(request: Request, settings: Settings) -> str | None:
    """The gateway's user header, only when the request comes from a trusted proxy."""
    if not settings.trusted_header or client_address(request) not in settings.trusted_proxies:
        return None
    value = request.headers.get(settings.trusted_header, "").strip()
    return value or None


def from_token(request: Request, db: Session, secret: str, settings: Settings) -> Person:
    """The token's owner; a read token may not change anything."""
    token = api_tokens.resolve_token(db, secret=secret,
                                     lifetime_days=settings.api_token_lifetime_days)
    if token.scope != "write" and request.method not in SAFE_METHODS:
        raise ReadOnlyToken("This API token may only read.")
    person = db.get(Person, token.person_id)
    if person is None or not person.active:
        raise NotAuthenticated("The API token is not valid.")
    request.state.api_token_id = token.id
    return person


def identify(request: Request, db: Session, settings: Settings, user_key: str) -> Person | None:
    """The calling person, or None; a bad API token is refused outright (401)."""
    secret = bearer_secret(request)
    if secret is not None:
        return from_token(request, db, secret, settings)
    gateway_user = trusted_header_value(request, settings)
    if gateway_user is not None:
        return get_person_by_number(db, gateway_user)
    user_id = request.session.get(user_key)
    if not isinstance(user_id, int):
        return None
    return web_sessions.session_person(db, key=request.session.get(SESSION_KEY),
                                       person_id=user_id, settings=settings)
