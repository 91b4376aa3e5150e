"""The one mapping of errors to responses: problem details for the API, pages elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match

from app.errors import DomainError, ImportFailed, NotAuthenticated, ValidationFailed
from app.i18n import N_, gettext_for
from app.web.csrf import is_api
from app.web.deps import page_locale
from app.web.input import message_for
from app.web.schemas import PROBLEM_MEDIA_TYPE, PROBLEM_TITLES, problem_type
from app.web.templating import render

log = logging.getLogger("stepwise.web")

HTTP_MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Please sign in to continue."),
    403: N_("You may not see this page."),
    404: N_("The page you asked for does not exist, or you may not see it."),
    405: N_("This address does not accept that kind of request."),
    413: N_("What you sent is too large."),
    422: N_("The request could not be understood."),
}
HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "not_allowed", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 422: "request_invalid"}
UNEXPECTED = N_("Something went wrong on our side. The error has been logged; please try again.")
OUT_OF_RANGE = N_("A number in the request is out of range.")


def problem(request: Request, status: int, code: str, detail: str, *,
            errors: dict[str, str] | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """An RFC 9457 problem response in the reader's language."""
    gettext = gettext_for(page_locale(request))
    title = PROBLEM_TITLES.get(code, (status, ""))[1]
    body = {"type": problem_type(code), "title": gettext(title) if title else detail,
            "status": status, "detail": detail, "code": code, "instance": request.url.path,
            "errors": errors or {}, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=headers)


# What a form says above its marked fields; an API client has no marks, so it gets the list.
SCREEN_WORDING = frozenset({"Please correct the marked fields."})
FIELDS_DETAIL = N_("Some fields are not valid: {problems}")


def api_detail(exc: DomainError, errors: dict[str, str] | None,
               gettext: Callable[[str], str]) -> str:
    """A domain error's detail for an API client: the fields themselves instead of words that
    point at marks on a page."""
    if errors and exc.message.msgid in SCREEN_WORDING:
        return gettext(FIELDS_DETAIL).format(
            problems="; ".join(f"{name}: {text}" for name, text in errors.items()))
    return exc.text(gettext)


def error_page(request: Request, status_code: int, message: str) -> Response:
    """The HTML error page: a clear message, a way back, never a traceback."""
    return render(request, "errors/error.html", {"status_code": status_code, "message": message},
                  status_code=status_code)


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def _gettext(request: Request) -> Callable[[str], str]:
    return gettext_for(page_locale(request))


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    """Domain errors: status from the error class, message in the reader's language."""
    assert isinstance(exc, DomainError)
    gettext = _gettext(request)
    if is_api(request):
        extra: dict[str, Any] = {}
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        if isinstance(exc, ImportFailed):
            extra["rejected"] = [{"line": line, "problem": str(why)}
                                 for line, why in exc.rejected]
        errors = exc.field_texts(gettext) if isinstance(exc, ValidationFailed) else None
        return problem(request, exc.api_status, exc.code, api_detail(exc, errors, gettext),
                       errors=errors, headers=headers, **extra)
    if isinstance(exc, NotAuthenticated):
        return _login_redirect(request)
    return error_page(request, exc.status_code, exc.text(gettext))


def _flat(routes: list[Any]) -> list[Any]:
    """The routes as Starlette matches them (included routers opened up)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += _flat(list(inner.routes)) if inner is not None else [route]
    return found


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (for the Allow header of a 405)."""
    methods: set[str] = set()
    for route in _flat(list(request.app.router.routes)):
        try:
            found, _ = route.matches(request.scope)
        except Exception:  # noqa: BLE001 - a route that cannot match this scope does not
            continue
        if found is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Framework errors (unknown address, wrong method) in the same two shapes."""
    assert isinstance(exc, StarletteHTTPException)
    gettext = _gettext(request)
    text = gettext(HTTP_MESSAGES.get(exc.status_code, HTTP_MESSAGES[400]))
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    if is_api(request):
        code = HTTP_CODES.get(exc.status_code, "bad_request")
        return problem(request, exc.status_code, code, text, headers=headers or None)
    response = error_page(request, exc.status_code, text)
    response.headers.update(headers)
    return response


def field_name(loc: tuple[Any, ...]) -> str:
    """A pydantic location as the caller named it: body.payload.reason -> payload.reason."""
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, parts = parts[0], parts[1:]
        if where == "header" and parts:
            parts[0] = "-".join(word.capitalize() for word in parts[0].split("-"))
    return ".".join(parts) or "body"


def field_errors(exc: RequestValidationError, gettext: Callable[[str], str]) -> dict[str, str]:
    """Each invalid field's message (the first one per field) in the reader's language."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        errors.setdefault(field_name(tuple(error.get("loc", ()))),
                          message_for(error).render(gettext))
    return errors


async def handle_request_validation(request: Request, exc: Exception) -> Response:
    """Malformed input: 422 with each field's message for the API; 404/400 pages for HTML."""
    assert isinstance(exc, RequestValidationError)
    gettext = _gettext(request)
    if is_api(request):
        errors = field_errors(exc, gettext)
        detail = gettext("The request is not valid: {problems}").format(
            problems="; ".join(f"{name}: {text}" for name, text in errors.items()))
        return problem(request, 422, "request_invalid", detail, errors=errors)
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return error_page(request, 404, gettext(HTTP_MESSAGES[404]))
    return error_page(request, 400, gettext(HTTP_MESSAGES[400]))


async def handle_out_of_range(request: Request, exc: Exception) -> Response:
    """A value the database cannot store (an id or number beyond its range) is bad input."""
    gettext = _gettext(request)
    if is_api(request):
        return problem(request, 422, "request_invalid", gettext(OUT_OF_RANGE))
    return error_page(request, 400, gettext(OUT_OF_RANGE))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Anything else: log it with its traceback, show the reader only a calm message."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    gettext = _gettext(request)
    if is_api(request):
        return problem(request, 500, "server_error", gettext(UNEXPECTED))
    try:
        return error_page(request, 500, gettext(UNEXPECTED))
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        return Response(gettext(UNEXPECTED), status_code=500, media_type="text/plain")


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on the app."""
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_request_validation)
    app.add_exception_handler(OverflowError, handle_out_of_range)  # SQLite: beyond 64 bits
    app.add_exception_handler(DataError, handle_out_of_range)  # PostgreSQL: beyond the column
    app.add_exception_handler(Exception, handle_unexpected)
