"""Jinja2 pages: autoescaped, translated per request with the i18n extension."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from app import clock
from app.config import PROJECT_ROOT
from app.i18n import LOCALES, Message, translations
from app.text import brackets, colon, comma
from app.web.csrf import CSRF_FIELD, csrf_token
from app.web.deps import page_locale
from app.web.sessions import pop_flashes

TEMPLATES_DIR = PROJECT_ROOT / "templates"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


@pass_context
def _gettext(ctx: Context, message: str) -> str:
    """gettext bound to the rendering request's catalogue (see `render`)."""
    return ctx["translations"].gettext(message)


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    """ngettext bound to the rendering request's catalogue."""
    return ctx["translations"].ngettext(singular, plural, n)


@pass_context
def _csrf_field(ctx: Context) -> Markup:
    """The hidden CSRF input every POST form carries."""
    token = csrf_token(ctx["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


@pass_context
def _translate(ctx: Context, message: Message | str) -> str:
    """A Message (or msgid) in the reader's language."""
    gettext = ctx["translations"].gettext
    return message.render(gettext) if isinstance(message, Message) else gettext(message)


# Babel works out the pattern and the locale's names on every call: a list of 50 rows spent
# more time formatting its dates than in the rest of its template. A day or a minute is always
# written the same way in a language, so each is formatted once per process.
@lru_cache(maxsize=4096)
def _medium_date(day: date, locale: str) -> str:
    return format_date(day, "medium", locale=locale)


@lru_cache(maxsize=4096)
def _short_time(minute: time, locale: str) -> str:
    return format_time(minute, "short", locale=locale)


def local_datetime(value: datetime | None, locale: str = "en") -> str:
    """An instant in the organisation's timezone, formatted the reader's way (Babel)."""
    if value is None:
        return ""
    local = value.astimezone(clock.zone())
    return f"{_medium_date(local.date(), locale)} " \
           f"{_short_time(time(local.hour, local.minute), locale)}"


def local_date(value: datetime | date | str | None, locale: str = "en") -> str:
    """A date (or an instant's local date) formatted the reader's way (Babel)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.astimezone(clock.zone()).date()
    return _medium_date(value, locale)


@pass_context
def _datetime_filter(ctx: Context, value: datetime | None) -> str:
    return local_datetime(value, ctx.get("locale", "en"))


@pass_context
def _date_filter(ctx: Context, value: datetime | date | str | None) -> str:
    return local_date(value, ctx.get("locale", "en"))


@pass_context
def _number_filter(ctx: Context, value: float | int | None) -> str:
    """A number with the reader's grouping and decimal marks."""
    if value is None or value == "":
        return ""
    return format_decimal(value, locale=ctx.get("locale", "en"))


@pass_context
def _colon_global(ctx: Context) -> str:
    return colon(ctx.get("locale", "en"))


@pass_context
def _label_filter(ctx: Context, value: str) -> str:
    """A label followed by the reader's colon ("期间：", "Period: ")."""
    return (value if value is not None else "") + colon(ctx.get("locale", "en"))


@pass_context
def _bracketed_filter(ctx: Context, value: object) -> Markup:
    """An aside in the reader's brackets ("（时点）", " (point in time)"), its text escaped."""
    opening, closing = brackets(ctx.get("locale", "en"))
    return Markup("{}{}{}").format(opening, value, closing)


def _spaced_filter(value: str) -> str:
    """A label that ends in its own colon ("实际：", "actual:"), with the space a value needs
    after it: none after a full-width colon (it carries its own), one after ':'."""
    return value if value.endswith("：") else value + " "


@pass_context
def _brackets_global(ctx: Context) -> tuple[str, str]:
    """The reader's opening and closing bracket, for an aside that holds markup (a link)."""
    return brackets(ctx.get("locale", "en"))


@pass_context
def _comma_global(ctx: Context) -> str:
    return comma(ctx.get("locale", "en"))


def make_environment() -> Environment:
    """The one template environment: autoescape on, i18n extension, our filters."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "xml", "svg"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # same whitespace rule as babel.cfg extraction
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["csrf_field"] = _csrf_field
    env.globals["translate"] = _translate
    env.filters["localdatetime"] = _datetime_filter
    env.filters["localdate"] = _date_filter
    env.filters["number"] = _number_filter
    env.filters["label"] = _label_filter
    env.globals["colon"] = _colon_global
    env.filters["bracketed"] = _bracketed_filter
    env.filters["spaced"] = _spaced_filter
    env.globals["brackets"] = _brackets_global
    env.globals["comma"] = _comma_global
    return env


templates = Jinja2Templates(env=make_environment())


def language_links(request: Request, current: str) -> list[dict[str, Any]]:
    """Links that switch the language and stay on the same page."""
    links = []
    for locale in LOCALES:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        query.append(("lang", locale))
        links.append({
            "locale": locale,
            "name": LANGUAGE_NAMES[locale],
            "url": f"{request.url.path}?{urlencode(query)}",
            "current": locale == current,
        })
    return links


def base_context(request: Request) -> dict[str, Any]:
    """What every page needs: reader, locale, catalogue, flashes, language links."""
    locale = page_locale(request)
    return {
        "request": request,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "translations": translations(locale),
        "user": getattr(request.state, "user", None),
        "flashes": pop_flashes(request) if "session" in request.scope else [],
        "language_links": language_links(request, locale),
        "demo_mode": request.app.state.settings.demo_mode,
        "mailbox_open": request.app.state.settings.mail_transport == "mailbox",
    }


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page in the reader's language."""
    merged = base_context(request)
    merged.update(context or {})
    return templates.TemplateResponse(request, name, merged, status_code=status_code)
