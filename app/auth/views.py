"""Sign-in and sign-out pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.auth import lockout, service, web_sessions
from app.auth.identity import SESSION_KEY
from app.auth.sign_in import check_password, start_session
from app.directory import signin
from app.directory.client import DirectoryUnavailable
from app.errors import NotAuthenticated
from app.web import ratelimit
from app.web.csrf import rotate_csrf_token
from app.web.deps import FormDep, GettextDep, LocaleDep, OptionalUser, SessionDep
from app.web.labels import person_name, seat_label, unit_name
from app.web.sessions import sign_out
from app.web.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only same-site paths may be redirected to after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/tasks"
    return target


def _demo_rows(request: Request, db: Session, locale: str) -> list[dict[str, object]]:
    vocabulary = request.app.state.registry.vocabulary
    rows = []
    for account in service.demo_accounts(db_session=db):
        seats = [
            f"{seat_label(s.kind, s.name, vocabulary, locale)} · {unit_name(s.unit, locale)}"
            for s in account.seats
        ]
        rows.append({
            "employee_no": account.person.employee_no,
            "name": person_name(account.person, locale),
            "post": account.person.post,
            "unit": unit_name(account.unit, locale),
            "seats": seats,
            "is_admin": account.person.is_admin,
        })
    return rows


def _login_page(
    request: Request, db: Session, locale: str, *, username: str = "", next_url: str = "",
    error: str = "", status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    return render(request, "auth/login.html", {
        "username": username,
        "next_url": safe_next(next_url),
        "error": error,
        "demo_accounts": _demo_rows(request, db, locale) if settings.demo_mode else [],
        "demo_password": service.DEMO_PASSWORD,
        "directory": signin.directory_enabled(settings),
    }, status_code=status_code)


@router.get("/login")
def login_form(
    request: Request, db: SessionDep, user: OptionalUser, locale: LocaleDep, next: str = ""
) -> Response:
    """The sign-in form (signed-in readers go straight on)."""
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, db, locale, next_url=next)


@router.post("/login")
def login(
    request: Request, db: SessionDep, form: FormDep, locale: LocaleDep, gettext: GettextDep
) -> Response:
    """Check the name and password (with the directory when one is configured); start a
    session or show the form again."""
    username = form.get("username", "").strip()[:60]
    next_url = form.get("next", "")
    try:
        person = check_password(request, db, username=username,
                                password=form.get("password", ""))
    except (NotAuthenticated, lockout.SignInLocked, ratelimit.RateLimited,
            DirectoryUnavailable) as exc:
        return _login_page(request, db, locale, username=username, next_url=next_url,
                           error=exc.text(gettext), status_code=exc.status_code)
    start_session(request, db, person)
    return RedirectResponse(safe_next(next_url), status_code=303)


@router.post("/logout")
def logout(request: Request, db: SessionDep) -> Response:
    """End the session here and on the server, so a copied cookie is worthless."""
    web_sessions.revoke_session(db, request.session.get(SESSION_KEY))
    sign_out(request)
    rotate_csrf_token(request)
    return RedirectResponse("/login", status_code=303)
