"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, func, select

from app.auth import lockout, service, web_sessions
from app.auth.identity import SESSION_KEY
from app.auth.sign_in import check_password, start_session
from app.directory import signin
from app.directory.client import DirectoryUnavailable
from app.engine.models import Task, TaskStatus
from app.errors import NotAuthenticated
from app.i18n import N_, gettext_for
from app.org.models import Person
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


# The sides of the process a visitor can try, in the order the sign-in page lists them.
# (side, heading of its group, what one person of it is called)
DEMO_SIDES: list[tuple[str, str, str]] = [
    ("employee", N_("Employees"), N_("Employee")),
    ("supervisor", N_("Supervisors"), N_("Supervisor")),
    ("hr", N_("HR"), N_("HR")),
    ("reviewer", N_("Department reviewers"), N_("Department reviewer")),
    ("committee", N_("Committees and leaders"), N_("Committee member")),
    ("other", N_("Other duties"), ""),
    ("admin", N_("Administrator"), N_("Administrator")),
]
REVIEWER_ROLES = {"department_reviewer", "corporate_department", "private_finance_department"}


def _side(account: service.DemoAccount, supervisors: set[int]) -> str:
    """Which side of the process an account shows best (its first seat that routes work)."""
    roles = {s.name for s in account.seats if s.kind == "role"}
    if account.person.is_admin:
        return "admin"
    if "hr" in roles:
        return "hr"
    if roles & REVIEWER_ROLES:
        return "reviewer"
    if any(s.kind == "committee" for s in account.seats) or "vice_president_in_charge" in roles:
        return "committee"
    if roles:
        return "other"
    return "supervisor" if account.person.id in supervisors else "employee"


def _demo_groups(request: Request, db: Session, locale: str) -> list[dict[str, Any]]:
    """The demo accounts by side of the process; the first of each is the one to try first
    (the one with the most work waiting, so that the visitor sees something to do)."""
    vocabulary = request.app.state.registry.vocabulary
    gettext = gettext_for(locale)
    accounts = service.demo_accounts(db_session=db)
    supervisors = set(db.exec(select(Person.supervisor_id).where(
        Person.supervisor_id.is_not(None))))
    waiting = dict(db.exec(select(Task.assignee_id, func.count()).where(
        Task.status == TaskStatus.open, Task.assignee_id.is_not(None))
        .group_by(Task.assignee_id)).all())
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key, _label, _one in DEMO_SIDES}
    for account in accounts:
        seats = [
            f"{seat_label(s.kind, s.name, vocabulary, locale)} · {unit_name(s.unit, locale)}"
            for s in account.seats
        ]
        groups[_side(account, supervisors)].append({
            "employee_no": account.person.employee_no,
            "name": person_name(account.person, locale),
            "post": account.person.post,
            "unit": unit_name(account.unit, locale),
            "seats": seats,
            "waiting": waiting.get(account.person.id, 0),
        })
    shown = []
    for key, label, one in DEMO_SIDES:
        people = groups[key]
        if people:
            first = max(people, key=lambda p: p["waiting"])
            people.remove(first)
            side = gettext(one) if one else first["seats"][0].split(" · ")[0]
            shown.append({"key": key, "label": gettext(label), "side": side,
                          "people": [first, *people]})
    return shown


def _login_page(
    request: Request, db: Session, locale: str, *, username: str = "", next_url: str = "",
    error: str = "", status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    groups = _demo_groups(request, db, locale) if settings.demo_mode else []
    return render(request, "auth/login.html", {
        "username": username,
        "next_url": safe_next(next_url),
        "error": error,
        "demo_groups": groups,
        "demo_count": sum(len(group["people"]) for group in groups),
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
