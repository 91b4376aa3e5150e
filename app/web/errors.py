"""The one mapping of errors to responses: JSON under /api/, a readable page elsewhere."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.errors import DomainError, NotAuthenticated, error_body
from app.i18n import N_, gettext_for
from app.web.csrf import is_api
from app.web.deps import page_locale
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
UNEXPECTED = N_("Something went wrong on our side. The error has been logged; please try again.")


def error_page(request: Request, status_code: int, message: str) -> Response:
    """The HTML error page: a clear message, a way back, never a traceback."""
    return render(request, "errors/error.html", {"status_code": status_code, "message": message},
                  status_code=status_code)


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    """Domain errors: status from the error class, message in the reader's language."""
    assert isinstance(exc, DomainError)
    gettext = gettext_for(page_locale(request))
    if is_api(request):
        return JSONResponse(error_body(exc, gettext), status_code=exc.status_code)
    if isinstance(exc, NotAuthenticated):
        return _login_redirect(request)
    return error_page(request, exc.status_code, exc.text(gettext))


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Framework errors (unknown address, wrong method) in the same two shapes."""
    assert isinstance(exc, StarletteHTTPException)
    gettext = gettext_for(page_locale(request))
    text = gettext(HTTP_MESSAGES.get(exc.status_code, HTTP_MESSAGES[400]))
    if is_api(request):
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else text
        return JSONResponse({"detail": detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
    return error_page(request, exc.status_code, text)


def _problems(exc: RequestValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        out.append(f"{where or 'body'}: {error.get('msg', '')}")
    return out


async def handle_request_validation(request: Request, exc: Exception) -> Response:
    """Malformed input: 422 with a readable detail for the API; 404/400 pages for HTML."""
    assert isinstance(exc, RequestValidationError)
    gettext = gettext_for(page_locale(request))
    problems = _problems(exc)
    if is_api(request):
        detail = gettext("The request is not valid: {problems}").format(
            problems="; ".join(problems)
        )
        return JSONResponse({"detail": detail, "code": "request_invalid", "problems": problems},
                            status_code=422)
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return error_page(request, 404, gettext(HTTP_MESSAGES[404]))
    return error_page(request, 400, gettext(HTTP_MESSAGES[400]))


OUT_OF_RANGE = N_("A number in the request is out of range.")


async def handle_out_of_range(request: Request, exc: Exception) -> Response:
    """A value the database cannot store (an id or number beyond its range) is bad input."""
    gettext = gettext_for(page_locale(request))
    if is_api(request):
        return JSONResponse({"detail": gettext(OUT_OF_RANGE), "code": "request_invalid"},
                            status_code=422)
    return error_page(request, 400, gettext(OUT_OF_RANGE))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Anything else: log it with its traceback, show the reader only a calm message."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    gettext = gettext_for(page_locale(request))
    if is_api(request):
        return JSONResponse({"detail": gettext(UNEXPECTED), "code": "server_error"},
                            status_code=500)
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
