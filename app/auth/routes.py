"""JSON API for signing in and for personal API tokens, so that nothing needs a page.

A script signs in once (POST /api/session), creates a token (POST /api/tokens, its secret shown
this once), and from then on calls the API with `Authorization: Bearer <secret>`. A write token
may create further tokens; a read token may not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.auth import api_tokens, web_sessions
from app.auth.identity import SESSION_KEY
from app.auth.models import ApiToken
from app.auth.sign_in import check_password, start_session
from app.errors import NotFound
from app.web.conditional import ApiRoute, IfMatchDep, state_etag
from app.web.csrf import csrf_token, rotate_csrf_token
from app.web.deps import CurrentUser, SessionDep
from app.web.ids import Id
from app.web.schemas import problems
from app.web.sessions import sign_out
from app.web.text import FilledText

router = APIRouter(prefix="/api", tags=["sign-in and tokens"], route_class=ApiRoute)
PUBLIC = {"security": []}


class SignInIn(BaseModel):
    """An employee number and password."""

    model_config = ConfigDict(extra="forbid", strict=True)

    username: str = Field(min_length=1, max_length=60, description="The employee number")
    password: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    """The session just started: send `csrf_token` as X-CSRF-Token on its writes."""

    person_id: int
    employee_no: str
    csrf_token: str
    me: str


class TokenIn(BaseModel):
    """A token to create: a name to recognise it by, and what it may do."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    name: FilledText = Field(min_length=1, max_length=80)
    scope: Literal["read", "write"] = Field(description="read: GET only; write: everything")


class TokenOut(BaseModel):
    """A personal API token (its secret is never shown again)."""

    id: int
    name: str
    prefix: str = Field(description="The secret's first characters, to recognise it by")
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime
    url: str


class NewTokenOut(TokenOut):
    """A token just created, with its secret: store it now, it is shown only this once."""

    secret: str


def token_out(row: ApiToken, lifetime_days: int) -> dict[str, Any]:
    """A token's public fields."""
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "scope": row.scope,
            "created_at": row.created_at, "last_used_at": row.last_used_at,
            "revoked_at": row.revoked_at,
            "expires_at": row.created_at + timedelta(days=lifetime_days),
            "url": f"/api/tokens/{row.id}"}


def token_etag(row: ApiToken) -> str:
    """What a token's writes are based on (not when it was last used: using it is no change)."""
    return state_etag([row.id, row.name, row.scope, row.revoked_at])


def _own(db: SessionDep, user: CurrentUser, token_id: int) -> ApiToken:
    row = db.get(ApiToken, token_id)
    if row is None or row.person_id != user.id:
        raise NotFound("No such token.")
    return row


def _lifetime(request: Request) -> int:
    return request.app.state.settings.api_token_lifetime_days


@router.post("/session", response_model=SessionOut, status_code=201, openapi_extra=PUBLIC,
             responses=problems(401, 429), summary="Sign in with a password")
def open_session(body: SignInIn, request: Request, response: Response,
                 db: SessionDep) -> SessionOut:
    """Start a session (a cookie) with the employee number and password; then create a token
    with it. 401: wrong number or password; 429: too many attempts (the account or address
    waits)."""
    person = check_password(request, db, username=body.username.strip(),
                            password=body.password)
    start_session(request, db, person)
    response.headers["Location"] = "/api/me"
    return SessionOut(person_id=person.id, employee_no=person.employee_no,
                      csrf_token=csrf_token(request), me="/api/me")


@router.delete("/session", status_code=204, response_class=Response, openapi_extra=PUBLIC,
               summary="Sign out")
def close_session(request: Request, db: SessionDep) -> Response:
    """End the session here and on the server (nothing to do without one)."""
    web_sessions.revoke_session(db, request.session.get(SESSION_KEY))
    sign_out(request)
    rotate_csrf_token(request)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut], summary="My API tokens")
def list_tokens(request: Request, db: SessionDep, user: CurrentUser) -> list[TokenOut]:
    """My tokens, newest first, revoked ones included (never their secrets)."""
    return [TokenOut(**token_out(row, _lifetime(request)))
            for row in api_tokens.list_tokens(db, person=user)]


@router.post("/tokens", response_model=NewTokenOut, status_code=201,
             summary="Create an API token")
def create_token(body: TokenIn, request: Request, response: Response, db: SessionDep,
                 user: CurrentUser) -> NewTokenOut:
    """Create a token for yourself (with a session or a write token); the secret is in this
    answer only. 403 with a read token."""
    new = api_tokens.create_token(db, person=user, name=body.name, scope=body.scope)
    response.headers["Location"] = f"/api/tokens/{new.row.id}"
    response.headers["ETag"] = token_etag(new.row)
    return NewTokenOut(**token_out(new.row, _lifetime(request)), secret=new.secret)


@router.get("/tokens/{token_id}", response_model=TokenOut, summary="One of my API tokens")
def get_token(token_id: Id, request: Request, response: Response, db: SessionDep,
              user: CurrentUser) -> TokenOut:
    """One of my tokens (someone else's does not exist for me)."""
    row = _own(db, user, token_id)
    response.headers["ETag"] = token_etag(row)
    return TokenOut(**token_out(row, _lifetime(request)))


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut, responses=problems(412),
             summary="Revoke one of my API tokens")
def revoke_token(token_id: Id, request: Request, response: Response, db: SessionDep,
                 user: CurrentUser, if_match: IfMatchDep) -> TokenOut:
    """Revoke a token now (again: no change); it stops working at once."""
    row = _own(db, user, token_id)
    if_match.check_state(token_etag(row))
    api_tokens.revoke_token(db, person=user, token_id=token_id)
    db.flush()
    response.headers["ETag"] = token_etag(row)
    return TokenOut(**token_out(row, _lifetime(request)))
