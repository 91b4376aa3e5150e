"""Request-scoped dependencies: the unit of work, the signed-in person, the reader's locale."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Settings
from app.errors import NotAuthenticated
from app.i18n import LOCALES, gettext_for, requested_locale
from app.observability.metrics import REPORT_READS
from app.org.models import Person
from app.web import reads
from app.web.sessions import LANG_KEY, USER_KEY, USER_LOCALE_KEY


def app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def app_engine(request: Request) -> Engine:
    """The database engine the app was created with."""
    return request.app.state.engine


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit when the handler returns, roll back on error.

    A view that catches a domain error to re-render its form must call `rollback()` itself.
    """
    with Session(app_engine(request), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
            reads.note_write(request, session)
        except BaseException:
            session.rollback()
            raise


# scope="function": the commit happens before the response is sent, so a failed commit
# becomes an error response and the next request always sees the committed data.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(app_settings)]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def fallback_locale(request: Request) -> str:
    """The locale without a database: chosen language, signed-in locale, browser, default
    (an API call's Accept-Language comes first)."""
    asked = requested_locale(request.headers.get("accept-language"))
    if asked and _is_api(request):
        return asked
    session = request.scope.get("session") or {}
    for key in (LANG_KEY, USER_LOCALE_KEY):
        if session.get(key) in LOCALES:
            return session[key]
    return asked or app_settings(request).default_locale


def page_locale(request: Request) -> str:
    """The locale this request is answered in (set once the reader is known)."""
    locale = getattr(request.state, "locale", None)
    return locale if locale in LOCALES else fallback_locale(request)


def resolve_locale(request: Request, person: Person | None) -> str:
    """Pages: a language picked with the switch wins, then the person's own, then the
    browser's. API calls: the request's Accept-Language, then the person's own."""
    asked = requested_locale(request.headers.get("accept-language"))
    if asked and _is_api(request):
        return asked
    session = request.scope.get("session") or {}
    if session.get(LANG_KEY) in LOCALES:
        return session[LANG_KEY]
    if person is not None and person.locale in LOCALES:
        return person.locale
    return asked or app_settings(request).default_locale


@dataclass(frozen=True)
class Viewer:
    """A plain snapshot of the signed-in person for templates (safe after a rollback)."""

    id: int
    employee_no: str
    name: str
    name_en: str
    is_admin: bool
    is_hr: bool = False

    def display_name(self, locale: str) -> str:
        """The name in the reader's language."""
        return self.name if locale == "zh_CN" or not self.name_en else self.name_en


def holds_scope_role(db: Session, person_id: int) -> bool:
    """Whether the person holds HR's scope role anywhere (the dashboard is theirs)."""
    from sqlmodel import select

    from app.auth.web_sessions import known_scope_role

    known = known_scope_role(db, person_id)
    if known is not None:  # read with the session row
        return known

    from app.engine.access import SCOPE_ROLES
    from app.org.models import RoleAssignment

    found = db.exec(select(RoleAssignment.id).where(
        RoleAssignment.person_id == person_id, RoleAssignment.kind == "role",
        RoleAssignment.name.in_(SCOPE_ROLES)).limit(1)).first()
    return found is not None


def optional_user(request: Request, db: SessionDep) -> Person | None:
    """The signed-in person, or None; also fixes the request's locale."""
    from app.auth.identity import identify

    user_id = request.session.get(USER_KEY)
    person = identify(request, db, app_settings(request), USER_KEY)
    if person is not None and not person.active:
        person = None
    if person is None and user_id is not None:
        request.session.pop(USER_KEY, None)  # expired, revoked or unknown session
    request.state.user = (
        Viewer(person.id, person.employee_no, person.name, person.name_en, person.is_admin,
               holds_scope_role(db, person.id))
        if person is not None and person.id is not None
        else None
    )
    request.state.locale = resolve_locale(request, person)
    return person


OptionalUser = Annotated[Person | None, Depends(optional_user)]


# The dependencies below only look at values already computed: `async def` keeps them on the
# event loop instead of a thread-pool hop each (measurable on every POST, issue 21 item 3).
async def current_user(person: OptionalUser) -> Person:
    """The signed-in person; pages redirect to sign-in, the API answers 401."""
    if person is None:
        raise NotAuthenticated("Please sign in to continue.")
    return person


CurrentUser = Annotated[Person, Depends(current_user)]


async def request_locale(request: Request, _person: OptionalUser) -> str:
    """The reader's locale (zh_CN or en)."""
    return page_locale(request)


LocaleDep = Annotated[str, Depends(request_locale)]


async def request_gettext(locale: LocaleDep) -> Callable[[str], str]:
    """gettext in the reader's language, for messages built in Python."""
    return gettext_for(locale)


GettextDep = Annotated[Callable[[str], str], Depends(request_gettext)]


async def form_data(request: Request) -> dict[str, str]:
    """A posted form's text fields (the last value wins when a name repeats)."""
    form = await request.form()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


FormDep = Annotated[dict[str, str], Depends(form_data)]

# `?do=action-approve`: the form My work names, put first on the page it opens
DoQuery = Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9_-]+$")]


def report_session(request: Request, primary: SessionDep, user: CurrentUser
                   ) -> Iterator[Session]:
    """A read-only session for a report (dashboard, lists, exports): on the read replica when
    one answers and has the reader's own writes, else the request's session on the primary."""
    replica = reads.replica_engine(request)
    conn = reads.replica_connection(request, replica, user.id) if replica is not None else None
    if conn is None:
        if replica is not None:
            REPORT_READS.labels("primary").inc()
        yield primary
        return
    REPORT_READS.labels("replica").inc()
    try:
        with Session(bind=conn) as session:
            yield session
    finally:
        conn.close()


ReportSessionDep = Annotated[Session, Depends(report_session, scope="function")]
