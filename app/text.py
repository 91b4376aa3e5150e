"""Text that can be stored: what counts as a control character, for every way text comes in."""

from __future__ import annotations

import re

# C0 controls but tab, line feed and carriage return; DEL; C1 controls. Written as the body of a
# regex character class in the syntax Python and JSON Schema (ECMA-262) read alike, so that the
# OpenAPI document states the very rule the request check applies.
CONTROL_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Lone surrogates too: a JSON "\ud800" cannot be stored as UTF-8 (no valid Unicode text holds
# one, and no JSON Schema regex engine can name one). NUL in particular PostgreSQL refuses.
CONTROL = re.compile(rf"[{CONTROL_CLASS}\ud800-\udfff]")
# A text without control characters, as the OpenAPI document states it.
STORABLE_PATTERN = rf"^[^{CONTROL_CLASS}]*$"


def has_control_characters(text: str) -> bool:
    """Whether a text holds a character no form field or file cell should carry."""
    return CONTROL.search(text) is not None


def colon(locale: str | None) -> str:
    """The separator after a label: full-width in Chinese (no space after it), else ': '."""
    return "：" if _chinese(locale) else ": "


def _chinese(locale: str | None) -> bool:
    return (locale or "zh").startswith("zh")


def brackets(locale: str | None) -> tuple[str, str]:
    """Brackets around an aside: full-width in Chinese (no space before them), else ' (' ')'."""
    return ("（", "）") if _chinese(locale) else (" (", ")")


def comma(locale: str | None) -> str:
    """The comma between parts of an aside: full-width in Chinese, else ', '."""
    return "，" if _chinese(locale) else ", "
