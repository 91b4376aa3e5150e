"""Pages: the built-in mailbox, delivery problems, notification preferences, action links."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from app import clock
from app.i18n import Message
from app.notifications import link_pages, service
from app.notifications.outbox import set_digest, wants_digest
from app.org.models import Person
from app.web.deps import CurrentUser, FormDep, LocaleDep, SessionDep
from app.web.labels import person_name
from app.web.sessions import flash
from app.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(link_pages.router)

URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Plain text with its web addresses made clickable (everything else escaped)."""
    out: list[str] = []
    last = 0
    for match in URL.finditer(text):
        out.append(str(escape(text[last:match.start()])))
        url = escape(match.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))  # noqa: S704 - every piece was escaped above


def _rows(db: SessionDep, kept: list[service.KeptMail], locale: str) -> list[dict[str, object]]:
    people = {k.message.recipient_id: db.get(Person, k.message.recipient_id) for k in kept}
    return [{"message": k.message, "own": k.own,
             "to": person_name(people[k.message.recipient_id], locale)} for k in kept]


@router.get("/mailbox")
def mailbox(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> Response:
    """Demo mode: my mail, and mail about cases I may see (their links blanked out); the page
    says when mail waits (at night nothing is sent) and names people in the page's language."""
    settings = request.app.state.settings
    kept = service.mailbox(db, viewer=user, settings=settings)
    waiting = service.mail_waiting(db, viewer=user, now=clock.now(), settings=settings)
    return render(request, "notifications/mailbox.html",
                  {"rows": _rows(db, kept, locale), "waiting": waiting})


@router.get("/mailbox/{message_id}")
def mailbox_message(message_id: int, request: Request, db: SessionDep,
                    user: CurrentUser, locale: LocaleDep) -> Response:
    """One kept message, its links clickable (only the recipient's own links work)."""
    kept = service.mailbox_message(db, viewer=user, settings=request.app.state.settings,
                                   message_id=message_id)
    recipient = db.get(Person, kept.message.recipient_id)
    response = render(request, "notifications/mailbox_message.html", {
        "message": kept.message, "to": person_name(recipient, locale),
        "body": linkify(kept.message.body_text),
    })
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return response


@router.get("/outbox/failures")
def failures(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> Response:
    """What could not be delivered, or waits for a retry, as far as the reader may know."""
    kept = service.failures(db, viewer=user)
    return render(request, "notifications/failures.html", {"rows": _rows(db, kept, locale)})


@router.post("/outbox/{message_id}/retry")
def retry(message_id: int, request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """Try a message again at the next sweep."""
    service.retry(db, viewer=user, message_id=message_id, now=clock.now())
    flash(request, Message("The message will be sent again at the next run."))
    return RedirectResponse("/outbox/failures", status_code=303)


@router.get("/preferences")
def preferences(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    """How I want to hear from Stepwise."""
    default = request.app.state.settings.digest_default
    return render(request, "notifications/preferences.html",
                  {"daily_digest": wants_digest(db, user.id, default)})


@router.post("/preferences")
def save_preferences(request: Request, db: SessionDep, user: CurrentUser,
                     form: FormDep) -> Response:
    """Save the choice between single messages and one daily digest."""
    digest = form.get("daily_digest", "") in ("true", "on", "1", "yes")
    set_digest(db, person=user, daily_digest=digest, now=clock.now())
    flash(request, Message("Your preferences are saved."))
    return RedirectResponse("/preferences", status_code=303)
