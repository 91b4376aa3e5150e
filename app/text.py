"""Text that can be stored: what counts as a control character, for every way text comes in."""

from __future__ import annotations

import re

# C0 controls but tab, line feed and carriage return; DEL; C1 controls; lone surrogates (a
# JSON "\ud800" cannot be stored as UTF-8). NUL in particular is refused by PostgreSQL.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(text: str) -> bool:
    """Whether a text holds a character no form field or file cell should carry."""
    return CONTROL.search(text) is not None
