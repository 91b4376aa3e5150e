"""Signed cookie sessions, the language switch, and one-shot flash messages."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.i18n import LOCALES, Message

SESSION_COOKIE = "stepwise_session"
USER_KEY = "user_id"
USER_LOCALE_KEY = "user_locale"
LANG_KEY = "lang"
FLASH_KEY = "flash"


class LanguageSwitch:
    """Remembers `?lang=en` / `?lang=zh_CN` in the session (runs inside the session layer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            query = parse_qs(scope["query_string"].decode("latin-1"))
            lang = (query.get("lang") or [""])[-1]
            if lang in LOCALES and "session" in scope:
                scope["session"][LANG_KEY] = lang
        await self.app(scope, receive, send)


def install_sessions(app: FastAPI, settings: Settings) -> None:
    """Signed, HttpOnly, SameSite=Lax cookies; Secure in production."""
    app.add_middleware(LanguageSwitch)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.environment == "production",
    )


def sign_in(request: Request, person_id: int, locale: str) -> None:
    """Start a fresh session for a person (a new session id defeats session fixation)."""
    lang = request.session.get(LANG_KEY)
    request.session.clear()
    request.session[USER_KEY] = person_id
    request.session[USER_LOCALE_KEY] = locale
    if lang:
        request.session[LANG_KEY] = lang


def sign_out(request: Request) -> None:
    """Forget who is signed in, keeping only the chosen language."""
    lang = request.session.get(LANG_KEY)
    request.session.clear()
    if lang:
        request.session[LANG_KEY] = lang


def flash(request: Request, message: Message, kind: str = "success") -> None:
    """Show a message once on the next page (stored as a msgid, translated when shown)."""
    queue: list[dict[str, Any]] = list(request.session.get(FLASH_KEY, []))
    queue.append({"msgid": message.msgid, "params": message.params, "kind": kind})
    request.session[FLASH_KEY] = queue


def pop_flashes(request: Request) -> list[tuple[str, Message]]:
    """The waiting flash messages as (kind, Message), removed from the session."""
    if FLASH_KEY not in request.session:
        return []
    shown = []
    for item in request.session.pop(FLASH_KEY):
        msgid, params = item.get("msgid", ""), item.get("params") or {}
        shown.append((item.get("kind", "success"), Message(msgid, params)))
    return shown
