"""Explanations in the reader's language: messages whose parameters may be bilingual labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.errors import DomainError, NotAllowed, ValidationFailed
from app.i18n import LOCALES, N_, Message, gettext_for, pick_label

# Units the rule files name by code, in words a reader of each language uses.
UNIT_WORDS: dict[str, dict[str, str]] = {"CNY": {"en": "CNY", "zh": "元"},
                                         "%": {"en": "%", "zh": "%"}}


def unit_word(unit: str, locale: str) -> str:
    """A unit as the reader writes it (CNY is 元 in Chinese); unknown units stay as written."""
    return pick_label(UNIT_WORDS[unit], locale) if unit in UNIT_WORDS else unit


def unit_after_number(unit: str) -> dict[str, str]:
    """The unit written after a number, as a bilingual label ("%" sticks to the number)."""
    words = UNIT_WORDS.get(unit, {"en": unit, "zh": unit})
    if not unit:
        return {"en": "", "zh": ""}
    return {lang: word if unit == "%" else f" {word}" for lang, word in words.items()}


def number(value: float | int | None) -> str:
    """A number as people write it: thousands separated, no trailing '.0'."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def localise(message: Message, locale: str) -> str:
    """A message in the reader's language; label parameters ({en, zh}) pick their language too."""
    gettext = gettext_for(locale)
    params: dict[str, Any] = {}
    for key, value in message.params.items():
        if isinstance(value, dict) and ("en" in value or "zh" in value):
            params[key] = pick_label(value, locale)
        elif isinstance(value, Message):
            params[key] = localise(value, locale)
        elif isinstance(value, list | tuple):
            params[key] = _join([_part(v, locale) for v in value], locale)
        else:
            params[key] = value
    return Message(message.msgid, params, message.plural).render(gettext)


def _join(parts: list[str], locale: str) -> str:
    """Items joined as a list ("A、B" / "A, B"); whole sentences one after the other."""
    zh = locale.startswith("zh")
    if parts and all(p.rstrip().endswith((".", "。", "！", "?", "？")) for p in parts):
        return ("" if zh else " ").join(p.strip() for p in parts)
    return ("、" if zh else ", ").join(parts)


def _part(value: Any, locale: str) -> str:
    if isinstance(value, Message):
        return localise(value, locale)
    if isinstance(value, dict):
        return pick_label(value, locale)
    return str(value)


def as_data(message: Message) -> dict[str, Any]:
    """A message as JSON-able data (msgid and parameters), to store a snapshot of a decision."""
    return {"msgid": message.msgid,
            "params": {k: _data(v) for k, v in message.params.items()}}


def _data(value: Any) -> Any:
    if isinstance(value, Message):
        return as_data(value)
    if isinstance(value, list | tuple):
        return [_data(v) for v in value]
    return value


def from_data(data: dict[str, Any]) -> Message:
    """A stored message back as a Message."""
    params = {k: _undata(v) for k, v in (data.get("params") or {}).items()}
    return Message(str(data.get("msgid", "")), params)


def _undata(value: Any) -> Any:
    if isinstance(value, dict) and "msgid" in value:
        return from_data(value)
    if isinstance(value, list):
        return [_undata(v) for v in value]
    return value


def locale_of(gettext: Callable[[str], str] | None) -> str:
    """The locale a gettext function belongs to (English when unknown)."""
    if gettext is None:
        return "en"
    for locale in LOCALES:
        if gettext == gettext_for(locale):
            return locale
    return "en"


class Localised(DomainError):
    """A domain error whose message may carry bilingual labels; rendered with `localise`."""

    def text(self, gettext: Callable[[str], str] | None = None) -> str:
        """The message in the reader's language, labels included."""
        return localise(self.message, locale_of(gettext))

    def __str__(self) -> str:
        return self.text()


class RuleRefused(Localised, ValidationFailed):
    """A rule refused the input: 422 with the reason, and per-field reasons where known."""

    def field_texts(self, gettext: Callable[[str], str] | None = None) -> dict[str, str]:
        """Each field's reason in the reader's language."""
        locale = locale_of(gettext)
        return {name: localise(msg, locale) for name, msg in self.field_errors.items()}


class RuleForbids(Localised, NotAllowed):
    """A rule forbids the action for this person now (window closed, not eligible): 403."""


FIRST_YEAR, LAST_YEAR = 2000, 2100  # the assessment years the product keeps


def require_year(year: int) -> int:
    """An assessment year in the range kept (a path like /outcomes/99999 is refused, 422)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise RuleRefused(N_("There is no assessment year {year}: years run from {first} "
                             "to {last}."), field_errors={"year": Message(
                              "Enter a year from {first} to {last}.",
                              {"first": FIRST_YEAR, "last": LAST_YEAR})},
                          year=year, first=FIRST_YEAR, last=LAST_YEAR)
    return year
