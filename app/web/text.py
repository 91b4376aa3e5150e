"""Text inputs as the API documents and checks them: no control characters, and a required text
is not blank (the pattern is in the OpenAPI document, so clients and fuzzers know it)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from app.text import CONTROL_CLASS

# The control characters every request is checked for (app.text), and a stray BOM.
_BANNED = CONTROL_CLASS + r"\ufeff"
TEXT_PATTERN = rf"^[^{_BANNED}]*$"
FILLED_PATTERN = rf"^[^{_BANNED}]*[^\s{_BANNED}][^{_BANNED}]*$"

Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
FilledText = Annotated[str, StringConstraints(pattern=FILLED_PATTERN)]

# One value of an action's form or a declared fact: the JSON scalars its fields take (a text
# field stores 5 as "5"; objects and lists fit no field). The keys are checked like every text.
FormValue = Text | int | float | bool | None
