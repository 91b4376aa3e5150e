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

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message in the reader's language, parameters filled in."""
        text = gettext(self.msgid) if gettext else self.msgid
        return text.format(**self.params) if self.params else text

    def __str__(self) -> str:
        return self.render()


@lru_cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue for a locale (English falls back to the msgids)."""
    if locale not in LOCALES:
        locale = LOCALES[0]
    return Translations.load(str(LOCALE_DIR), [locale], DOMAIN)


def gettext_for(locale: str) -> Callable[[str], str]:
    """A gettext function for one locale."""
    return translations(locale).gettext


def negotiate(accept_language: str | None, default: str) -> str:
    """Pick zh_CN or en from an Accept-Language header, else the default."""
    if not accept_language:
        return default
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, q = piece.partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        weighted.append((weight, tag.strip().lower()))
    for _weight, tag in sorted(weighted, key=lambda item: -item[0]):
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return default


def pick_label(labels: dict[str, str] | None, locale: str) -> str:
    """The label of a workflow item in the reader's language (YAML keys: en, zh)."""
    if not labels:
        return ""
    key = "zh" if locale.startswith("zh") else "en"
    return labels.get(key) or labels.get("en") or next(iter(labels.values()))
