"""Text inputs as the API documents and checks them: no control characters, and a required text
is not blank (the pattern is in the OpenAPI document, so clients and fuzzers know it)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# C0 controls except tab, newline and carriage return; DEL and the C1 controls; a stray BOM.
_BANNED = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff"
TEXT_PATTERN = rf"^[^{_BANNED}]*$"
FILLED_PATTERN = rf"^[^{_BANNED}]*[^\s{_BANNED}][^{_BANNED}]*$"

Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
FilledText = Annotated[str, StringConstraints(pattern=FILLED_PATTERN)]
