"""Translations: Babel catalogues for zh_CN and en, and messages translated when shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALES = ("zh_CN", "en")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


@dataclass(frozen=True)
class Message:
    """A msgid with its parameters, translated only when a reader is known."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str = ""  # the plural msgid ("{n} plans"): params["n"] picks the form

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message in the reader's language, parameters filled in.

        A parameter given as a workflow label ({"en": …, "zh": …}) is shown in the reader's
        language too (the locale travels on gettext functions made by `gettext_for`).
        """
        if self.plural:
            n = int(self.params.get("n") or 0)
            ngettext = _ngettext_of(gettext)
            text = ngettext(self.msgid, self.plural, n) if ngettext \
                else (self.msgid if n == 1 else self.plural)
        else:
            text = gettext(self.msgid) if gettext else self.msgid
        if not self.params:
            return text
        locale = getattr(gettext, "locale", "en")
        params = {key: pick_label(value, locale) if _is_label(value) else value
                  for key, value in self.params.items()}
        return text.format(**params)

    def __str__(self) -> str:
        return self.render()


def plural_message(singular: str, plural: str, n: int, **params: Any) -> Message:
    """A message with singular and plural forms, chosen by n (extracted as ngettext is)."""
    return Message(singular, {"n": n, **params}, plural)


def _ngettext_of(gettext: Callable[[str], str] | None) -> Callable[[str, str, int], str] | None:
    """The ngettext that goes with a gettext function (ours, or a catalogue's bound method)."""
    found = getattr(gettext, "ngettext", None) or getattr(
        getattr(gettext, "__self__", None), "ngettext", None)
    return found if callable(found) else None


@lru_cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue for a locale (English falls back to the msgids)."""
    if locale not in LOCALES:
        locale = LOCALES[0]
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


class Gettext:
    """gettext for one locale that also says which locale it is."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else LOCALES[0]
        self._gettext = translations(self.locale).gettext
        self.ngettext = translations(self.locale).ngettext

    def __call__(self, message: str) -> str:
        return self._gettext(message)


@lru_cache
def gettext_for(locale: str) -> Gettext:
    """A gettext function for one locale."""
    return Gettext(locale)


def _is_label(value: Any) -> bool:
    return isinstance(value, dict) and ("en" in value or "zh" in value)


def requested_locale(accept_language: str | None) -> str | None:
    """zh_CN or en as an Accept-Language header asks (highest weight first), or None."""
    weighted: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, q = piece.partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if weight > 0:
            weighted.append((weight, tag.strip().lower()))
    for _weight, tag in sorted(weighted, key=lambda item: -item[0]):
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return None


def negotiate(accept_language: str | None, default: str) -> str:
    """Pick zh_CN or en from an Accept-Language header, else the default."""
    return requested_locale(accept_language) or default


def pick_label(labels: dict[str, str] | None, locale: str) -> str:
    """The label of a workflow item in the reader's language (YAML keys: en, zh)."""
    if not labels:
        return ""
    key = "zh" if locale.startswith("zh") else "en"
    return labels.get(key) or labels.get("en") or next(iter(labels.values()))
