"""The mail templates' environment per language, and names as a recipient reads them."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.config import PROJECT_ROOT
from app.i18n import translations
from app.org.models import Person
from app.text import brackets, colon

TEMPLATES = PROJECT_ROOT / "templates"


@lru_cache
def environment(locale: str) -> Environment:
    """A template environment per language (gettext installed once, so threads never mix)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    # the reader's punctuation, as the pages use it ("打开事项：…", "Open the case: …")
    env.globals["colon"] = colon(locale)
    env.globals["aside_open"], env.globals["aside_close"] = brackets(locale)
    return env


def person_name(person: Person | None, locale: str) -> str:
    """A person's name in the reader's language."""
    if person is None:
        return ""
    return person.name if locale.startswith("zh") or not person.name_en else person.name_en
