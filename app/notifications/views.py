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


@router.get("/mailbox")
def mailbox(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> Response:
    """Administrators read the mail kept when no SMTP server is configured; the page says
    when mail waits (at night nothing is sent), and names people in the page's language."""
    messages = service.mailbox(db, viewer=user)
    waiting = service.mail_waiting(db, viewer=user, now=clock.now(),
                                   settings=request.app.state.settings)
    people = {m.recipient_id: db.get(Person, m.recipient_id) for m in messages}
    rows = [{"message": m, "to": person_name(people[m.recipient_id], locale)}
            for m in messages]
    return render(request, "notifications/mailbox.html", {"rows": rows, "waiting": waiting})


@router.get("/mailbox/{message_id}")
def mailbox_message(message_id: int, request: Request, db: SessionDep,
                    user: CurrentUser, locale: LocaleDep) -> Response:
    """One kept message, its links clickable."""
    message = service.mailbox_message(db, viewer=user, message_id=message_id)
    recipient = db.get(Person, message.recipient_id)
    return render(request, "notifications/mailbox_message.html", {
        "message": message, "to": person_name(recipient, locale),
        "body": linkify(message.body_text),
    })


@router.get("/outbox/failures")
def failures(request: Request, db: SessionDep, user: CurrentUser, locale: LocaleDep) -> Response:
    """HR and administrators see what could not be delivered and what waits for a retry."""
    messages = service.failures(db, viewer=user)
    people = {m.recipient_id: db.get(Person, m.recipient_id) for m in messages}
    rows = [{"message": m, "to": person_name(people[m.recipient_id], locale)}
            for m in messages]
    return render(request, "notifications/failures.html", {"rows": rows})


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
