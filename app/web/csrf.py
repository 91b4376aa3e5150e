"""CSRF protection: one token per session, required on every state-changing request."""

from __future__ import annotations

import secrets

from fastapi import Request

from app.errors import NotAllowed
from app.web.sessions import USER_KEY

CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfFailed(NotAllowed):
    """A state-changing request came without this session's CSRF token."""

    code = "csrf_failed"


def is_api(request: Request) -> bool:
    """Whether the request is for the JSON API (errors as JSON, CSRF via header)."""
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def csrf_token(request: Request) -> str:
    """This session's token, created on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def rotate_csrf_token(request: Request) -> str:
    """A new token (after signing in), so a token seen before sign-in is worthless."""
    request.session.pop(CSRF_SESSION_KEY, None)
    return csrf_token(request)


async def _sent_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header is not None or is_api(request):
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _without_ambient_credentials(request: Request) -> bool:
    """An API call that a browser would not authenticate on its own: a bearer token, or no
    signed-in session and no gateway header (a token-authenticated call ignores the cookie)."""
    from app.auth.identity import bearer_secret, trusted_header_value

    if bearer_secret(request) is not None:
        return True
    if trusted_header_value(request, request.app.state.settings) is not None:
        return False
    return request.session.get(USER_KEY) is None


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: refuse unsafe requests whose token does not match the session's.

    HTML forms send the hidden `csrf_token` field; API calls that ride on the session
    cookie send the `X-CSRF-Token` header. An API call without a signed-in session carries
    no ambient credentials, so there is nothing to forge and it is left to authentication.
    """
    if request.method in SAFE_METHODS:
        return
    if is_api(request) and _without_ambient_credentials(request):
        return
    expected = request.session.get(CSRF_SESSION_KEY)
    sent = await _sent_token(request)
    if not expected or not sent or not secrets.compare_digest(sent, str(expected)):
        raise CsrfFailed(
            "This form has expired or did not come from this site. "
            "Reload the page and try again."
        )
