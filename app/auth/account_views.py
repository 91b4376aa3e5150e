"""Pages for personal API tokens and for resetting a forgotten password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import api_tokens, reset
from app.errors import TokenExpired, ValidationFailed
from app.i18n import N_, Message
from app.web.deps import CurrentUser, FormDep, GettextDep, OptionalUser, SessionDep
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)


def _tokens_page(request: Request, db: SessionDep, user: CurrentUser, *, secret: str = "",
                 error: str = "", field_errors: dict[str, str] | None = None,
                 form: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "auth/tokens.html", {
        "tokens": api_tokens.list_tokens(db, person=user), "secret": secret, "error": error,
        "field_errors": field_errors or {}, "form": form or {},
    }, status_code=status_code)


@router.get("/account/tokens")
def tokens(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """The reader's API tokens and a form to create one."""
    return _tokens_page(request, db, user)


@router.post("/account/tokens")
def create_token(request: Request, db: SessionDep, user: CurrentUser, form: FormDep,
                 gettext: GettextDep) -> Response:
    """Create a token and show its secret this once."""
    try:
        new = api_tokens.create_token(db, person=user, name=form.get("name", ""),
                                      scope=form.get("scope", ""))
    except ValidationFailed as exc:
        db.rollback()
        return _tokens_page(request, db, user, error=exc.text(gettext),
                            field_errors=exc.field_texts(gettext), form=form, status_code=422)
    return _tokens_page(request, db, user, secret=new.secret)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Revoke one of the reader's tokens."""
    api_tokens.revoke_token(db, person=user, token_id=token_id)
    flash(request, Message(N_("The token was revoked.")))
    return RedirectResponse("/account/tokens", status_code=303)


@router.get("/password/forgot")
def forgot_form(request: Request, user: OptionalUser) -> Response:
    """Ask for a password-reset link (only where mail goes out by an e-mail server)."""
    unavailable = not reset.reset_by_mail(request.app.state.settings)
    return render(request, "auth/forgot.html", {"sent": False, "unavailable": unavailable})


@router.post("/password/forgot")
def forgot(request: Request, db: SessionDep, form: FormDep) -> Response:
    """Record the request; the answer (and the work behind it) never tells whether the
    account exists."""
    settings = request.app.state.settings
    reset.request_reset(db, employee_no=form.get("username", "")[:60], settings=settings)
    return render(request, "auth/forgot.html",
                  {"sent": True, "unavailable": not reset.reset_by_mail(settings)})


@router.get("/password/reset/{token}")
def reset_form(token: str, request: Request, db: SessionDep, user: OptionalUser) -> Response:
    """The new-password form, if the link is still good."""
    reset.live_reset(db, token=token)
    return render(request, "auth/reset.html", {"token": token, "field_errors": {}, "error": ""})


@router.post("/password/reset/{token}")
def reset_password(token: str, request: Request, db: SessionDep, form: FormDep,
                   gettext: GettextDep) -> Response:
    """Set the new password; the link is used up and every session ends."""
    try:
        reset.complete_reset(db, token=token, password=form.get("password", ""),
                             repeat=form.get("repeat", ""), settings=request.app.state.settings)
    except ValidationFailed as exc:
        db.rollback()
        return render(request, "auth/reset.html", {
            "token": token, "error": exc.text(gettext), "field_errors": exc.field_texts(gettext),
        }, status_code=422)
    except TokenExpired:
        db.rollback()
        raise
    flash(request, Message(N_("Your password was changed. Sign in with the new one.")))
    return RedirectResponse("/login", status_code=303)
