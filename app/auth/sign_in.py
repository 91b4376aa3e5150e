"""Signing in with an employee number and password: limits, lockout, the new session.

One path for the sign-in page and the API's POST /api/session.
"""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from app.auth import lockout, web_sessions
from app.auth.identity import SESSION_KEY
from app.directory import signin
from app.directory.client import DirectoryUnavailable
from app.errors import NotAuthenticated
from app.org.models import Person
from app.web import ratelimit
from app.web.csrf import rotate_csrf_token
from app.web.sessions import sign_in


def check_password(request: Request, db: Session, *, username: str, password: str) -> Person:
    """The person, if the address and account are not limited or locked and the password is
    right (asked of the directory when one is configured); a wrong password is counted (and
    committed) before NotAuthenticated is raised; a directory outage is nobody's failure."""
    settings = request.app.state.settings
    address = ratelimit.client_address(request)
    try:
        ratelimit.check(request, f"login:{address}:{username.lower()}",
                        settings.rate_limit_sign_in_per_minute)
        lockout.check_not_locked(db, account=username, address=address, settings=settings)
        return signin.authenticate(db, settings=settings, username=username, password=password)
    except NotAuthenticated:
        db.rollback()
        lockout.record_failure(db, account=username, address=address)
        db.commit()
        raise
    except (lockout.SignInLocked, ratelimit.RateLimited, DirectoryUnavailable):
        db.rollback()
        raise


def start_session(request: Request, db: Session, person: Person) -> None:
    """A fresh server-checked session for the person, with a new CSRF token."""
    lockout.clear_failures(db, account=person.employee_no)
    key = web_sessions.open_session(db, person_id=person.id,
                                    address=ratelimit.client_address(request))
    sign_in(request, person.id, person.locale)
    request.session[SESSION_KEY] = key
    rotate_csrf_token(request)
